"""The console's sign-in, sign-out and who is signed in (`/session`), and the admins' reads of the staff accounts
and the audit log (`/staff`, `/audit`).

Sign-in is a JSON POST, so `SameSiteGuard` refuses it from another site's page (no login CSRF), and every sign-in
issues a new session secret: a cookie planted before it is never adopted (no session fixation)."""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from chat_bridge.calendar_routes import parsed
from chat_bridge.principals import PRINCIPAL_KEY, SESSION_COOKIE, clear_session_cookie, set_session_cookie
from chat_bridge.routes import RequestError, int_param, read_json
from chat_bridge.state import State
from domain.errors import error_body
from domain.services import Services
from domain.staff.accounts import SignInThrottled
from domain.staff.audit import OK, REFUSED
from domain.staff.passwords import MAX_LENGTH
from domain.staff.roles import Principal, Role

MAX_USERNAME = 100  # longer than any account's name (64) may be before it is folded, far below a body's size
OUTCOMES = (OK, REFUSED, "failed")
Mode = Literal["staff", "token", "local"]


class SignInRequest(BaseModel):
    """`POST /session`: a staff member's username and password."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=MAX_USERNAME)
    password: str = Field(min_length=1, max_length=MAX_LENGTH)


class SignedInUser(BaseModel):
    username: str
    display_name: str
    role: Role


class SessionView(BaseModel):
    """Who the console acts as: a staff member (`staff`), or the one operator of the token or local mode."""

    user: SignedInUser
    mode: Mode


def staff_routes() -> list[BaseRoute]:
    return [
        Route("/session", signed_in, methods=["GET"]),
        Route("/session", sign_in, methods=["POST"]),
        Route("/session", sign_out, methods=["DELETE"]),
        Route("/staff", staff_accounts, methods=["GET"]),
        Route("/audit", audit_lines, methods=["GET"]),
    ]


async def signed_in(request: Request[State]) -> JSONResponse:
    """Who this request acts as; 401 when nobody (sign in first)."""
    principal = request.scope.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        return JSONResponse(error_body("unauthorized", "Nobody is signed in: sign in with your username and "
                                                       "password."), status_code=401)
    return JSONResponse((await session_view(request.state["services"], principal)).model_dump(mode="json"))


async def sign_in(request: Request[State]) -> JSONResponse:
    """`{username, password}`: 200 with the user and a new session cookie; 422 `sign_in_refused` whatever was
    wrong; 429 with `Retry-After` after too many refusals for that name or from that address."""
    body = parsed(SignInRequest, await read_json(request))
    services = request.state["services"]
    address = request.client.host if request.client else None
    try:
        principal = await services.staff.sign_in(body.username, body.password, address)
    except SignInThrottled as throttled:
        sentence = f"Too many refused sign-ins: try again in {throttled.retry_after // 60} minutes."
        return JSONResponse(error_body("sign_in_throttled", sentence, retry_after=throttled.retry_after),
                            status_code=429, headers={"Retry-After": str(throttled.retry_after)})
    response = JSONResponse((await session_view(services, principal)).model_dump(mode="json"))
    set_session_cookie(response, await services.sessions.begin(principal), secure=secure_site(request),
                       max_age=int(services.sessions.lifetime.total_seconds()))
    return response


async def sign_out(request: Request[State]) -> JSONResponse:
    """End this browser's session (if it has one) and drop its cookie."""
    services = request.state["services"]
    secret = request.cookies.get(SESSION_COOKIE, "")
    if secret and (principal := await services.sessions.principal(secret)) is not None:
        await services.sessions.end(secret, principal)
    response = JSONResponse({"signed_out": True})
    clear_session_cookie(response, secure=secure_site(request))
    return response


async def staff_accounts(request: Request[State]) -> JSONResponse:
    """Every staff account (admins only)."""
    listed = await request.state["services"].staff.listed()
    return JSONResponse({"staff": [user.model_dump(mode="json") for user in listed]})


async def audit_lines(request: Request[State]) -> JSONResponse:
    """The audit log, newest first (admins only): `?limit=` (at most 200), `?before=<id>` for the page after,
    `?actor=`, `?outcome=ok|refused|failed`; `next_before` fetches the next page."""
    limit = max(1, min(int_param(request, "limit", 50) or 50, 200))
    outcome = request.query_params.get("outcome") or None
    if outcome is not None and outcome not in OUTCOMES:
        raise RequestError("invalid_parameter", f"outcome must be one of {', '.join(OUTCOMES)}.")
    lines = await request.state["services"].audit.recent(limit, int_param(request, "before", None),
                                                         request.query_params.get("actor") or None, outcome)
    return JSONResponse({"lines": [line.model_dump(mode="json") for line in lines],
                         "next_before": lines[-1].id if len(lines) == limit else None})


async def session_view(services: Services, principal: Principal) -> SessionView:
    if principal.via != "staff":
        mode: Mode = "local" if principal.via == "local" else "token"
        return SessionView(user=SignedInUser(username=principal.name, display_name=principal.name,
                                             role=principal.role), mode=mode)
    account = next((user for user in await services.staff.listed() if user.username == principal.name), None)
    name = account.display_name if account is not None else principal.name
    return SessionView(user=SignedInUser(username=principal.name, display_name=name, role=principal.role),
                       mode="staff")


def secure_site(request: Request[State]) -> bool:
    """Whether the session cookie must travel over HTTPS only: always but on plain HTTP to a loopback Host."""
    if request.url.scheme in ("https", "wss"):
        return True
    host = urlsplit(f"//{request.headers.get('host', '')}").hostname or ""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True
