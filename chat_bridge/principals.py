"""Who a bridge request acts as: the guard (`chat_bridge.security`) resolves it once and keeps it in the request's
scope; handlers read it with `principal_of`. The console's session cookie is named and set here, for the sign-in
endpoint and the OAuth consent page alike."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Scope

from domain.staff.roles import SOLE_OPERATOR, Principal

PRINCIPAL_KEY = "calendar_agent.principal"
SESSION_COOKIE = "calendar_session"


def principal_of(scope: Scope) -> Principal:
    """The principal the guard let in; without accounts (or outside the guard, as in a route's unit test), the
    clinic's one operator."""
    found = scope.get(PRINCIPAL_KEY)
    return found if isinstance(found, Principal) else SOLE_OPERATOR


def set_session_cookie(response: Response, secret: str, *, secure: bool, max_age: int) -> None:
    """The session's secret in a cookie no script can read, sent only to this site (SameSite=Strict), and only
    over HTTPS beyond loopback (`secure`)."""
    response.set_cookie(SESSION_COOKIE, secret, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=secure)


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure)
