"""`/mcp` as an OAuth protected resource: which access token a request carries and whether it is good here, and
the 401 that tells a client where to authorize (RFC 9728's `resource_metadata`, RFC 6750's `invalid_token`)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.authentication import AuthCredentials
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import Scope

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import TokenVerifier

from domain.errors import error_body
from mcp_server.oauth.site import OAuthSite, serves_resource

ACCOUNTS_SECONDS = 5.0  # how long "staff accounts exist" is believed before the database is asked again


def bearer(scope: Scope) -> str:
    """The token of `Authorization: Bearer <token>`, or ''."""
    scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class RecentAnswer:
    """An async yes/no question, its answer kept for `seconds` (every `/mcp` request asks)."""

    def __init__(self, ask: Callable[[], Awaitable[bool]], seconds: float = ACCOUNTS_SECONDS) -> None:
        self.ask, self.seconds = ask, seconds
        self.answer: tuple[float, bool] | None = None

    async def __call__(self) -> bool:
        now = time.monotonic()
        if self.answer is None or now - self.answer[0] > self.seconds:
            self.answer = (now, await self.ask())
        return self.answer[1]


class ProtectedResource:
    """OAuth on `/mcp`: `verifier` checks access tokens, `accounts_exist` says whether a caller must bring one."""

    def __init__(self, verifier: TokenVerifier, site: OAuthSite, accounts_exist: Callable[[], Awaitable[bool]]
                 ) -> None:
        self.verifier, self.site = verifier, site
        self.accounts_exist = RecentAnswer(accounts_exist)

    async def authenticate(self, scope: Scope, token: str) -> bool:
        """Whether `token` is a live access token issued for this resource; if so the request's scope carries its
        user (`user`, `auth`), as the SDK's own middleware would set them."""
        found = await self.verifier.verify_token(token)
        origin = self.site.origin(scope)
        if found is None or origin is None or not serves_resource(origin, self.site, found.resource):
            return False
        scope["user"], scope["auth"] = AuthenticatedUser(found), AuthCredentials(found.scopes)
        return True

    def challenge(self, scope: Scope, invalid_token: bool) -> JSONResponse:
        """The 401 of a request without a usable token: where this resource's metadata is, and whether the token
        it brought is expired, revoked or not for this resource."""
        parts = ['error="invalid_token"', 'error_description="The access token is expired, revoked or not for '
                                          'this server."'] if invalid_token else []
        origin = self.site.origin(scope)
        if origin is not None:
            parts.append(f'resource_metadata="{self.site.metadata_url(origin)}"')
        body = (error_body("invalid_token", "The access token is expired, revoked or not for this server: "
                                            "refresh it or authorize again.") if invalid_token else
                error_body("unauthorized", "Authorize with OAuth (this server's metadata is in the WWW-Authenticate "
                                           "header), or send Authorization: Bearer <MCP_AUTH_TOKEN>."))
        header = "Bearer " + ", ".join(parts) if parts else "Bearer"
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": header})
