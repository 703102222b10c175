"""AvailabilityService over a real calendar."""

import pytest

from domain.services import Services
from domain.errors import DomainError


async def test_a_day_lists_its_open_slots_with_remaining_places(services: Services) -> None:
    await services.reservations.reserve("966501234567", "2026-12-06", "11:00")
    [day] = await services.availability.search("2026-12-06")
    assert day["status"] == "open" and day["timezone"] == "Asia/Riyadh"
    assert [(s["time_slot"], s["remaining"]) for s in day["slots"]] == [("11:00", 4), ("13:00", 5), ("15:00", 5)]


async def test_a_full_slot_is_left_out(services: Services) -> None:
    for n in range(5):
        await services.reservations.reserve(f"9665012{n:05d}", "2026-12-06", "11:00")
    [day] = await services.availability.search("2026-12-06")
    assert [s["time_slot"] for s in day["slots"]] == ["13:00", "15:00"]


async def test_a_range_with_a_time_gives_the_nearest_slot_per_day(services: Services) -> None:
    days = await services.availability.search("2026-12-04", "2026-12-06", near_time="5:00 PM")
    assert [(d["date"], d["status"], [s["time_slot"] for s in d["slots"]]) for d in days] == [
        ("2026-12-04", "closed", []),
        ("2026-12-05", "open", ["16:00"]),
        ("2026-12-06", "open", ["15:00"]),
    ]


async def test_vacation_days_say_so(services: Services) -> None:
    await services.vacations.add("2026-12-06", "2026-12-06", "Staff training")
    [day] = await services.availability.search("2026-12-06")
    assert (day["status"], day["vacation"], day["slots"]) == ("vacation", "Staff training", [])


async def test_a_reversed_range_is_an_error(services: Services) -> None:
    with pytest.raises(DomainError) as error:
        await services.availability.search("2026-12-10", "2026-12-01")
    assert error.value.code == "invalid_range"
