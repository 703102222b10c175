"""The operators' batch endpoints: book, move, change and cancel reservations from the calendar, list the batches
applied, read one, and undo one.

Each act is a batch of the same domain service the system agent's tools call (`SystemAgentBatchService`), as the
operator: their capacity, their signature in the batch record (the principal the guard let in). The items are read
with the tools' own item models (a malformed one refuses the request, naming its field, before anything is run or
recorded); the service then applies the clinic's rules to each (an item the calendar refuses fails alone, with its
sentence). A batch past the confirmation limits answers `needs_confirmation` with a token: the same body sent again
with that token, once the operator agreed, applies exactly the previewed change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from chat_bridge.calendar_routes import batch_response, operator_options, parsed
from chat_bridge.principals import principal_of
from chat_bridge.routes import RequestError, read_json
from chat_bridge.state import State
from domain.staff.roles import Principal
from domain.system_agent.batch import BatchOptions
from domain.system_agent.history import MAX_LISTED, recent_batches
from domain.system_agent.undo import batch_key
from domain.system_agent.requests import BatchItem, CancelItem, ModifyItem, ReserveItem

MAX_REQUESTS = 50  # items of one batch from the console: a calendar act, not a bulk import
DEFAULT_LISTED = 20


class BatchRequest(BaseModel):
    """The options every batch from the console takes."""

    model_config = ConfigDict(extra="forbid")

    requests: Sequence[BatchItem]  # each endpoint's own item model
    dry_run: bool = False
    idempotency_key: str | None = Field(default=None, max_length=128)
    confirmation_token: str | None = Field(default=None, max_length=2000)
    ar: bool = False  # the answer's sentences (refusals, the summary) in Arabic

    def options(self, principal: Principal) -> BatchOptions:
        """The batch's options, signed by `principal`."""
        return operator_options(principal, **self.model_dump(exclude={"requests"}))

    def items(self) -> list[dict[str, Any]]:
        """The items as the plain JSON the service reads and records, with the fields the operator set (as the
        tools pass theirs)."""
        return [item.model_dump(exclude_unset=True) for item in self.requests]


class ReserveRequest(BatchRequest):
    """`POST /batches/reserve`: the items (wa_id, date, time_slot, type, customer_name, hijri) and the options."""

    requests: Annotated[list[ReserveItem], Field(min_length=1, max_length=MAX_REQUESTS)]


class ModifyRequest(BatchRequest):
    """`POST /batches/modify`: the items (reservation_id or wa_id, new_date, new_time, new_type, ...), the options,
    and whether to tell the customers."""

    requests: Annotated[list[ModifyItem], Field(min_length=1, max_length=MAX_REQUESTS)]
    notify: bool = False


class CancelRequest(BatchRequest):
    """`POST /batches/cancel`: the items (reservation_id, or wa_id and date), the options, and whether to tell the
    customers."""

    requests: Annotated[list[CancelItem], Field(min_length=1, max_length=MAX_REQUESTS)]
    notify: bool = False


class UndoRequest(BaseModel):
    """`POST /batches/{batch_id}/undo`: whether to tell the customers, and the token once the operator agreed."""

    model_config = ConfigDict(extra="forbid")

    notify: bool = False
    confirmation_token: str | None = Field(default=None, max_length=2000)
    ar: bool = False


def batch_routes() -> list[BaseRoute]:
    return [
        Route("/batches", list_batches, methods=["GET"]),
        Route("/batches/reserve", reserve, methods=["POST"]),
        Route("/batches/modify", modify, methods=["POST"]),
        Route("/batches/cancel", cancel, methods=["POST"]),
        Route("/batches/{batch_id}", recorded, methods=["GET"]),
        Route("/batches/{batch_id}/undo", undo, methods=["POST"]),
    ]


async def reserve(request: Request[State]) -> JSONResponse:
    """Book each item with the operators' capacity (a customer's upcoming booking moves instead of doubling): the
    batch's answer, `status` applied, failed, dry_run or needs_confirmation (with `confirmation.token`)."""
    body = parsed(ReserveRequest, await read_json(request))
    options = body.options(principal_of(request.scope))
    return batch_response(await request.state["services"].batch.reserve(body.items(), options))


async def modify(request: Request[State]) -> JSONResponse:
    """Move reservations to another day or time, or change their type (each item by reservation_id): the batch's
    answer, as `reserve` gives it."""
    body = parsed(ModifyRequest, await read_json(request))
    options = body.options(principal_of(request.scope))
    return batch_response(await request.state["services"].batch.modify(requests=body.items(), options=options))


async def cancel(request: Request[State]) -> JSONResponse:
    """Cancel reservations (each item by reservation_id; a soft delete, undoable): the batch's answer."""
    body = parsed(CancelRequest, await read_json(request))
    options = body.options(principal_of(request.scope))
    return batch_response(await request.state["services"].batch.cancel(requests=body.items(), options=options))


async def undo(request: Request[State]) -> JSONResponse:
    """Revert an applied batch where the calendar still allows (an undo is a batch too, undoable itself): its
    answer; 404 for an unknown batch, 409 for one already undone. An empty body is `{}`."""
    body = parsed(UndoRequest, await read_json(request) if await request.body() else {})
    options = operator_options(principal_of(request.scope), **body.model_dump())
    return batch_response(await request.state["services"].batch.undo(request.path_params["batch_id"], options))


async def list_batches(request: Request[State]) -> JSONResponse:
    """The newest applied batches, newest first (`?limit=` 1 to 100, default 20; `?offset=`): who ran each, when,
    what it did, its counts and whether it can still be undone."""
    limit = count_param(request, "limit", DEFAULT_LISTED, least=1)
    offset = count_param(request, "offset", 0, least=0)
    services = request.state["services"]
    history = await recent_batches(services.db, services.config, min(limit, MAX_LISTED), offset)
    return JSONResponse(history.model_dump(mode="json"))


async def recorded(request: Request[State]) -> JSONResponse:
    """An applied batch as recorded: its answer, when it ran, whether it was undone, every reservation it changed
    (`changes`) and whom it messaged (`messaged`: the first 200, each notice's status); 404 for an unknown batch."""
    services = request.state["services"]
    batch = await services.batch.recorded(request.path_params["batch_id"])
    messaged = await services.notice_reports.recipients(batch_key(request.path_params["batch_id"]))
    return JSONResponse(dict(batch.model_dump(mode="json"), messaged=[m.model_dump() for m in messaged]))


def count_param(request: Request[State], name: str, default: int, least: int) -> int:
    """A whole-number query parameter of at least `least`, else a 422 naming it (the value is not echoed)."""
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or int(raw) < least:
        raise RequestError("invalid_parameter", f"{name} must be a whole number from {least}.")
    return int(raw)
