"""The OAuth server's grants on SQLite and PostgreSQL: a code is used once, a refresh token is rotated and a reused
one revokes its consent's family, expiry and revocation end a token, and a disabled person's or a changed role's
tokens stop at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import ColumnElement, func, select

from domain.services import Services
from domain.staff.audit import AuditLine
from domain.staff.oauth import (AuthorizationAsk, ConsentAnswer, IssuedTokens, OAuthStore, acceptable_redirect_uri)
from domain.staff.roles import READ_SCOPE, SCOPES, WRITE_SCOPE, Role
from domain.storage.models import OAuthClient, OAuthGrant
from tests.conftest import FixedClock

PASSWORD = "correct horse battery"
CLIENT = "3f1c9a52-client"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def ask(scopes: list[str] = list(SCOPES), state: str | None = "xyz") -> AuthorizationAsk:
    return AuthorizationAsk(client_id=CLIENT, redirect_uri="http://127.0.0.1:3030/callback", redirect_uri_explicit=True,
                            scopes=scopes, code_challenge=CHALLENGE, state=state,
                            resource="http://127.0.0.1:8000/mcp", issuer="http://127.0.0.1:8000")


@pytest.fixture
async def store(services: Services, clock: FixedClock) -> OAuthStore:
    await services.staff.add("amal", "operator", PASSWORD)
    await services.staff.add("huda", "viewer", PASSWORD)
    oauth = OAuthStore(services.db, services.audit, clock)
    await oauth.register(CLIENT, {"client_id": CLIENT, "client_name": "Claude", "redirect_uris": [ask().redirect_uri]})
    return oauth


async def approved(store: OAuthStore, username: str = "amal", scopes: list[str] = list(SCOPES)) -> ConsentAnswer:
    answer = await store.approve(await store.open_request(ask()), username, scopes)
    assert answer is not None and answer.code is not None
    return answer


async def tokens(store: OAuthStore, username: str = "amal") -> IssuedTokens:
    code = (await approved(store, username)).code
    assert code is not None
    issued = await store.exchange_code(code)
    assert issued is not None
    return issued


async def count(services: Services, *where: ColumnElement[bool]) -> int:
    async with services.db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(OAuthGrant).where(*where)) or 0)


async def test_the_consent_page_shows_the_client_and_what_it_asks(store: OAuthStore) -> None:
    pending = await store.pending(await store.open_request(ask()))
    assert pending is not None
    assert (pending.client_name, pending.redirect_uri, pending.scopes) == ("Claude", ask().redirect_uri, list(SCOPES))


async def test_an_approval_gives_a_code_once_and_the_request_ends(store: OAuthStore) -> None:
    request = await store.open_request(ask())
    answer = await store.approve(request, "amal", list(SCOPES))
    assert answer is not None and answer.code and answer.state == "xyz"
    assert await store.approve(request, "amal", list(SCOPES)) is None
    assert await store.pending(request) is None


async def test_a_viewer_grants_calendar_read_only_whatever_the_client_asked(store: OAuthStore) -> None:
    code = (await approved(store, "huda")).code
    assert code is not None
    grant = await store.code(code)
    assert grant is not None and grant.scopes == [READ_SCOPE] and grant.username == "huda"


async def test_the_person_may_grant_less_than_the_client_asked(store: OAuthStore) -> None:
    code = (await approved(store, "amal", [READ_SCOPE])).code
    assert code is not None
    issued = await store.exchange_code(code)
    assert issued is not None and issued.scopes == [READ_SCOPE]


async def test_an_approval_with_no_scope_left_gives_no_code(store: OAuthStore) -> None:
    assert await store.approve(await store.open_request(ask([WRITE_SCOPE])), "huda", [WRITE_SCOPE]) is None


async def test_a_denial_sends_the_client_back_without_a_code(store: OAuthStore, services: Services) -> None:
    answer = await store.deny(await store.open_request(ask()), "amal")
    assert answer is not None and answer.code is None and answer.state == "xyz"
    assert await count(services, OAuthGrant.kind == "code") == 0


async def test_a_code_exchanges_once_and_a_second_exchange_revokes_the_family(store: OAuthStore,
                                                                               services: Services) -> None:
    code = (await approved(store)).code
    assert code is not None
    issued = await store.exchange_code(code)
    assert issued is not None and await store.access(issued.access_token) is not None
    assert await store.exchange_code(code) is None
    assert await store.code(code) is None
    assert await store.access(issued.access_token) is None
    assert await store.refresh(issued.refresh_token) is None
    audit: list[AuditLine] = await services.audit.recent(actor="oauth_server")
    assert [line.action for line in audit][:1] == ["oauth_code_reused"]


async def test_an_access_token_carries_the_person_the_role_and_the_resource(store: OAuthStore) -> None:
    grant = await store.access((await tokens(store)).access_token)
    assert grant is not None
    assert (grant.username, grant.role, grant.client_id) == ("amal", Role.OPERATOR, CLIENT)
    assert (grant.resource, grant.issuer, grant.scopes) == (ask().resource, ask().issuer, list(SCOPES))


async def test_a_refresh_token_rotates_and_the_old_one_is_refused_and_revokes_the_family(store: OAuthStore) -> None:
    first = await tokens(store)
    second = await store.rotate(first.refresh_token, list(SCOPES))
    assert second is not None and second.refresh_token != first.refresh_token
    assert await store.access(second.access_token) is not None
    assert await store.refresh(first.refresh_token) is None  # reused: someone copied it
    assert await store.access(second.access_token) is None
    assert await store.rotate(second.refresh_token, list(SCOPES)) is None


async def test_an_access_token_ends_when_its_time_is_up(store: OAuthStore, clock: FixedClock) -> None:
    issued = await tokens(store)
    clock.now += timedelta(minutes=15)
    assert await store.access(issued.access_token) is None
    assert await store.refresh(issued.refresh_token) is not None


async def test_an_authorization_request_and_a_code_expire(store: OAuthStore, clock: FixedClock) -> None:
    request = await store.open_request(ask())
    code = (await approved(store)).code
    assert code is not None
    clock.now += timedelta(minutes=10)
    assert await store.pending(request) is None and await store.approve(request, "amal", list(SCOPES)) is None
    assert await store.exchange_code(code) is None


async def test_revoking_a_refresh_token_revokes_its_access_tokens_too(store: OAuthStore, services: Services) -> None:
    issued = await tokens(store)
    other = await tokens(store)
    await store.revoke(issued.refresh_token)
    assert await store.access(issued.access_token) is None and await store.refresh(issued.refresh_token) is None
    assert await store.access(other.access_token) is not None  # another consent is another family
    await store.revoke("never-issued")


async def test_a_disabled_persons_tokens_stop_and_stay_stopped_when_enabled_again(store: OAuthStore,
                                                                                    services: Services) -> None:
    issued = await tokens(store)
    await services.staff.disable("amal")
    assert await store.access(issued.access_token) is None
    await services.staff.enable("amal")
    assert await store.access(issued.access_token) is None
    assert await store.rotate(issued.refresh_token, list(SCOPES)) is None


async def test_a_role_change_ends_the_tokens_so_none_keeps_the_old_roles_reach(store: OAuthStore,
                                                                               services: Services) -> None:
    issued = await tokens(store)
    await services.staff.set_role("amal", "viewer")
    assert await store.access(issued.access_token) is None
    fresh = await tokens(store)
    grant = await store.access(fresh.access_token)
    assert grant is not None and grant.role == Role.VIEWER and grant.scopes == [READ_SCOPE]


async def test_secrets_are_kept_only_as_their_digests(store: OAuthStore, services: Services) -> None:
    issued = await tokens(store)
    assert await count(services, OAuthGrant.id == issued.access_token) == 0
    assert await count(services, OAuthGrant.kind == "access") == 1


async def test_a_registration_too_large_is_refused_and_nothing_is_kept(store: OAuthStore, services: Services) -> None:
    with pytest.raises(ValueError):
        await store.register("big", {"client_name": "x" * 1_000_000})
    async with services.db.reading() as session:
        assert await session.get(OAuthClient, "big") is None


def test_redirect_uris_must_be_https_or_this_machines_loopback() -> None:
    assert acceptable_redirect_uri("https://claude.ai/api/mcp/auth_callback")
    assert acceptable_redirect_uri("http://127.0.0.1:6276/oauth/callback")
    assert acceptable_redirect_uri("http://localhost:3030/callback")
    assert acceptable_redirect_uri("http://[::1]:3030/callback")
    assert not acceptable_redirect_uri("http://evil.example/cb")
    assert not acceptable_redirect_uri("https://claude.ai/cb#fragment")
    assert not acceptable_redirect_uri("javascript:alert(1)")
    assert not acceptable_redirect_uri("https://user@evil.example/cb")
