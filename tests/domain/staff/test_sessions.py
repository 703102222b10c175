"""Console sessions on SQLite and PostgreSQL: a new secret at every sign-in, kept only as its SHA-256; a secret
that was never issued (a planted one) is nobody; sign-out, expiry, and a disabled account, a new password or a new
role end them."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.services import Services
from domain.staff.roles import Principal, Role
from domain.storage.models import StaffSession
from tests.conftest import FixedClock

PASSWORD = "correct horse battery"


async def signed_in(services: Services, name: str = "amal", role: str = "operator") -> tuple[Principal, str]:
    await services.staff.add(name, role, PASSWORD)
    principal = await services.staff.sign_in(name, PASSWORD, "127.0.0.1")
    return principal, await services.sessions.begin(principal)


async def test_a_session_is_its_account_and_is_stored_only_as_a_digest(services: Services) -> None:
    principal, secret = await signed_in(services)
    async with services.db.reading() as session:
        stored = list(await session.scalars(select(StaffSession.id)))
    assert await services.sessions.principal(secret) == principal == Principal("amal", Role.OPERATOR)
    assert stored == [hashlib.sha256(secret.encode()).hexdigest()]


async def test_every_sign_in_issues_a_new_secret(services: Services) -> None:
    principal, first = await signed_in(services)
    second = await services.sessions.begin(principal)
    assert first != second
    assert await services.sessions.principal(first) == await services.sessions.principal(second) == principal


@pytest.mark.parametrize("planted", ["attacker-chosen-value", "", "x" * 101, hashlib.sha256(b"x").hexdigest()])
async def test_a_secret_that_was_never_issued_is_nobody(services: Services, planted: str) -> None:
    await signed_in(services)
    assert await services.sessions.principal(planted) is None


async def test_a_digest_presented_as_a_secret_is_nobody(services: Services) -> None:
    _, secret = await signed_in(services)
    assert await services.sessions.principal(hashlib.sha256(secret.encode()).hexdigest()) is None


async def test_sign_out_ends_the_session_and_is_in_the_audit_log(services: Services) -> None:
    principal, secret = await signed_in(services)
    await services.sessions.end(secret, principal)
    line = (await services.audit.recent())[0]
    assert await services.sessions.principal(secret) is None
    assert (line.actor, line.action, line.role) == ("operator:amal", "sign_out", "operator")


async def test_a_session_ends_when_its_lifetime_has_passed(services: Services, clock: FixedClock) -> None:
    _, secret = await signed_in(services)
    clock.now += services.sessions.lifetime - timedelta(seconds=1)
    still = await services.sessions.principal(secret)
    clock.now += timedelta(seconds=2)
    assert still is not None and await services.sessions.principal(secret) is None


ENDINGS: dict[str, Callable[[Services], Awaitable[object]]] = {
    "disabled": lambda services: services.staff.disable("amal"),
    "new password": lambda services: services.staff.set_password("amal", "a brand new password"),
    "new role": lambda services: services.staff.set_role("amal", "viewer"),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
async def test_a_change_of_the_account_ends_its_sessions_and_no_other(services: Services, ending: str) -> None:
    _, secret = await signed_in(services)
    sara, hers = await signed_in(services, "sara")
    await ENDINGS[ending](services)
    assert await services.sessions.principal(secret) is None
    assert await services.sessions.principal(hers) == sara


async def test_an_enabled_account_again_does_not_revive_its_ended_sessions(services: Services) -> None:
    _, secret = await signed_in(services)
    await services.staff.disable("amal")
    await services.staff.enable("amal")
    assert await services.sessions.principal(secret) is None
