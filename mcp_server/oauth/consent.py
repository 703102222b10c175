"""The consent page: a staff member, signed in to the console, sees which client asks for what and where it will
send them back, and approves or denies. The page's answer carries a token bound to the session and the request (an
HMAC keyed by the session's secret), so no other page can answer for them; an unknown session cookie is never
adopted (a planted one shows the sign-in form, and signing in makes a new session)."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from mcp.server.auth.provider import construct_redirect_uri

from domain.errors import error_body
from domain.staff.oauth import ConsentAnswer, OAuthStore, PendingConsent
from domain.staff.roles import Principal, scopes_for
from domain.staff.sessions import StaffSessions

MAX_ID = 100
DATA_SLOT = '<script type="application/json" id="consent-data"></script>'
# No frame may hold the page (clickjacking), no script but this server's, and the request's secret in the address
# is never sent on as a Referer.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class ConsentView(BaseModel):
    """What the page shows: `sign_in` (no session), `consent` (the question), or `gone` (no such request now)."""

    step: Literal["sign_in", "consent", "gone"]
    request: str
    client_name: str | None = None
    client_id: str | None = None
    redirect_host: str | None = None
    redirect_uri: str | None = None
    scopes: list[str] = []
    grantable: list[str] = []
    username: str | None = None
    role: str | None = None
    csrf: str | None = None


class ConsentDecision(BaseModel):
    """The page's answer (JSON)."""

    request: str = Field(max_length=MAX_ID)
    decision: Literal["approve", "deny"]
    scopes: list[str] = Field(default=[], max_length=4)
    csrf: str = Field(max_length=MAX_ID)


def csrf_token(session_secret: str, request: str) -> str:
    """The answer's token: only a page that was served to this session, for this request, knows it."""
    return hmac.new(session_secret.encode(), f"consent:{request}".encode(), hashlib.sha256).hexdigest()


def error_page(sentence: str, status: int = 400) -> HTMLResponse:
    """A plain page for a request that cannot be answered by sending the browser back to the client."""
    body = (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>Authorization refused</title>'
            f"<h1>Authorization refused</h1><p>{_escaped(sentence)}</p></html>")
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ConsentPage:
    """`GET /oauth/consent?request=<id>` and `POST /oauth/consent`, over the OAuth store and the console's
    sessions (`cookie`: the session cookie's name)."""

    def __init__(self, store: OAuthStore, sessions: StaffSessions, page: Path, cookie: str) -> None:
        self.store, self.sessions, self.cookie = store, sessions, cookie
        self.template = page.read_text(encoding="utf-8")

    async def show(self, request: Request[Any]) -> Response:
        """The page, with what it must show filled in by the server."""
        secret, wanted = request.cookies.get(self.cookie, ""), request.query_params.get("request", "")[:MAX_ID]
        pending = await self.store.pending(wanted) if wanted else None
        principal = await self.sessions.principal(secret) if secret else None
        view = self.view(wanted, pending, principal, secret)
        data = json.dumps(view.model_dump()).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        html = self.template.replace(DATA_SLOT, DATA_SLOT.replace("><", f">{data}<"))
        return HTMLResponse(html, status_code=404 if view.step == "gone" else 200, headers=PAGE_HEADERS)

    def view(self, request: str, pending: PendingConsent | None, principal: Principal | None,
             secret: str) -> ConsentView:
        if pending is None:
            return ConsentView(step="gone", request=request)
        if principal is None:
            return ConsentView(step="sign_in", request=request, client_name=pending.client_name)
        return ConsentView(step="consent", request=request, client_name=pending.client_name,
                           client_id=pending.client_id, redirect_host=urlsplit(pending.redirect_uri).netloc,
                           redirect_uri=pending.redirect_uri, scopes=pending.scopes,
                           grantable=[s for s in pending.scopes if s in scopes_for(principal.role)],
                           username=principal.name, role=principal.role.value, csrf=csrf_token(secret, request))

    async def answer(self, request: Request[Any]) -> Response:
        """The person's answer: `{redirect}`, where the page sends the browser (the client, with a code or with
        `error=access_denied`)."""
        try:
            decision = ConsentDecision.model_validate_json(await request.body())
        except ValidationError:
            return refused(400, "invalid_request", "Send {request, decision, scopes, csrf} as JSON.")
        secret = request.cookies.get(self.cookie, "")
        principal = await self.sessions.principal(secret) if secret else None
        if principal is None:
            return refused(401, "signed_out", "Sign in to answer this request.")
        if not hmac.compare_digest(decision.csrf.encode(), csrf_token(secret, decision.request).encode()):
            return refused(403, "csrf_refused", "This answer did not come from the consent page shown to you. "
                                                "Nothing was granted.")
        answer = (await self.store.approve(decision.request, principal.name, decision.scopes)
                  if decision.decision == "approve" else await self.store.deny(decision.request, principal.name))
        if answer is None:
            return refused(409, "consent_gone", "This request was already answered, has expired, or asked for "
                                                "nothing you may grant. Start again from the application.")
        return JSONResponse({"redirect": redirect_of(answer)}, headers={"Cache-Control": "no-store"})


def redirect_of(answer: ConsentAnswer) -> str:
    if answer.code is not None:
        return construct_redirect_uri(answer.redirect_uri, code=answer.code, state=answer.state)
    return construct_redirect_uri(answer.redirect_uri, error="access_denied",
                                  error_description="The person denied this request.", state=answer.state)


def refused(status: int, code: str, sentence: str) -> JSONResponse:
    return JSONResponse(error_body(code, sentence), status_code=status, headers={"Cache-Control": "no-store"})
