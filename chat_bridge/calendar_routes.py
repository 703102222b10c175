"""The operators' calendar endpoints: closures (close, list, reopen), a booking made from the calendar, and a
reservation's history.

Each is the same domain verb the system agent's tools call, as the operator (their capacity, their signature in
the batch record and the audit log: the principal the guard let in): a closure is a batch, previewed, confirmed and
undoable like any other.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from chat_bridge.principals import principal_of
from chat_bridge.routes import RequestError, read_json
from chat_bridge.state import State
from domain.config import BookingSource
from domain.rules.schedule import clinic_today
from domain.staff.roles import Principal, signed
from domain.system_agent.batch import BatchOptions, BatchReport
from domain.system_agent.requests import NotBoolean

Model = TypeVar("Model", bound=BaseModel)


class ClosureRequest(BaseModel):
    """`POST /closures`: the days, the title and the batch options."""

    model_config = ConfigDict(extra="forbid")

    start_date: str = Field(max_length=40)
    end_date: str | None = Field(default=None, max_length=40)
    title: str = Field(min_length=1, max_length=200)
    from_time: str | None = Field(default=None, max_length=40)
    to_time: str | None = Field(default=None, max_length=40)
    hijri: bool = False
    dry_run: bool = False
    notify: bool = False
    idempotency_key: str | None = Field(default=None, max_length=128)
    confirmation_token: str | None = Field(default=None, max_length=2000)
    ar: bool = False  # the answer's sentences in Arabic


class BookingRequest(BaseModel):
    """`POST /reservations`: one booking from the operators' calendar."""

    model_config = ConfigDict(extra="forbid")

    wa_id: str = Field(max_length=40)
    date: str = Field(max_length=40)
    time_slot: str = Field(max_length=40)
    reservation_type: Annotated[int, Field(ge=0, le=1000), NotBoolean] = 0
    customer_name: str | None = Field(default=None, max_length=200)
    hijri: bool = False


def calendar_routes() -> list[BaseRoute]:
    return [
        Route("/closures", list_closures, methods=["GET"]),
        Route("/closures", close_days, methods=["POST"]),
        Route("/closures/{closure_id:int}", reopen_days, methods=["DELETE"]),
        Route("/reservations", book, methods=["POST"]),
        Route("/reservations/{reservation_id:int}/history", reservation_history, methods=["GET"]),
    ]


async def list_closures(request: Request[State]) -> JSONResponse:
    """The closures whose last day is today or later (`?all=true`: every one), in date order."""
    services = request.state["services"]
    everything = request.query_params.get("all", "").lower() in ("1", "true")
    since = None if everything else clinic_today(services.config, services.clock())
    return JSONResponse({"closures": [c.model_dump() for c in await services.vacations.list(ending_from=since)]})


async def close_days(request: Request[State]) -> JSONResponse:
    """Close the clinic for the days and cancel their bookings: the batch's answer (`status` applied, dry_run or
    needs_confirmation with a token to send back once the operator agreed)."""
    body = parsed(ClosureRequest, await read_json(request))
    options = operator_options(principal_of(request.scope), dry_run=body.dry_run, notify=body.notify,
                               idempotency_key=body.idempotency_key, confirmation_token=body.confirmation_token,
                               ar=body.ar)
    report = await request.state["services"].batch.close(body.start_date, body.end_date, body.title, body.hijri,
                                                         options, hours=(body.from_time, body.to_time))
    return batch_response(report)


async def reopen_days(request: Request[State]) -> JSONResponse:
    """Remove a closure; its days can be booked again."""
    options = operator_options(principal_of(request.scope))
    report = await request.state["services"].batch.reopen(request.path_params["closure_id"], options)
    return batch_response(report)


async def book(request: Request[State]) -> JSONResponse:
    """Book a slot from the calendar, with the operators' capacity; refused (409) on a closed day, a full slot."""
    body = parsed(BookingRequest, await read_json(request))
    principal = principal_of(request.scope)
    result = await request.state["services"].reservations.reserve(
        body.wa_id, body.date, body.time_slot, body.reservation_type, body.customer_name,
        source=BookingSource.OPERATOR, hijri=body.hijri, by=signed(principal, principal.actor))
    return JSONResponse(result.model_dump(mode="json"), status_code=201)


async def reservation_history(request: Request[State]) -> JSONResponse:
    """When a reservation was made and by whom, and each change since (moved, cancelled, marked, restored by an
    undo), each with when and who signed it, oldest first; 404 when there is no such reservation."""
    history = await request.state["services"].queries.reservation_history(request.path_params["reservation_id"])
    return JSONResponse(history.model_dump(mode="json"))


def operator_options(principal: Principal, **values: Any) -> BatchOptions:
    """A console act's options: the operators' capacity, signed by the person in the console."""
    signature = signed(principal, principal.actor)
    return BatchOptions(actor=signature.actor, role=signature.role, source=BookingSource.OPERATOR, **values)


def batch_response(report: BatchReport) -> JSONResponse:
    return JSONResponse(report.to_dict(), status_code=200)


def parsed(model: type[Model], body: dict[str, Any]) -> Model:
    """The body as `model`, else a 422 naming the first field that is wrong."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        problem = error.errors(include_url=False)[0]
        where = ".".join(_named(str(p)) for p in problem["loc"]) or "body"
        raise RequestError("invalid_body", f"{where}: {problem['msg']}.") from None


FIELD_SHOWN = 40  # characters of a field's name an answer repeats: a hostile one may be any length


def _named(part: str) -> str:
    return part if len(part) <= FIELD_SHOWN else part[:FIELD_SHOWN] + "…"
