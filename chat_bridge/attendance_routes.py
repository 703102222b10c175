"""The operators' attendance endpoint: mark bookings confirmed, arrived or no-show from the console.

A batch of the system agent's own service (`SystemAgentBatchService.mark_attendance`), as the operator: recorded,
listed in the batch history and undone by `POST /batches/{id}/undo` like the console's other acts. A body that is
not this model's is refused, naming its field, before anything runs; a mark the booking cannot take fails alone.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from chat_bridge.calendar_routes import batch_response, operator_options, parsed
from chat_bridge.principals import principal_of
from chat_bridge.routes import read_json
from chat_bridge.state import State
from domain.system_agent.marking import AttendanceFilters
from domain.system_agent.requests import ReservationId

MAX_MARKED = 200  # reservations named by one act of the console: a day's bookings


class AttendanceRequest(BaseModel):
    """`POST /attendance`: the mark, the reservations (by id, or the filters: a day, a slot, their current
    attendance), and the batch options."""

    model_config = ConfigDict(extra="forbid")

    mark: Literal["confirmed", "arrived", "no_show"]
    reservation_ids: Annotated[list[ReservationId], Field(min_length=1, max_length=MAX_MARKED)] | None = None
    filters: AttendanceFilters | None = None
    dry_run: bool = False
    idempotency_key: str | None = Field(default=None, max_length=128)
    confirmation_token: str | None = Field(default=None, max_length=2000)
    ar: bool = False


def attendance_routes() -> list[BaseRoute]:
    return [Route("/attendance", mark_attendance, methods=["POST"])]


async def mark_attendance(request: Request[State]) -> JSONResponse:
    """Mark the bookings: the batch's answer, `status` applied, failed, dry_run or needs_confirmation (with
    `confirmation.token`); its `batch_id` undoes it."""
    body = parsed(AttendanceRequest, await read_json(request))
    options = operator_options(principal_of(request.scope),
                               **body.model_dump(exclude={"mark", "reservation_ids", "filters"}))
    filters = body.filters.model_dump(exclude_unset=True) if body.filters is not None else None
    report = await request.state["services"].batch.mark_attendance(body.mark, body.reservation_ids, filters, options)
    return batch_response(report)
