"""The OAuth server of `/mcp`: its registered clients, and its grants, each kept only as the SHA-256 of its secret.

A staff member's consent is one family of grants: the authorization request waiting on the consent page, the code
it gives, then access tokens (short-lived) and refresh tokens (rotated at every use). A code or refresh token used
twice means one was stolen: the whole family is revoked. Revoking any token revokes its family, and so does
`accounts.end_access` when an account is disabled or its password or role changes."""

from __future__ import annotations

import ipaddress
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field
from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock, system_clock
from domain.staff.audit import REFUSED, AuditEvent, AuditLog
from domain.staff.roles import SCOPES, Role, scopes_for
from domain.staff.sessions import digest
from domain.storage.database import Database, lock_exclusively, lock_key
from domain.storage.models import OAuthClient, OAuthGrant, StaffUser

REQUEST, CODE, ACCESS, REFRESH = "request", "code", "access", "refresh"
MAX_DOCUMENT = 16_000  # characters of a client's registration as JSON: a client says who it is, not more
MAX_REDIRECT_URIS = 10
SECRET_BYTES = 32
LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class OAuthLifetimes:
    """How long each kind of grant lasts (OAUTH_ACCESS_MINUTES, OAUTH_REFRESH_DAYS; the others are fixed)."""

    access: timedelta = timedelta(minutes=15)
    refresh: timedelta = timedelta(days=30)
    request: timedelta = timedelta(minutes=10)  # a consent page left open longer must be asked for again
    code: timedelta = timedelta(minutes=2)


class AuthorizationAsk(BaseModel, frozen=True):
    """An authorization request as the authorization endpoint validated it, held until the person answers."""

    client_id: str = Field(max_length=100)
    redirect_uri: str = Field(max_length=2000)
    redirect_uri_explicit: bool
    scopes: list[str] = Field(max_length=len(SCOPES))
    code_challenge: str = Field(min_length=43, max_length=128)
    state: str | None = Field(default=None, max_length=1000)
    resource: str | None = Field(default=None, max_length=2000)
    issuer: str = Field(max_length=2000)


class PendingConsent(BaseModel, frozen=True):
    """What the consent page shows: which client asks, where it sends the person back, and for what."""

    client_id: str
    client_name: str
    redirect_uri: str
    scopes: list[str]


class ConsentAnswer(BaseModel, frozen=True):
    """Where the person's browser goes after answering: the client's redirect URI with a code (approved) or
    without one (denied)."""

    redirect_uri: str
    state: str | None
    issuer: str
    code: str | None = None


class CodeGrant(BaseModel, frozen=True):
    """A live authorization code, for the token endpoint to check against the token request."""

    client_id: str
    username: str
    scopes: list[str]
    code_challenge: str
    redirect_uri: str
    redirect_uri_explicit: bool
    resource: str | None
    issuer: str
    seconds_left: float


class TokenGrant(BaseModel, frozen=True):
    """A live access or refresh token: whose, for which client and resource, with which scopes and role now."""

    client_id: str
    username: str
    role: Role
    scopes: list[str]
    resource: str | None
    issuer: str


class IssuedTokens(BaseModel, frozen=True):
    access_token: str
    refresh_token: str
    expires_in: int
    scopes: list[str]


