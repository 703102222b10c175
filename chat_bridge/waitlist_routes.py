"""The operators' waitlist endpoints: list the entries and open offers, put a customer on the waitlist, remove an
entry. Behind the same guards as every operator endpoint (`SameSiteGuard`, `StaffGuard`); each is one call of
`WaitlistService`, its refusals the domain's errors (422, 404, 409)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from chat_bridge.calendar_routes import parsed
from chat_bridge.principals import principal_of
from chat_bridge.routes import RequestError, read_json
from chat_bridge.state import State
from domain.staff.roles import signed
from domain.system_agent.requests import MAX_ID, NotBoolean
from domain.waitlist.rules import MAX_TIMES, WAITING

STATUSES = ("waiting", "booked", "removed", "expired", "all")


class JoinRequest(BaseModel):
    """`POST /waitlist`: who, the days (YYYY-MM-DD), the start times (none: any) and the type (none: any)."""

    model_config = ConfigDict(extra="forbid")

    wa_id: str = Field(max_length=40)
    start_date: str = Field(max_length=40)
    end_date: str = Field(max_length=40)
    times: Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=MAX_TIMES)] | None = None
    type: Annotated[int, Field(ge=0, le=MAX_ID), NotBoolean] | None = None
    customer_name: str | None = Field(default=None, max_length=200)


def waitlist_routes() -> list[BaseRoute]:
    return [
        Route("/waitlist", list_waitlist, methods=["GET"]),
        Route("/waitlist", join_waitlist, methods=["POST"]),
        Route("/waitlist/{entry_id:int}", remove_entry, methods=["DELETE"]),
    ]


async def list_waitlist(request: Request[State]) -> JSONResponse:
    """The entries (`?status=` waiting by default, or booked, removed, expired, all; `?wa_id=` one customer's),
    newest first, and the open offers."""
    status = request.query_params.get("status", WAITING)
    if status not in STATUSES:
        raise RequestError("invalid_parameter", f"status must be one of {', '.join(STATUSES)}.")
    wa_id = request.query_params.get("wa_id") or None
    listing = await request.state["services"].waitlist.listing(wa_id, None if status == "all" else status)
    return JSONResponse(listing.model_dump(mode="json"))


async def join_waitlist(request: Request[State]) -> JSONResponse:
    """Put a customer on the waitlist (201), or update their overlapping waiting entry (200): `action` says which."""
    body = parsed(JoinRequest, await read_json(request))
    principal = principal_of(request.scope)
    signature = signed(principal, principal.actor)
    result = await request.state["services"].waitlist.join(
        body.wa_id, body.start_date, body.end_date, body.times, body.type, author=signature.actor,
        customer_name=body.customer_name, role=signature.role)
    return JSONResponse(result.model_dump(mode="json"), status_code=201 if result.action == "joined" else 200)


async def remove_entry(request: Request[State]) -> JSONResponse:
    """Take a waiting entry off the waitlist; 404 when none waits by that id."""
    principal = principal_of(request.scope)
    entry = await request.state["services"].waitlist.remove(request.path_params["entry_id"],
                                                            signed(principal, principal.actor))
    return JSONResponse({"removed": entry.model_dump(mode="json")})
