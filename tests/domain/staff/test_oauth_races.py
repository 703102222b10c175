"""A code or a refresh token presented several times at once is honoured once: exactly one of the racing
exchanges gets tokens, and the consent's tokens are all revoked after (a second use is a stolen copy), on SQLite and
PostgreSQL, with each exchange in its own transaction as the token endpoint runs them."""

from __future__ import annotations

import asyncio

from domain.services import Services
from domain.staff.oauth import OAuthStore
from domain.staff.roles import SCOPES
from domain.storage.models import OAuthGrant
from tests.domain.staff.test_oauth_store import approved, count, store, tokens  # noqa: F401 (fixture)

RACERS = 6


async def test_a_code_exchanged_by_racers_gives_tokens_once_and_none_survive(
        store: OAuthStore, services: Services) -> None:  # noqa: F811
    code = (await approved(store)).code
    assert code is not None
    issued = [t for t in await asyncio.gather(*(store.exchange_code(code) for _ in range(RACERS))) if t is not None]
    assert len(issued) == 1
    assert await count(services, OAuthGrant.kind == "access") == 1
    assert await store.access(issued[0].access_token) is None  # the others' use revoked the consent


async def test_a_refresh_token_rotated_by_racers_is_rotated_once_and_none_survive(
        store: OAuthStore, services: Services) -> None:  # noqa: F811
    first = await tokens(store)
    rotated = [t for t in await asyncio.gather(*(store.rotate(first.refresh_token, list(SCOPES))
                                                 for _ in range(RACERS))) if t is not None]
    assert len(rotated) == 1
    assert await count(services, OAuthGrant.kind == "refresh") == 2  # the first, and the one rotation
    assert await store.access(rotated[0].access_token) is None
