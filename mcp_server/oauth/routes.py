"""The OAuth server's endpoints as routes for the service's app: the SDK's (`create_auth_routes`,
`create_protected_resource_routes`) built once per issuer origin, and the consent page. Each path here must be
an open path of the operator guard: these endpoints authenticate their callers themselves."""

from __future__ import annotations

from functools import lru_cache

from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp.server.auth.routes import AUTHORIZATION_PATH, create_auth_routes, create_protected_resource_routes
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions

from domain.staff.oauth import OAuthStore
from domain.staff.roles import SCOPES
from mcp_server.oauth.consent import ConsentPage, error_page
from mcp_server.oauth.provider import CONSENT_PATH, ClinicAuthorizationServer
from mcp_server.oauth.site import OAuthSite, url

METADATA_PATHS = ("/.well-known/oauth-authorization-server", "/.well-known/oauth-protected-resource")
SERVER_PATHS = (AUTHORIZATION_PATH, "/token", "/register", "/revoke")
# What the operator guard must leave open, and what the same-site guard must let other origins post to (all but
# the consent page, which only its own page calls).
OPEN_PATHS = ("/.well-known", *SERVER_PATHS, "/oauth")
MAX_AUTHORIZE_QUERY = 8 * 1024  # an authorization request's parameters; a longer one is refused unread


class BoundedAuthorization:
    """The SDK's authorization endpoint, for GET only (what OAuth 2.1 requires) and for a query of at most
    `MAX_AUTHORIZE_QUERY` bytes: a longer one is an error page, never stored and never redirected."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "GET":
            await PlainTextResponse("Method Not Allowed", 405, headers={"Allow": "GET"})(scope, receive, send)
        elif len(scope.get("query_string", b"")) > MAX_AUTHORIZE_QUERY:
            page = error_page("This authorization request is too long to be a real one. Nothing was stored.")
            await page(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class IssuerRoutes:
    """The SDK's OAuth endpoints for the origin a request came to (`OAuthSite.origin`), built once per origin."""

    def __init__(self, store: OAuthStore, site: OAuthSite) -> None:
        self.store, self.site = store, site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = self.site.origin(scope)
        router = self.router(origin) if origin is not None else None
        if router is None:
            await PlainTextResponse("Not Found", 404)(scope, receive, send)
        else:
            await router(scope, receive, send)

    @lru_cache(maxsize=32)  # the service's few origins (PUBLIC_URL, or its Host values), for its whole life
    def router(self, origin: str) -> Router | None:
        """The endpoints of the issuer `origin`; None where OAuth cannot be offered (plain HTTP beyond loopback)."""
        try:
            routes = sdk_routes(ClinicAuthorizationServer(self.store, self.site, origin), self.site, origin)
        except ValueError:
            return None
        return Router(routes=routes)


def sdk_routes(provider: ClinicAuthorizationServer, site: OAuthSite, origin: str) -> list[BaseRoute]:
    scopes = list(SCOPES)
    registration = ClientRegistrationOptions(enabled=True, valid_scopes=scopes, default_scopes=scopes)
    routes: list[BaseRoute] = [
        *create_auth_routes(provider, url(origin), client_registration_options=registration,
                            revocation_options=RevocationOptions(enabled=True)),
        *create_protected_resource_routes(url(site.resource(origin)), [url(origin)], scopes_supported=scopes,
                                          resource_name="Clinic calendar"),
    ]
    return [Route(AUTHORIZATION_PATH, BoundedAuthorization(r.app)) if isinstance(r, Route)
            and r.path == AUTHORIZATION_PATH else r for r in routes]


def oauth_routes(store: OAuthStore, site: OAuthSite, consent: ConsentPage) -> list[BaseRoute]:
    """Every route of the OAuth server, for the service's app."""
    issuer = IssuerRoutes(store, site)
    metadata = (METADATA_PATHS[0], f"{METADATA_PATHS[1]}{site.mcp_path}")
    return [
        *(Route(path, issuer) for path in (*metadata, *SERVER_PATHS)),
        Route(CONSENT_PATH, consent.show, methods=["GET"]),
        Route(CONSENT_PATH, consent.answer, methods=["POST"]),
    ]

