"""Who may use the operator API and the realtime channel: a signed-in staff member by their role, the operator token
(required beyond loopback), or, where neither a token nor an account exists, only a caller on this machine that came
through no proxy; and which pages may call."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers, QueryParams
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chat_bridge.principals import PRINCIPAL_KEY, SESSION_COOKIE
from chat_bridge.roles import READS, forbidden_response, outcome_of, request_method, role_needed, route_template
from domain.errors import error_body
from domain.services import Services
from domain.staff.audit import REFUSED, AuditEvent
from domain.staff.roles import SOLE_OPERATOR, Principal

# Not operator endpoints: the webhook checks Meta's signature, /mcp checks its own bearer token.
OPEN_PATHS = ("/health", "/ready", "/webhook", "/mcp")
POLICY_VIOLATION = 1008


def matches(value: str, allowed: Sequence[str]) -> bool:
    """`value` (a Host header or an Origin) is one of `allowed`, where `x:*` is x with any port."""
    value = value.lower()
    for pattern in allowed:
        pattern = pattern.lower()
        if value == pattern or (pattern.endswith(":*") and value.startswith(pattern[:-1])
                                and value[len(pattern) - 1:].isdigit()):
            return True
    return False


def is_open_path(path: str, extra: Sequence[str] = ()) -> bool:
    """`path` is one of the open paths or under one (`/` opens the root page only)."""
    return is_under(path, (*OPEN_PATHS, *extra))


def is_under(path: str, paths: Sequence[str]) -> bool:
    """`path` is one of `paths` or under one (`/` stands for the root page only)."""
    return any(path == top or (top != "/" and path.startswith(top.rstrip("/") + "/")) for top in paths)


def presented_token(scope: Scope) -> str:
    """`Authorization: Bearer <token>`; a WebSocket may pass `?token=` (browsers cannot set its headers)."""
    scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if scope["type"] == "websocket":
        return QueryParams(scope.get("query_string", b"").decode("latin-1")).get("token", "")
    return ""


CallerCheck = Callable[[Scope], bool]  # whether a request comes from this machine and through no proxy
# Without OPERATOR_TOKEN and without any staff account, this machine's callers act as the clinic's one operator.
LOCAL_OPERATOR = Principal(SOLE_OPERATOR.name, SOLE_OPERATOR.role, via="local")
SESSION_PATHS = ("/session",)  # answer the signed-out too (sign-in, and who is signed in)
logger = logging.getLogger(__name__)


class StaffPresence:
    """Whether any staff account is enabled, asked of the database at most every `seconds` (every request asks)."""

    def __init__(self, seconds: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self.known: tuple[float, bool] | None = None

    async def __call__(self, services: Services | None) -> bool:
        if services is None:
            return False
        if self.known is None or self.clock() - self.known[0] > self.seconds:
            self.known = (self.clock(), await services.staff.exist())
        return self.known[1]


def scope_services(scope: Scope) -> Services | None:
    """The services the app's lifespan opened (None in an app that opened none)."""
    found = scope.get("state", {}).get("services")
    return found if isinstance(found, Services) else None


class StaffGuard:
    """ASGI middleware: who a request is (`scope[PRINCIPAL_KEY]`) and whether their role may do it.

    Who: the operator token (`SOLE_OPERATOR`); else a staff session's cookie; else, with no token configured and
    no staff account, a `local_caller` (this machine, through no proxy: `mcp_server.http.LocalCallers`). Anyone
    else is refused 401 (the WebSocket is closed). What: `chat_bridge.roles`; a refusal is 403 and an audit line,
    and every change let through gets an audit line with its answer's status."""

    def __init__(self, app: ASGIApp, token: str | None, local_caller: CallerCheck,
                 open_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.local_caller = local_caller
        self.open_paths = open_paths
        self.accounts = StaffPresence()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or is_open_path(scope["path"], self.open_paths):
            await self.app(scope, receive, send)
            return
        principal = await self.principal(scope)
        if principal is not None:
            scope[PRINCIPAL_KEY] = principal
        if is_under(scope["path"], SESSION_PATHS):
            await self.app(scope, receive, send)
        elif principal is None:
            await self._refuse(scope, receive, send)
        else:
            await self._admit(principal, scope, receive, send)

    async def principal(self, scope: Scope) -> Principal | None:
        """Who the request is, or None when it proves nothing."""
        if self.token is not None and hmac.compare_digest(presented_token(scope).encode(), self.token):
            return SOLE_OPERATOR
        services = scope_services(scope)
        secret = HTTPConnection(scope).cookies.get(SESSION_COOKIE, "")
        if secret and services is not None and (staff := await services.sessions.principal(secret)) is not None:
            return staff
        if self.token is None and self.local_caller(scope) and not await self.accounts(services):
            return LOCAL_OPERATOR
        return None

    async def _admit(self, principal: Principal, scope: Scope, receive: Receive, send: Send) -> None:
        method, template = request_method(scope), route_template(scope)
        needed = role_needed(method, template)
        action = f"http {method} {template}"
        if not principal.may(needed):
            await self._record(scope, AuditEvent(principal.actor, action, REFUSED, principal.role, scope["path"],
                                                 {"needed": str(needed)}))
            await forbidden_response(principal, needed)(scope, receive, send)
        elif method in READS:
            await self.app(scope, receive, send)
        else:
            status = await self._answered(scope, receive, send)
            await self._record(scope, AuditEvent(principal.actor, action, outcome_of(status), principal.role,
                                                 scope["path"], {"status": status}))

    async def _answered(self, scope: Scope, receive: Receive, send: Send) -> int:
        """Run the endpoint; the status it answered."""
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, sending)
        return status

    async def _record(self, scope: Scope, event: AuditEvent) -> None:
        services = scope_services(scope)
        if services is None:
            return
        try:
            await services.audit.record(event)
        except Exception:  # the answer stands (it may be sent already): the lost line is logged
            logger.exception("could not append to the audit log: %s %s", event.actor, event.action)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        accounts = await self.accounts(scope_services(scope))
        if scope["type"] == "websocket":
            reason = "sign-in required" if accounts else "operator token required"
            await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": reason})
            return
        body = error_body("unauthorized", self._sentence(accounts))
        await JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)

    def _sentence(self, accounts: bool) -> str:
        if accounts:
            return ("Sign in to the console (POST /session with your username and password), or send "
                    "Authorization: Bearer <OPERATOR_TOKEN>." if self.token is not None else
                    "Sign in to the console: POST /session with your username and password.")
        if self.token is not None:
            return "This endpoint needs the operator token: send Authorization: Bearer <OPERATOR_TOKEN>."
        return ("Without OPERATOR_TOKEN only this machine may use this endpoint, and this request came through "
                "a proxy or from elsewhere: set OPERATOR_TOKEN and send Authorization: Bearer <OPERATOR_TOKEN>.")


