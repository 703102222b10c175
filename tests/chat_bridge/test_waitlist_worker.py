"""The waitlist in the served app, on SQLite and PostgreSQL: a cancellation from the console opens a place offered to
the first wave with notices in the outbox (the day event wakes the worker); room freed while no bridge ran is found
by the sweep as the bridge starts; a hold that ends moves to the next wave; the console lists the open offers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from sqlalchemy import select

from domain.services import Services
from domain.storage.models import Notice, WaitlistOffer, WaitlistPlace
from tests.conftest import FixedClock
from tests.fakes.graph_api import FakeGraphApi, RunningBridge, bridge, graph_api, running_bridge  # noqa: F401

SUNDAY = date(2026, 12, 6)
FULL = [f"9665010000{n:02d}" for n in range(5)]
WAITING = [f"9665020000{n:02d}" for n in range(4)]


async def full_sunday_with_four_waiting(services: Services, clock: FixedClock) -> list[int]:
    """Sunday 11:00 full (an agent's five), four waiting for it; the reservation ids."""
    ids = []
    for wa_id in FULL:
        result = await services.reservations.reserve(wa_id, SUNDAY, "11:00")
        assert result.reservation is not None
        ids.append(result.reservation.id)
    for wa_id in WAITING:
        clock.now += timedelta(seconds=1)
        await services.waitlist.join(wa_id, SUNDAY, SUNDAY, ["11:00"], author="customer")
    return ids


async def until(found: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    """Wait for a condition, polled, within a deadline."""
    async with asyncio.timeout(seconds):
        while not await found():
            await asyncio.sleep(0.02)


async def open_offers(services: Services) -> list[tuple[str, int]]:
    async with services.db.reading() as session:
        rows = await session.execute(select(WaitlistOffer.wa_id, WaitlistOffer.wave)
                                     .where(WaitlistOffer.status == "open").order_by(WaitlistOffer.id))
        return [(w, n) for w, n in rows.all()]


async def offer_notices(services: Services) -> list[tuple[str, str]]:
    async with services.db.reading() as session:
        rows = await session.execute(select(Notice.wa_id, Notice.purpose).where(Notice.purpose.in_(
            ("offer", "offer_gone"))).order_by(Notice.id))
        return [(w, p) for w, p in rows.all()]


async def test_a_cancel_from_the_console_offers_the_place_to_the_first_wave(bridge: RunningBridge,
                                                                            clock: FixedClock) -> None:
    ids = await full_sunday_with_four_waiting(bridge.services, clock)
    cancelled = await bridge.http.post("/batches/cancel", json={"requests": [{"reservation_id": ids[0]}]})
    assert cancelled.json()["status"] == "applied"

    async def offered() -> bool:
        return len(await open_offers(bridge.services)) == 3
    await until(offered)
    assert await open_offers(bridge.services) == [(w, 1) for w in WAITING[:3]]
    assert await offer_notices(bridge.services) == [(w, "offer") for w in WAITING[:3]]
    listed = (await bridge.http.get("/waitlist")).json()
    assert [(o["wa_id"], o["date"], o["time_slot"], o["wave"]) for o in listed["offers"]] == [
        (w, "2026-12-06", "11:00", 1) for w in WAITING[:3]]
    clock.now += timedelta(minutes=15)  # the hold ends: the worker moves to the next wave

    async def next_wave() -> bool:
        return await open_offers(bridge.services) == [(WAITING[3], 2)]
    await until(next_wave)
    assert await offer_notices(bridge.services) == [
        *((w, "offer") for w in WAITING[:3]), *((w, "offer_gone") for w in WAITING[:3]), (WAITING[3], "offer")]
    async with bridge.services.db.reading() as session:
        places = list(await session.scalars(select(WaitlistPlace)))
    assert [(p.slot_time, p.status, p.wave) for p in places] == [("11:00", "offering", 2)]


async def test_room_freed_while_no_bridge_ran_is_found_by_the_sweep(
        services: Services, graph_api: FakeGraphApi, clock: FixedClock) -> None:  # noqa: F811
    await full_sunday_with_four_waiting(services, clock)
    await services.reservations.cancel(FULL[0])  # no bridge: nothing heard of it
    assert await open_offers(services) == []
    async with running_bridge(services, graph_api):
        async def offered() -> bool:
            return len(await open_offers(services)) == 3
        await until(offered)
    assert await open_offers(services) == [(w, 1) for w in WAITING[:3]]


async def test_a_closure_reopened_from_the_console_offers_its_room_to_the_waitlist(bridge: RunningBridge,
                                                                                  clock: FixedClock) -> None:
    monday = SUNDAY + timedelta(days=1)
    await full_sunday_with_four_waiting(bridge.services, clock)
    closed = await bridge.http.post("/closures", json={"start_date": monday.isoformat(),
                                                       "end_date": monday.isoformat(), "title": "Inventory"})
    assert closed.json()["status"] == "applied"
    [closure] = closed.json()["closures"]
    await bridge.services.waitlist.join(WAITING[0], SUNDAY, monday, ["11:00"], author="customer")
    assert await bridge.services.waitlist.sweep() == 0  # Sunday is full and Monday closed: nothing to offer
    reopened = await bridge.http.delete(f"/closures/{closure['id']}")
    assert reopened.json()["status"] == "applied"

    async def offered() -> bool:
        return len(await open_offers(bridge.services)) == 1
    await until(offered)
    async with bridge.services.db.reading() as session:
        [place] = list(await session.scalars(select(WaitlistPlace)))
    assert (place.slot_date, place.slot_time, place.status) == (monday, "11:00", "offering")
    assert await open_offers(bridge.services) == [(WAITING[0], 1)]
