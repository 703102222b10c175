"""Moving a day onto a day whose times are full or different, as the served app's `system_batch_modify` does
it with `updates.placement`: where each reservation landed and why, in the model's text and the database,
and capacity kept under concurrent writers."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from typing import Any

from mcp import Client
from sqlalchemy import select

from domain.storage.models import Reservation
from domain.services import Services
from domain.system_agent.batch import BatchOptions
from tests.fakes.graph_api import RunningBridge, bridge, graph_api  # noqa: F401

SUNDAY, MONDAY, SATURDAY = "2026-12-06", "2026-12-07", "2026-12-12"
MOVE_SUNDAY: dict[str, Any] = {"filters": {"dates": [SUNDAY]}, "updates": {"new_date": MONDAY}}


def number(n: int) -> str:
    return f"9665077{n:05d}"


async def booked(services: Services, day: str, slot: str, count: int, first: int) -> list[str]:
    wa_ids = [number(first + n) for n in range(count)]
    for wa_id in wa_ids:
        await services.customers.ensure(wa_id, f"Patient {wa_id[-3:]}")
        assert (await services.reservations.reserve(wa_id, day, slot)).reservation is not None
    return wa_ids


async def call(bridge: RunningBridge, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    async with Client(f"{bridge.url}/mcp") as client:
        result = await client.call_tool("system_batch_modify", arguments)
    assert result.is_error is False, result.content
    return result.content[0].text, result.structured_content or {}  # type: ignore[union-attr]


async def places(services: Services, wa_ids: list[str]) -> dict[str, tuple[str, str]]:
    async with services.db.reading() as session:
        rows = await session.execute(select(Reservation.wa_id, Reservation.date, Reservation.time_slot)
                                     .where(Reservation.wa_id.in_(wa_ids), Reservation.status == "active"))
        return {wa_id: (day.isoformat(), slot) for wa_id, day, slot in rows}


def with_placement(placement: str, **more: Any) -> dict[str, Any]:
    return {**MOVE_SUNDAY, "updates": {**MOVE_SUNDAY["updates"], "placement": placement}, **more}


async def test_keeping_the_time_fails_on_a_full_slot_and_says_so(services: Services,
                                                                 bridge: RunningBridge) -> None:  # noqa: F811
    movers = await booked(services, SUNDAY, "11:00", 2, 0)
    await booked(services, MONDAY, "11:00", 5, 100)
    _, data = await call(bridge, MOVE_SUNDAY)
    assert data["status"] == "failed" and data["failures"][0]["code"] == "slot_full"
    assert set((await places(services, movers)).values()) == {(SUNDAY, "11:00")}


async def test_nearest_puts_each_reservation_in_the_nearest_free_slot_and_says_where_and_why(
        services: Services, bridge: RunningBridge) -> None:  # noqa: F811
    movers = await booked(services, SUNDAY, "11:00", 3, 0)
    await booked(services, MONDAY, "11:00", 4, 100)
    await booked(services, MONDAY, "13:00", 4, 200)
    text, data = await call(bridge, with_placement("nearest"))
    assert data["status"] == "applied" and data["summary"]["placed"] == {"nearest": 2}
    assert "Placed at another time than asked: nearest 2." in text
    landed = await places(services, movers)
    assert sorted(landed.values()) == [(MONDAY, "11:00"), (MONDAY, "13:00"), (MONDAY, "15:00")]
    second = next(w for w, where in landed.items() if where == (MONDAY, "13:00"))
    assert f"{second}|moved|Sun {SUNDAY} (1448-06-26) 11:00 (11:00 AM)|Mon {MONDAY} (1448-06-27) 13:00 (1:00 PM)|placed nearest: 11:00 slot_full" \
        in text


async def test_a_dry_run_shows_the_placement_and_writes_nothing(services: Services,
                                                                 bridge: RunningBridge) -> None:  # noqa: F811
    movers = await booked(services, SUNDAY, "13:00", 1, 0)
    await booked(services, MONDAY, "13:00", 5, 100)
    text, data = await call(bridge, with_placement("nearest", dry_run=True))
    assert data["status"] == "dry_run" and "placed" in data["sample"]["columns"]
    assert f"Mon {MONDAY} (1448-06-27) 11:00 (11:00 AM)|placed nearest: 13:00 slot_full" in text  # a tie goes to the earlier
    assert await places(services, movers) == {movers[0]: (SUNDAY, "13:00")}


async def test_a_day_with_other_hours_takes_its_nearest_or_its_first_free_slot(
        services: Services, bridge: RunningBridge) -> None:  # noqa: F811
    movers = await booked(services, SUNDAY, "13:00", 1, 0)
    await booked(services, SATURDAY, "16:00", 5, 100)
    to_saturday = {"filters": {"dates": [SUNDAY]}, "updates": {"new_date": SATURDAY, "placement": "nearest"}}
    text, _ = await call(bridge, to_saturday)
    assert "placed nearest: 13:00 slot_unavailable" in text
    assert await places(services, movers) == {movers[0]: (SATURDAY, "18:00")}
    back = {"filters": {"dates": [SATURDAY], "wa_ids": movers},
            "updates": {"new_date": MONDAY, "new_time": "15:00", "placement": "first_free"}}
    text, _ = await call(bridge, back)
    assert "placed first_free" in text and await places(services, movers) == {movers[0]: (MONDAY, "11:00")}


async def test_a_full_day_fails_each_item_naming_the_day(services: Services,
                                                         bridge: RunningBridge) -> None:  # noqa: F811
    await booked(services, SUNDAY, "11:00", 1, 0)
    for n, slot in enumerate(("11:00", "13:00", "15:00")):
        await booked(services, MONDAY, slot, 5, 100 + 10 * n)
    _, data = await call(bridge, with_placement("first_free"))
    assert data["failures"][0]["code"] == "day_full"
    assert data["failures"][0]["message"] == f"No slot on {MONDAY} (1448-06-27 AH) has room left."


async def test_placements_racing_each_other_and_single_bookings_never_pass_capacity(services: Services) -> None:
    """Three days of 5 patients at 11:00 move onto Monday with nearest, at once, while 10 customers book
    Monday's 13:00 and 15:00 one by one (the slots the placements spill into): every slot ends at or under
    its capacity, Monday is full, and every mover is somewhere."""
    movers = []
    for n, day in enumerate(("2026-12-06", "2026-12-08", "2026-12-09")):
        movers += await booked(services, day, "11:00", 5, 1000 * n)
    walk_ins = [number(9000 + n) for n in range(10)]

    async def move(day: str) -> None:
        await services.batch.modify(filters={"dates": [day]}, updates={"new_date": MONDAY, "placement": "nearest"},
                                    options=BatchOptions(confirmed=True))

    async def walk_in(n: int, wa_id: str) -> None:
        try:
            await services.reservations.reserve(wa_id, MONDAY, ("13:00", "15:00")[n % 2])
        except Exception as error:  # a full slot is the expected refusal
            assert "full" in str(error), error

    await asyncio.gather(*(move(d) for d in ("2026-12-06", "2026-12-08", "2026-12-09")),
                         *(walk_in(n, w) for n, w in enumerate(walk_ins)))
    async with services.db.reading() as session:
        monday = Counter(await session.scalars(select(Reservation.time_slot).where(
            Reservation.date == date.fromisoformat(MONDAY), Reservation.status == "active")))
    assert max(monday.values()) <= 5 and sum(monday.values()) == 15
    assert len(await places(services, movers)) == len(movers)
