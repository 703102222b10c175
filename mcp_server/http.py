"""Streamable HTTP for an MCP server: bearer token, Host/Origin checks, resumable streams, and a lifespan a host
app can enter.

Standalone, serve the app with uvicorn (it answers the ASGI lifespan itself). Mounted in another
Starlette app, route `/mcp` to it and enter `lifespan()` from the host's own lifespan:

    mcp = build_mcp_http_app(server, auth_token=token)

    @asynccontextmanager
    async def lifespan(app):
        async with mcp.lifespan():
            yield

    Starlette(routes=[Route("/mcp", endpoint=mcp)], lifespan=lifespan)   # or Mount("/mcp", app=mcp)
"""

from __future__ import annotations

import hmac
import functools
import ipaddress
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Router
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketClose

from domain.errors import error_body
from mcp_server.bodies import MAX_BODY_BYTES, read_body, refusal, replaying, too_large
from mcp_server.oauth.resource import ProtectedResource, bearer
from mcp_server.resumable import RETRY_MS, SessionEvents, resumable_per_session

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
LOOPBACK_HOSTS = tuple(h for host in LOOPBACK for h in (host, f"{host}:*"))
LOOPBACK_ORIGINS = tuple(f"http://{h}" for h in LOOPBACK_HOSTS)
CallerCheck = Callable[[Scope], bool]  # whether a request comes from this machine and through no proxy
# Headers by which a proxy names the client it forwards (ASGI header names are lower case).
PROXY_HEADERS = frozenset({b"forwarded", b"x-forwarded-for", b"x-real-ip"})


class MCPHttpApp:
    """The MCP endpoint as an ASGI app: callers are authorised first, then the SDK's session manager
    validates Host and Origin (DNS-rebinding protection) and serves the protocol."""

    def __init__(self, manager: StreamableHTTPSessionManager, auth_token: str | None, path: str,
                 local_caller: CallerCheck | None = None, oauth: ProtectedResource | None = None) -> None:
        self.manager = manager
        self.auth_token = auth_token or None
        self.local_caller = local_caller or LocalCallers()
        self.path = path.rstrip("/")
        self.oauth = oauth
        self._serve = AuthContextMiddleware(self._dispatch)
        self._lifespan_router = Router(lifespan=lambda _app: self.lifespan())

    def lifespan(self) -> AbstractAsyncContextManager[None]:
        """Runs the session manager; enter it once, for as long as the app serves requests."""
        return self.manager.run()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan_router(scope, receive, send)
        elif scope["type"] == "websocket":
            await WebSocketClose(code=1008)(scope, receive, send)
        elif not str(scope["path"]).rstrip("/").endswith(self.path):
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
        elif (refused := await self.turned_away(scope)) is not None:
            await refused(scope, receive, send)
        else:
            await self._serve(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "POST":
            await self._post(scope, receive, send)
        else:
            await self.manager.handle_request(scope, receive, send)

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A message, read whole and checked (`mcp_server.bodies`) before the SDK reads it again."""
        read = await read_body(receive)
        if read is None:
            await too_large()(scope, receive, send)
            return
        body, messages = read
        refused = await refusal(body)
        if refused is not None:
            await refused(scope, receive, send)
            return
        await self.manager.handle_request(scope, replaying(messages, receive), send)

    async def turned_away(self, scope: Scope) -> Response | None:
        """Why this request may not use `/mcp`, or None. The static token acts as the system agent; an OAuth access
        token as the staff member who granted it (its user is put in the scope, and `_serve` makes it the SDK's
        `get_access_token()` for the tools). Once staff accounts exist, a caller without either is refused even on
        this machine, so that OAuth clients here are asked to authorize; until then, `authorized` decides."""
        if self.auth_token is not None and self.authorized(scope):
            return None
        token = bearer(scope)
        if self.oauth is not None and token and await self.oauth.authenticate(scope, token):
            return None
        if self.oauth is not None and await self.oauth.accounts_exist():
            return self.oauth.challenge(scope, invalid_token=bool(token))
        return None if self.authorized(scope) else _unauthorized(self.auth_token is not None)

    def authorized(self, scope: Scope) -> bool:
        """With a token, only `Authorization: Bearer <token>`; without one, only callers on this machine that
        came through no proxy (`LocalCallers`)."""
        if self.auth_token is None:
            return self.local_caller(scope)
        given = Headers(scope=scope).get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {self.auth_token}".encode())


def build_mcp_http_app(
    server: MCPServer,
    *,
    auth_token: str | None,
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
    allowed_origins: Sequence[str] = LOOPBACK_ORIGINS,
    path: str = "/mcp",
    local_caller: CallerCheck | None = None,
    oauth: ProtectedResource | None = None,
) -> MCPHttpApp:
    """Streamable HTTP for `server` at `path`; Host and Origin must be in the allowed lists. Without
    `auth_token`, only a `local_caller` (by default `LocalCallers()`: loopback, no proxy) is served. With `oauth`,
    its access tokens are accepted too, and once staff accounts exist a caller must bring a token."""
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=list(allowed_hosts), allowed_origins=list(allowed_origins))
    # Streams are resumable (`mcp_server.resumable`): the store given here only switches resumability on; each
    # session is given a store of its own.
    server.streamable_http_app(streamable_http_path=path, transport_security=security,
                               max_request_body_size=MAX_BODY_BYTES, event_store=SessionEvents(),
                               retry_interval=RETRY_MS)
    resumable_per_session(server.session_manager)
    return MCPHttpApp(server.session_manager, auth_token, path, local_caller, oauth)


class LocalCallers:
    """Who counts as this machine where no token is configured: a loopback peer that is no proxy.

    Behind a reverse proxy on this host every caller's address is 127.0.0.1, so the address alone proves
    nothing. A request that names a forwarded client (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`) came through
    a proxy, and so did any request from an address in `trusted_proxies` (TRUSTED_PROXIES: addresses or
    networks), whatever headers it has: both are callers from elsewhere."""

    def __init__(self, trusted_proxies: Sequence[str] = ()) -> None:
        self.proxies = tuple(ipaddress.ip_network(p.strip(), strict=False) for p in trusted_proxies if p.strip())

    def __call__(self, scope: Scope) -> bool:
        address = peer_address(scope.get("client"))
        if address is None or not address.is_loopback or any(address in net for net in self.proxies):
            return False
        return not any(name.lower() in PROXY_HEADERS for name, _ in scope.get("headers", []))


def peer_address(client: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The peer's address (from an ASGI `client` pair), None when there is none or it is no IP address."""
    return _address(str(client[0])) if client else None


@functools.lru_cache(maxsize=1024)
def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """`host` parsed (once per address: every request asks)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _unauthorized(token_configured: bool) -> JSONResponse:
    sentence = ("A valid bearer token (MCP_AUTH_TOKEN) is required." if token_configured else
                "Without MCP_AUTH_TOKEN only this machine may use /mcp, and this request came through a proxy "
                "or from elsewhere: set MCP_AUTH_TOKEN and send Authorization: Bearer <MCP_AUTH_TOKEN>.")
    return JSONResponse(error_body("unauthorized", sentence), status_code=401,
                        headers={"WWW-Authenticate": 'Bearer realm="mcp"'})
