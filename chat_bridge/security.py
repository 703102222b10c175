"""Who may use the operator API and the realtime channel: the operator token (required beyond loopback), or,
where none is configured, only a caller on this machine that came through no proxy; and which pages may call."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers, QueryParams
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from domain.errors import error_body

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


class OperatorGuard:
    """ASGI middleware: everything but the open paths needs the operator token; without one configured, the
    caller must be `local_caller` (this machine, through no proxy: `mcp_server.http.LocalCallers`)."""

    def __init__(self, app: ASGIApp, token: str | None, local_caller: CallerCheck,
                 open_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.local_caller = local_caller
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._open(scope) or self._authorised(scope):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": "operator token required"})
        else:
            await self._refuse(scope, receive, send)

    def _open(self, scope: Scope) -> bool:
        return is_open_path(scope["path"], self.open_paths)

    def _authorised(self, scope: Scope) -> bool:
        if self.token is None:
            return self.local_caller(scope)
        return hmac.compare_digest(presented_token(scope).encode(), self.token)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        sentence = ("This endpoint needs the operator token: send Authorization: Bearer <OPERATOR_TOKEN>."
                    if self.token is not None else
                    "Without OPERATOR_TOKEN only this machine may use this endpoint, and this request came through "
                    "a proxy or from elsewhere: set OPERATOR_TOKEN and send Authorization: Bearer <OPERATOR_TOKEN>.")
        body = error_body("unauthorized", sentence)
        await JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)


# Paths that answer other machines by design: Meta's webhook (its signature is the check) and the probes of a
# load balancer, which may name the instance by any address. `/mcp` is guarded like the operator API: its
# remote clients send a Host it answers to, and no Origin.
FOREIGN_CALLERS = ("/webhook", "/health", "/ready")
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
