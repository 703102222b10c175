"""Capacity holds under concurrent writers, on SQLite and on PostgreSQL."""

import asyncio

from domain.services import Services
from domain.errors import DomainError


async def test_fifty_simultaneous_bookings_leave_exactly_the_capacity(services: Services) -> None:
    async def attempt(n: int) -> str:
        try:
            await services.reservations.reserve(f"9665011{n:05d}", "2026-12-06", "11:00")
        except DomainError as error:
            return error.code
        return "ok"

    outcomes = await asyncio.gather(*(attempt(n) for n in range(50)))
    assert outcomes.count("ok") == 5
    assert outcomes.count("slot_full") == 45
    day = await services.availability.search("2026-12-06", only_available=False)
    assert day[0]["slots"][0]["booked"] == 5


async def test_one_customer_booking_twice_at_once_keeps_one_reservation(services: Services) -> None:
    await asyncio.gather(
        services.reservations.reserve("966501234567", "2026-12-06", "11:00"),
        services.reservations.reserve("966501234567", "2026-12-07", "13:00"),
    )
    assert len(await services.reservations.customer_reservations("966501234567")) == 1