# Paths that answer other machines by design: Meta's webhook (its signature is the check) and the probes of a
# load balancer, which may name the instance by any address. `/mcp` is guarded like the operator API: its
# remote clients send a Host it answers to, and no Origin.
FOREIGN_CALLERS = ("/webhook", "/health", "/ready",
                   # the OAuth server's own endpoints, which other applications call and which authenticate
                   # themselves (client credentials, PKCE); its consent page stays guarded
                   "/authorize", "/token", "/register", "/revoke", "/.well-known")
JSON_TYPES = ("application/json",)
DEFAULT_PORTS = {"http": 80, "https": 443}
WEB_SCHEMES = {"ws": "http", "wss": "https"}  # a WebSocket's page is served over HTTP(S)


def origin_key(scheme: str, authority: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the scheme's default port filled in; None when it is not a web origin."""
    scheme = scheme.lower()
    try:
        parts = urlsplit(f"//{authority}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not host or parts.username is not None or parts.path:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def parsed_origin(origin: str) -> tuple[str, str, int] | None:
    """An `Origin` header (or a configured origin) as (scheme, host, port); None for `null` or anything else."""
    scheme, separator, authority = origin.strip().partition("://")
    return origin_key(scheme, authority) if separator else None


def served_origin(scope: Scope) -> tuple[str, str, int] | None:
    """The origin this request was sent to: its scheme (as the proxy in front saw it, when uvicorn trusts that
    proxy's X-Forwarded-Proto) and its Host header, port included."""
    scheme = str(scope.get("scheme", "http"))
    return origin_key(WEB_SCHEMES.get(scheme, scheme), Headers(scope=scope).get("host", ""))


class SameSiteGuard:
    """ASGI middleware against other web pages in the operator's browser: the Host must be one this service
    answers to (DNS rebinding), a browser's Origin must be the very origin the request was sent to (scheme,
    host and port: another port of the same machine is another site) or one of `allowed_origins`, on HTTP and on
    the WebSocket, and a request with a body must say it is JSON (a form or text/plain POST from any page is
    refused)."""

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str], allowed_origins: Sequence[str] = ()) -> None:
        self.app = app
        self.hosts = tuple(allowed_hosts)
        self.origins = {key for key in map(parsed_origin, allowed_origins) if key is not None}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or is_under(scope["path"], FOREIGN_CALLERS):
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": refusal[2]})
        else:
            status, code, sentence = refusal
            await JSONResponse(error_body(code, sentence), status_code=status)(scope, receive, send)

    def refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        """(status, code, sentence) when the request must be refused, else None."""
        headers = Headers(scope=scope)
        if not matches(headers.get("host", ""), self.hosts):
            return 421, "invalid_host", "This service does not answer to that Host name."
        origin = headers.get("origin")
        if origin is not None and not self.same_site(origin, scope):
            return 403, "invalid_origin", "Requests from other web pages are refused."
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH") and kind not in JSON_TYPES:
            return 415, "unsupported_media_type", "Send the body as JSON, with Content-Type: application/json."
        return None

    def same_site(self, origin: str, scope: Scope) -> bool:
        key = parsed_origin(origin)
        return key is not None and (key == served_origin(scope) or key in self.origins)
