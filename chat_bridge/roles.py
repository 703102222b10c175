"""Which role each bridge endpoint needs: a viewer reads (and opens the realtime channel), an operator changes the
calendar and messages customers, an admin closes and reopens days and reads the staff and the audit log.

The guard (`chat_bridge.security.StaffGuard`) applies the table to every request by its route's path template; an
endpoint whose need depends on its body checks it itself with `require` (which raises `Forbidden`, a 403)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Match
from starlette.types import Scope

from chat_bridge.principals import principal_of
from domain.errors import error_body
from domain.staff.audit import OK, REFUSED
from domain.staff.roles import Principal, Role

READS = ("GET", "HEAD", "OPTIONS", "WEBSOCKET")
# (method, path template) -> the role needed where it is more than a read's viewer or a change's operator.
NEEDS: dict[tuple[str, str], Role] = {
    ("POST", "/closures"): Role.ADMIN,
    ("DELETE", "/closures/{closure_id}"): Role.ADMIN,
    ("GET", "/staff"): Role.ADMIN,
    ("GET", "/audit"): Role.ADMIN,
    # A viewer may ask the system agent (whose turn then has a viewer's read-only tools); messaging a customer
    # needs an operator, which `send_message` checks with `require`.
    ("POST", "/whatsapp/message"): Role.VIEWER,
}
FAILED = "failed"
CONVERTER = re.compile(r":\w+}")


class Forbidden(Exception):
    """The principal's role is below what the act needs: answered 403 `forbidden`."""

    def __init__(self, principal: Principal, needed: Role) -> None:
        super().__init__(refusal_sentence(principal, needed))
        self.principal, self.needed = principal, needed


def request_method(scope: Scope) -> str:
    return "WEBSOCKET" if scope["type"] == "websocket" else str(scope["method"]).upper()


def route_template(scope: Scope) -> str:
    """The path template of the route `scope` goes to (`/closures/{closure_id}`), converters left out; the path
    itself when no route takes it."""
    for route in getattr(scope.get("app"), "routes", ()):
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            return CONVERTER.sub("}", str(getattr(route, "path", scope["path"])))
    return str(scope["path"])


def role_needed(method: str, template: str) -> Role:
    """The least role that may call `method` on `template`."""
    return NEEDS.get((method, template), Role.VIEWER if method in READS else Role.OPERATOR)


def refusal_sentence(principal: Principal, needed: Role) -> str:
    return (f"This needs the {needed} role or above; you are signed in as {principal.name}, whose role is "
            f"{principal.role}.")


def require(scope: Scope, needed: Role) -> Principal:
    """The request's principal, when it has at least `needed`; else `Forbidden`."""
    principal = principal_of(scope)
    if not principal.may(needed):
        raise Forbidden(principal, needed)
    return principal


def forbidden_response(principal: Principal, needed: Role) -> JSONResponse:
    body = error_body("forbidden", refusal_sentence(principal, needed), needed=needed, role=principal.role)
    return JSONResponse(body, status_code=403)


async def forbidden(request: Request, error: Exception) -> JSONResponse:
    """The app's handler of `Forbidden` raised by an endpoint."""
    assert isinstance(error, Forbidden)
    return forbidden_response(error.principal, error.needed)


def outcome_of(status: int) -> str:
    """An accepted change's audit outcome by its answer's status."""
    if status == 403:
        return REFUSED
    return OK if status < 400 else FAILED
