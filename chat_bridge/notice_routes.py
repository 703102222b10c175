"""The operators' decisions on notices whose send is unsure (a send began and WhatsApp never answered, so it
may or may not have reached the customer): send it again, or dismiss it. Nothing else sends such a notice."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from chat_bridge.events import notice_event
from chat_bridge.principals import principal_of
from chat_bridge.state import State
from domain.notices.outbox import Settled
from domain.staff.roles import Signature, signed

logger = logging.getLogger(__name__)


def notice_routes() -> list[BaseRoute]:
    return [
        Route("/notices/{notice_id:int}/resend", resend, methods=["POST"]),
        Route("/notices/{notice_id:int}/dismiss", dismiss, methods=["POST"]),
    ]


async def resend(request: Request[State]) -> JSONResponse:
    """Queue an unsure notice again, to be sent at once (the customer may get it twice): the notice's new
    status; 409 when it is not unsure, 404 when there is no such notice."""
    settled = await request.state["services"].notice_statuses.resend(request.path_params["notice_id"],
                                                                     signature(request))
    request.state["notices"].wake()
    return await decided(request, settled)


async def dismiss(request: Request[State]) -> JSONResponse:
    """Send an unsure notice no more (`dismissed`): the notice's new status; 409 when it is not unsure."""
    statuses = request.state["services"].notice_statuses
    return await decided(request, await statuses.dismiss(request.path_params["notice_id"], signature(request)))


def signature(request: Request[State]) -> Signature:
    """The decision's signature: the person in the console."""
    principal = principal_of(request.scope)
    return signed(principal, principal.actor)


async def decided(request: Request[State], settled: Settled) -> JSONResponse:
    logger.info("an operator decided unsure notice %d: now %s", settled.notice_id, settled.status)
    await request.state["hub"].publish(notice_event(settled.notice_id, settled.batch_id, settled.status))
    return JSONResponse({"notice_id": settled.notice_id, "status": settled.status})
