"""Staff accounts on SQLite and PostgreSQL: added, listed, disabled and enabled, given a new password or role, and
signed in to, with refused sign-ins throttled by name and by address."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import DomainError
from domain.services import Services
from domain.staff.accounts import SIGN_IN_ATTEMPTS, SIGN_IN_WINDOW, SignInThrottled
from domain.staff.roles import Principal, Role
from tests.conftest import FixedClock

PASSWORD = "correct horse battery"
OTHER = "another long password"


async def refused_sign_ins(services: Services, username: str, address: str, times: int = SIGN_IN_ATTEMPTS) -> None:
    for _ in range(times):
        with pytest.raises(DomainError, match="wrong"):
            await services.staff.sign_in(username, "not the password", address)


async def test_an_added_account_is_listed_with_its_role_and_its_addition_is_in_the_audit_log(
        services: Services) -> None:
    added = await services.staff.add("Amal", "operator", PASSWORD, "أمل")
    listed = await services.staff.listed()
    lines = await services.audit.recent()
    assert (added.username, added.display_name, added.role, added.disabled) == ("amal", "أمل", Role.OPERATOR, False)
    assert [(u.username, u.role) for u in listed] == [("amal", Role.OPERATOR)]
    assert [(line.actor, line.action, line.target, line.detail) for line in lines] == [
        ("command_line", "user_add", "amal", {"role": "operator"})]


@pytest.mark.parametrize(("username", "role", "password", "code"), [
    ("amal", "operator", PASSWORD, "user_exists"), ("a b", "operator", PASSWORD, "invalid_username"),
    ("аmal", "operator", PASSWORD, "invalid_username"),  # a Cyrillic "а": two names must never look alike
    ("sara", "owner", PASSWORD, "invalid_role"), ("sara", "viewer", "short", "weak_password"),
    ("sara", "viewer", "x" * 2000, "weak_password")])
async def test_an_account_that_cannot_be_added_is_refused_and_nothing_is_added(
        services: Services, username: str, role: str, password: str, code: str) -> None:
    await services.staff.add("amal", "operator", PASSWORD)
    with pytest.raises(DomainError) as refused:
        await services.staff.add(username, role, password)
    assert refused.value.code == code
    assert [u.username for u in await services.staff.listed()] == ["amal"]


async def test_the_right_password_signs_in_as_the_account_with_its_role(services: Services) -> None:
    await services.staff.add("amal", "admin", PASSWORD)
    principal = await services.staff.sign_in(" AMAL ", PASSWORD, "127.0.0.1")
    assert principal == Principal("amal", Role.ADMIN)
    assert principal.actor == "operator:amal"
    assert [(line.actor, line.action, line.outcome) for line in await services.audit.recent()][0] == (
        "operator:amal", "sign_in", "ok")


@pytest.mark.parametrize(("username", "password"), [("amal", "wrong password!"), ("nobody", PASSWORD),
                                                    ("amal", ""), ("amal", "x" * 1_000_000)])
async def test_a_wrong_password_or_an_unknown_name_gets_the_same_refusal(services: Services, username: str,
                                                                         password: str) -> None:
    await services.staff.add("amal", "admin", PASSWORD)
    with pytest.raises(DomainError) as refused:
        await services.staff.sign_in(username, password, "127.0.0.1")
    assert refused.value.code == "sign_in_refused"
    line = (await services.audit.recent())[0]
    assert (line.actor, line.action, line.outcome, line.target) == ("address:127.0.0.1", "sign_in", "refused",
                                                                    username)


async def test_a_disabled_account_signs_in_nowhere_until_it_is_enabled(services: Services) -> None:
    await services.staff.add("amal", "operator", PASSWORD)
    disabled = await services.staff.disable("amal")
    with pytest.raises(DomainError, match="disabled"):
        await services.staff.sign_in("amal", PASSWORD, None)
    await services.staff.enable("amal")
    assert disabled.disabled is True
    assert (await services.staff.sign_in("amal", PASSWORD, None)).name == "amal"


async def test_a_new_password_replaces_the_old_one(services: Services) -> None:
    await services.staff.add("amal", "operator", PASSWORD)
    await services.staff.set_password("amal", OTHER)
    with pytest.raises(DomainError, match="wrong"):
        await services.staff.sign_in("amal", PASSWORD, None)
    assert (await services.staff.sign_in("amal", OTHER, None)).name == "amal"


async def test_a_new_role_is_the_one_the_next_sign_in_carries(services: Services) -> None:
    await services.staff.add("amal", "operator", PASSWORD)
    changed = await services.staff.set_role("amal", "viewer")
    principal = await services.staff.sign_in("amal", PASSWORD, None)
    assert (changed.role, principal.role, principal.writes) == (Role.VIEWER, Role.VIEWER, False)


async def test_a_change_of_an_unknown_account_is_refused(services: Services) -> None:
    with pytest.raises(DomainError) as refused:
        await services.staff.disable("nobody")
    assert refused.value.code == "user_not_found"


async def test_accounts_exist_only_while_one_is_enabled(services: Services) -> None:
    before = await services.staff.exist()
    await services.staff.add("amal", "admin", PASSWORD)
    with_one = await services.staff.exist()
    await services.staff.disable("amal")
    assert (before, with_one, await services.staff.exist()) == (False, True, False)


async def test_after_five_refusals_for_a_name_even_its_right_password_is_throttled(services: Services) -> None:
    await services.staff.add("amal", "operator", PASSWORD)
    await services.staff.add("sara", "operator", PASSWORD)
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"):
        await refused_sign_ins(services, "amal", address, times=1)
    with pytest.raises(SignInThrottled) as throttled:
        await services.staff.sign_in("amal", PASSWORD, "10.0.0.9")
    assert throttled.value.retry_after == int(SIGN_IN_WINDOW.total_seconds())
    assert (await services.staff.sign_in("sara", PASSWORD, "10.0.0.9")).name == "sara"
    assert (await services.audit.recent())[1].detail == {"reason": "throttled"}


async def test_after_five_refusals_from_an_address_every_name_is_throttled_there(services: Services) -> None:
    await services.staff.add("amal", "operator", PASSWORD)
    for name in ("a1", "a2", "a3", "a4", "a5"):
        await refused_sign_ins(services, name, "203.0.113.7", times=1)
    with pytest.raises(SignInThrottled):
        await services.staff.sign_in("amal", PASSWORD, "203.0.113.7")
    assert (await services.staff.sign_in("amal", PASSWORD, "198.51.100.1")).name == "amal"


async def test_the_throttle_lifts_once_the_window_has_passed(services: Services, clock: FixedClock) -> None:
    await services.staff.add("amal", "operator", PASSWORD)
    await refused_sign_ins(services, "amal", "203.0.113.7")
    with pytest.raises(SignInThrottled):
        await services.staff.sign_in("amal", PASSWORD, "203.0.113.7")
    clock.now += SIGN_IN_WINDOW + timedelta(seconds=1)
    assert (await services.staff.sign_in("amal", PASSWORD, "203.0.113.7")).name == "amal"
