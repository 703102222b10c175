"""Guesses made in parallel are counted as guesses made in a row: of a burst of wrong passwords for one name, or
from one address, exactly `SIGN_IN_ATTEMPTS` are checked and the rest are throttled, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter

from domain.errors import DomainError
from domain.services import Services
from domain.staff.accounts import SIGN_IN_ATTEMPTS, SignInThrottled
from domain.staff.roles import Principal

PASSWORD = "correct horse battery"
BURST = 12


async def outcome(services: Services, username: str, address: str) -> str:
    try:
        await services.staff.sign_in(username, "a wrong guess!", address)
    except DomainError:
        return "refused"
    except SignInThrottled:
        return "throttled"
    return "signed in"


async def test_a_burst_of_guesses_at_one_name_checks_only_the_allowed_number(services: Services) -> None:
    await services.staff.add("amal", "admin", PASSWORD)
    outcomes = await asyncio.gather(*(outcome(services, "amal", f"203.0.113.{n}") for n in range(BURST)))
    assert Counter(outcomes) == {"refused": SIGN_IN_ATTEMPTS, "throttled": BURST - SIGN_IN_ATTEMPTS}


async def test_a_burst_from_one_address_at_many_names_checks_only_the_allowed_number(services: Services) -> None:
    for n in range(BURST):
        await services.staff.add(f"user{n}", "viewer", PASSWORD)
    outcomes = await asyncio.gather(*(outcome(services, f"user{n}", "203.0.113.9") for n in range(BURST)))
    assert Counter(outcomes) == {"refused": SIGN_IN_ATTEMPTS, "throttled": BURST - SIGN_IN_ATTEMPTS}


async def test_the_right_password_still_signs_in_beside_a_burst_from_elsewhere(services: Services) -> None:
    await services.staff.add("amal", "admin", PASSWORD)
    guesses = [outcome(services, "omar", f"198.51.100.{n}") for n in range(BURST)]
    signed_in, *outcomes = await asyncio.gather(services.staff.sign_in("amal", PASSWORD, "192.0.2.1"), *guesses)
    assert isinstance(signed_in, Principal) and signed_in.name == "amal"
    assert "signed in" not in outcomes
