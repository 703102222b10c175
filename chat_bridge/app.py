"""The bridge's HTTP surface: its routes, guards and error handlers, over the state its process opens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp

from chat_bridge.attendance_routes import attendance_routes
from chat_bridge.batch_routes import batch_routes
from chat_bridge.calendar_routes import calendar_routes
from chat_bridge.notice_routes import notice_routes
from chat_bridge.waitlist_routes import waitlist_routes
from chat_bridge.routes import (RequestError, answer_confirmation, conversation, customer_names, domain_error, health,
                                realtime, receive_webhook, request_error, search_customers, send_message,
                                update_customer, verify_subscription)
from chat_bridge.logs import RequestIds
from chat_bridge.operations import BridgeMetrics, RequestMetrics, prometheus_metrics, readiness
from chat_bridge.roles import Forbidden, forbidden
from chat_bridge.security import CallerCheck, SameSiteGuard, StaffGuard
from chat_bridge.staff_routes import staff_routes
from chat_bridge.state import State
from domain.errors import DomainError

# Meta's deliveries and operators' messages are small; anything larger is refused (413) unread.
MAX_BODY_BYTES = 1024 * 1024

Lifespan = Callable[[Starlette], AbstractAsyncContextManager[State]]


def build_app(
    lifespan: Lifespan,
    *,
    operator_token: str | None,
    local_caller: CallerCheck,
    allowed_hosts: Sequence[str],
    allowed_origins: Sequence[str],
    extra_routes: Sequence[BaseRoute] = (),
    open_paths: Sequence[str] = (),
    mcp_app: ASGIApp | None = None,
    metrics: BridgeMetrics | None = None,
) -> Starlette:
    """The bridge's endpoints over the `State` that `lifespan` yields. Every path but the open ones (and
    `open_paths` among `extra_routes`) needs a signed-in staff member of the route's role, or `operator_token`, or
    without a token and without staff accounts a `local_caller` (`StaffGuard`). `allowed_hosts`: the Host values the
    service answers to; `allowed_origins`: the origins whose pages may call it besides the one a request was
    sent to. `mcp_app` is served at `/mcp`; its lifespan is the
    caller's to run inside `lifespan`. With `metrics`, every request is counted there. Every request gets a
    request id for the log lines it causes (`chat_bridge.logs`)."""
    guard = Middleware(StaffGuard, token=operator_token, local_caller=local_caller, open_paths=tuple(open_paths))
    counted = [Middleware(RequestMetrics, metrics=metrics)] if metrics is not None else []
    return Starlette(
        routes=[*bridge_routes(), *extra_routes, *mcp_routes(mcp_app)],
        middleware=[Middleware(RequestIds), *counted, Middleware(SameSiteGuard, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins),
                    guard],
        exception_handlers={RequestError: request_error, DomainError: domain_error, Forbidden: forbidden},
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )


def bridge_routes() -> list[BaseRoute]:
    return [
        Route("/health", health),
        Route("/ready", readiness),
        Route("/metrics", prometheus_metrics),
        Route("/whatsapp/message", send_message, methods=["POST"]),
        Route("/customers/names", customer_names),
        Route("/customers/search", search_customers),
        Route("/customers/{wa_id}", update_customer, methods=["PATCH"]),
        Route("/conversations/{wa_id}", conversation),
        Route("/confirmations/{confirmation_id}", answer_confirmation, methods=["POST"]),
        Route("/webhook", verify_subscription, methods=["GET"]),
        Route("/webhook", receive_webhook, methods=["POST"]),
        WebSocketRoute("/ws", realtime),
        *calendar_routes(),
        *batch_routes(),
        *attendance_routes(),
        *notice_routes(),
        *waitlist_routes(),
        *staff_routes(),
    ]


def mcp_routes(mcp_app: ASGIApp | None) -> list[BaseRoute]:
    """The MCP app at `/mcp` (`mcp_server.http.MCPHttpApp` serves that path itself)."""
    return [] if mcp_app is None else [Route("/mcp", endpoint=mcp_app, methods=["GET", "POST", "DELETE"])]
