"""The SDK's authorization server protocol over the clinic's grants (`domain.staff.oauth.OAuthStore`), for one
issuer: registration refuses redirect URIs that are neither HTTPS nor loopback, authorization holds the validated
request for the consent page, and every token is checked against the store, which alone knows expiry, revocation
and the person's current role."""

from __future__ import annotations

import time

from pydantic import AnyUrl, ValidationError

from mcp.server.auth.provider import (AccessToken, AuthorizationCode, AuthorizationParams, AuthorizeError,
                                      OAuthAuthorizationServerProvider, RefreshToken, RegistrationError, TokenError,
                                      TokenVerifier)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from domain.staff.oauth import AuthorizationAsk, IssuedTokens, OAuthStore, TokenGrant, acceptable_redirect_uri
from domain.staff.roles import SCOPES
from mcp_server.oauth.site import OAuthSite, serves_resource
from mcp_server.principals import ROLE_CLAIM

CONSENT_PATH = "/oauth/consent"
ISSUER_CLAIM = "iss"


def access_token(token: str, grant: TokenGrant) -> AccessToken:
    """The SDK's view of a live access token: `subject` the username, the role and issuer as claims."""
    return AccessToken(token=token, client_id=grant.client_id, scopes=grant.scopes, resource=grant.resource,
                       subject=grant.username, claims={ROLE_CLAIM: grant.role.value, ISSUER_CLAIM: grant.issuer})


def oauth_token(issued: IssuedTokens) -> OAuthToken:
    return OAuthToken(access_token=issued.access_token, expires_in=issued.expires_in, scope=" ".join(issued.scopes),
                      refresh_token=issued.refresh_token)


class StoreVerifier(TokenVerifier):
    """Access tokens of `/mcp`, checked against the store at every request (a revoked one stops at once)."""

    def __init__(self, store: OAuthStore) -> None:
        self.store = store

    async def verify_token(self, token: str) -> AccessToken | None:
        grant = await self.store.access(token) if len(token) <= 100 else None
        return access_token(token, grant) if grant is not None else None


class ClinicAuthorizationServer(OAuthAuthorizationServerProvider[AuthorizationCode, RefreshToken, AccessToken]):
    """The authorization server at `origin` (its issuer)."""

    def __init__(self, store: OAuthStore, site: OAuthSite, origin: str) -> None:
        self.store, self.site, self.origin = store, site, origin

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        document = await self.store.client(client_id)
        return OAuthClientInformationFull.model_validate(document) if document is not None else None

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        """Keep a registration whose redirect URIs are all HTTPS or loopback HTTP (OAuth 2.1)."""
        refused = [str(u) for u in client_info.redirect_uris or () if not acceptable_redirect_uri(str(u))]
        if refused:
            raise RegistrationError("invalid_redirect_uri", f"Redirect URIs must be https, or http to this machine's "
                                                            f"loopback; refused: {', '.join(refused)[:200]}")
        try:
            await self.store.register(client_info.client_id, client_info.model_dump(mode="json", exclude_none=True))
        except ValueError as error:
            raise RegistrationError("invalid_client_metadata", str(error)) from None

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        """Hold the request and send the person to the consent page."""
        if not serves_resource(self.origin, self.site, params.resource):
            raise AuthorizeError("invalid_target", f"This server issues tokens for {self.site.resource(self.origin)}")
        asked = params.scopes or (client.scope.split() if client.scope else list(SCOPES))
        try:
            ask = AuthorizationAsk(client_id=client.client_id, redirect_uri=str(params.redirect_uri),
                                   redirect_uri_explicit=params.redirect_uri_provided_explicitly, scopes=asked,
                                   code_challenge=params.code_challenge, state=params.state,
                                   resource=params.resource, issuer=self.origin)
        except ValidationError:
            raise AuthorizeError("invalid_request", "A parameter of this authorization request is too long or "
                                                    "malformed.") from None
        return f"{self.origin}{CONSENT_PATH}?request={await self.store.open_request(ask)}"

    async def load_authorization_code(self, client: OAuthClientInformationFull,
                                      authorization_code: str) -> AuthorizationCode | None:
        grant = await self.store.code(authorization_code) if len(authorization_code) <= 100 else None
        if grant is None:
            return None
        return AuthorizationCode(code=authorization_code, scopes=grant.scopes, client_id=grant.client_id,
                                 # the store decides expiry on the service's clock; the SDK compares with time.time()
                                 expires_at=time.time() + grant.seconds_left, code_challenge=grant.code_challenge,
                                 redirect_uri=AnyUrl(grant.redirect_uri),
                                 redirect_uri_provided_explicitly=grant.redirect_uri_explicit,
                                 resource=grant.resource, subject=grant.username)

    async def exchange_authorization_code(self, client: OAuthClientInformationFull,
                                          authorization_code: AuthorizationCode) -> OAuthToken:
        issued = await self.store.exchange_code(authorization_code.code)
        if issued is None:
            raise TokenError("invalid_grant", "This authorization code was already used.")
        return oauth_token(issued)

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> RefreshToken | None:
        grant = await self.store.refresh(refresh_token) if len(refresh_token) <= 100 else None
        if grant is None:
            return None
        return RefreshToken(token=refresh_token, client_id=grant.client_id, scopes=grant.scopes,
                            resource=grant.resource, subject=grant.username)

    async def exchange_refresh_token(self, client: OAuthClientInformationFull, refresh_token: RefreshToken,
                                     scopes: list[str]) -> OAuthToken:
        issued = await self.store.rotate(refresh_token.token, scopes)
        if issued is None:
            raise TokenError("invalid_grant", "This refresh token was already used or has ended.")
        return oauth_token(issued)

    async def load_access_token(self, token: str) -> AccessToken | None:
        return await StoreVerifier(self.store).verify_token(token)

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        await self.store.revoke(token.token)