def acceptable_redirect_uri(uri: str) -> bool:
    """OAuth 2.1's rule for a redirect URI: HTTPS, or plain HTTP to this machine's loopback; no fragment."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.fragment or not host or parts.username is not None:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host))


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


class OAuthStore:
    """The OAuth server's verbs over one database; every decision a person makes is in the audit log."""

    def __init__(self, db: Database, audit: AuditLog, clock: Clock = system_clock,
                 lifetimes: OAuthLifetimes = OAuthLifetimes()) -> None:
        self.db, self.audit, self.clock, self.lifetimes = db, audit, clock, lifetimes

    async def register(self, client_id: str, document: dict[str, Any]) -> None:
        """Keep a client's registration (RFC 7591) as it was accepted; `ValueError` when it is too large."""
        if len(json.dumps(document)) > MAX_DOCUMENT or len(document.get("redirect_uris") or ()) > MAX_REDIRECT_URIS:
            raise ValueError(f"a registration is at most {MAX_DOCUMENT} characters and {MAX_REDIRECT_URIS} "
                             "redirect URIs")
        async with self.db.unit_of_work() as session:
            session.add(OAuthClient(client_id=client_id, metadata_json=document, created_at=self.clock()))

    async def client(self, client_id: str) -> dict[str, Any] | None:
        """A registered client's document, or None."""
        async with self.db.reading() as session:
            found = await session.get(OAuthClient, client_id) if len(client_id) <= 100 else None
        return dict(found.metadata_json) if found is not None else None

    async def open_request(self, ask: AuthorizationAsk) -> str:
        """Hold a validated authorization request for the consent page; its secret names it in the page's URL."""
        secret, now = new_secret(), self.clock()
        async with self.db.unit_of_work() as session:
            session.add(OAuthGrant(id=digest(secret), kind=REQUEST, family=digest(new_secret()),
                                   client_id=ask.client_id, scopes=ask.scopes, details=ask.model_dump(),
                                   created_at=now, expires_at=now + self.lifetimes.request))
        return secret

    async def pending(self, request: str) -> PendingConsent | None:
        """The authorization request the consent page shows, while it waits for an answer; else None."""
        async with self.db.reading() as session:
            grant = await session.scalar(self._live(request, REQUEST))
            found = await session.get(OAuthClient, grant.client_id) if grant is not None else None
        if grant is None or found is None:
            return None
        ask = AuthorizationAsk.model_validate(grant.details)
        name = str(found.metadata_json.get("client_name") or ask.client_id)[:100]
        return PendingConsent(client_id=ask.client_id, client_name=name, redirect_uri=ask.redirect_uri,
                              scopes=ask.scopes)

    async def approve(self, request: str, username: str, chosen: list[str]) -> ConsentAnswer | None:
        """The person approves: a one-use code for the scopes both asked and chosen that their role may grant.
        None when the request is no longer waiting, or no such scope is left."""
        async with self.db.unit_of_work() as session:
            user = await session.scalar(select(StaffUser).where(StaffUser.username == username,
                                                                StaffUser.disabled_at.is_(None)))
            grant = await self._use(session, request, REQUEST)
            if grant is None or user is None:
                return None
            ask = AuthorizationAsk.model_validate(grant.details)
            scopes = [s for s in ask.scopes if s in chosen and s in scopes_for(Role(user.role))]
            if not scopes:
                return None
            code = self._grant(session, CODE, grant, user.id, scopes, self.lifetimes.code, ask.model_dump())
            self.audit.add(session, AuditEvent(f"operator:{username}", "oauth_grant", role=user.role,
                                               target=ask.client_id, detail={"scopes": scopes}))
        return ConsentAnswer(redirect_uri=ask.redirect_uri, state=ask.state, issuer=ask.issuer, code=code)

    async def deny(self, request: str, username: str) -> ConsentAnswer | None:
        """The person refuses: the request ends, and the client is told so. None when it is no longer waiting."""
        async with self.db.unit_of_work() as session:
            grant = await self._use(session, request, REQUEST)
            if grant is None:
                return None
            ask = AuthorizationAsk.model_validate(grant.details)
            self.audit.add(session, AuditEvent(f"operator:{username}", "oauth_deny", target=ask.client_id))
        return ConsentAnswer(redirect_uri=ask.redirect_uri, state=ask.state, issuer=ask.issuer)

    async def code(self, code: str) -> CodeGrant | None:
        """A live code, for the token endpoint's checks. A code presented again after its use revokes its family."""
        async with self.db.unit_of_work() as session:
            found = await session.execute(self._live(code, CODE).add_columns(StaffUser.username)
                                          .join(StaffUser, StaffUser.id == OAuthGrant.user_id))
            row = found.first()
            if row is None:
                await self._revoke_if_reused(session, code, CODE)
                return None
        grant, username = row
        ask = AuthorizationAsk.model_validate(grant.details)
        left = (grant.expires_at - self.clock()).total_seconds()
        return CodeGrant(client_id=grant.client_id, username=username, scopes=list(grant.scopes),
                         code_challenge=ask.code_challenge, redirect_uri=ask.redirect_uri,
                         redirect_uri_explicit=ask.redirect_uri_explicit, resource=ask.resource,
                         issuer=ask.issuer, seconds_left=left)

    async def exchange_code(self, code: str) -> IssuedTokens | None:
        """Tokens for a code, once: of two exchanges of one code, one wins and the other revokes the family."""
        async with self.db.unit_of_work() as session:
            grant = await self._use(session, code, CODE)
            return None if grant is None else self._tokens(session, grant, list(grant.scopes))

    async def access(self, token: str) -> TokenGrant | None:
        """A live access token, with its person's current role; None once expired, revoked or the person
        disabled."""
        return await self._token(token, ACCESS)

    async def refresh(self, token: str) -> TokenGrant | None:
        """A live refresh token; one presented again after its rotation revokes its family."""
        found = await self._token(token, REFRESH)
        if found is None:
            async with self.db.unit_of_work() as session:
                await self._revoke_if_reused(session, token, REFRESH)
        return found

    async def rotate(self, token: str, scopes: list[str]) -> IssuedTokens | None:
        """A new access token and a new refresh token for a refresh token, which is then spent."""
        async with self.db.unit_of_work() as session:
            grant = await self._use(session, token, REFRESH)
            return None if grant is None else self._tokens(session, grant, [s for s in grant.scopes if s in scopes])

    async def revoke(self, token: str) -> None:
        """Revoke the family of an access or refresh token (RFC 7009: an unknown token is no error)."""
        async with self.db.unit_of_work() as session:
            await self._lock_family(session, token)
            grant = await session.get(OAuthGrant, digest(token))
            if grant is not None and grant.kind in (ACCESS, REFRESH) and grant.revoked_at is None:
                await self._revoke_family(session, grant.family)
                self.audit.add(session, AuditEvent(f"oauth_client:{grant.client_id}", "oauth_revoke",
                                                   target=grant.client_id))

    def _live(self, secret: str, kind: str) -> Select[OAuthGrant]:
        return select(OAuthGrant).where(OAuthGrant.id == digest(secret), OAuthGrant.kind == kind,
                                        OAuthGrant.used_at.is_(None), OAuthGrant.revoked_at.is_(None),
                                        OAuthGrant.expires_at > self.clock())

    async def _token(self, token: str, kind: str) -> TokenGrant | None:
        query = (self._live(token, kind).add_columns(StaffUser.username, StaffUser.role)
                 .join(StaffUser, StaffUser.id == OAuthGrant.user_id).where(StaffUser.disabled_at.is_(None)))
        async with self.db.reading() as session:
            row = (await session.execute(query)).first()
        if row is None:
            return None
        grant, username, role = row
        details = grant.details or {}
        return TokenGrant(client_id=grant.client_id, username=username, role=Role(role),
                          scopes=[s for s in grant.scopes if s in scopes_for(Role(role))],
                          resource=details.get("resource"), issuer=str(details.get("issuer", "")))

    async def _use(self, session: AsyncSession, secret: str, kind: str) -> OAuthGrant | None:
        """Mark a live grant used, if no one else did first (a conditional UPDATE only one caller wins)."""
        await self._lock_family(session, secret)
        now = self.clock()
        result = await session.execute(
            update(OAuthGrant).where(OAuthGrant.id == digest(secret), OAuthGrant.kind == kind,
                                     OAuthGrant.used_at.is_(None), OAuthGrant.revoked_at.is_(None),
                                     OAuthGrant.expires_at > now).values(used_at=now))
        if not getattr(result, "rowcount", 0):
            await self._revoke_if_reused(session, secret, kind)
            return None
        return await session.get(OAuthGrant, digest(secret))

    async def _lock_family(self, session: AsyncSession, secret: str) -> None:
        """The lock of the consent `secret` belongs to, held until the transaction ends (PostgreSQL): every use and
        revocation of one family's grants takes it first, so racing uses wait in line instead of deadlocking on
        each other's rows (SQLite's writers are in line already)."""
        family = await session.scalar(select(OAuthGrant.family).where(OAuthGrant.id == digest(secret)))
        if family is not None:
            await lock_exclusively(session, lock_key("oauth_family", family))

    async def _revoke_if_reused(self, session: AsyncSession, secret: str, kind: str) -> None:
        """A code or refresh token presented after its use was copied: end everything its consent gave."""
        grant = await session.get(OAuthGrant, digest(secret))
        if grant is None or grant.used_at is None or kind == REQUEST:
            return
        await self._revoke_family(session, grant.family)
        self.audit.add(session, AuditEvent("oauth_server", f"oauth_{kind}_reused", REFUSED, target=grant.client_id))

    async def _revoke_family(self, session: AsyncSession, family: str) -> None:
        await session.execute(update(OAuthGrant).where(OAuthGrant.family == family, OAuthGrant.revoked_at.is_(None))
                              .values(revoked_at=self.clock()))

    def _tokens(self, session: AsyncSession, parent: OAuthGrant, scopes: list[str]) -> IssuedTokens:
        details = {k: v for k, v in (parent.details or {}).items() if k in ("resource", "issuer")}
        access = self._grant(session, ACCESS, parent, parent.user_id, scopes, self.lifetimes.access, details)
        refresh = self._grant(session, REFRESH, parent, parent.user_id, scopes, self.lifetimes.refresh, details)
        return IssuedTokens(access_token=access, refresh_token=refresh, scopes=scopes,
                            expires_in=int(self.lifetimes.access.total_seconds()))

    def _grant(self, session: AsyncSession, kind: str, parent: OAuthGrant, user_id: int | None, scopes: list[str],
               lifetime: timedelta, details: dict[str, Any]) -> str:
        """A new grant of `parent`'s family; its secret."""
        secret, now = new_secret(), self.clock()
        session.add(OAuthGrant(id=digest(secret), kind=kind, family=parent.family, client_id=parent.client_id,
                               user_id=user_id, scopes=scopes, details=details, created_at=now,
                               expires_at=now + lifetime))
        return secret
