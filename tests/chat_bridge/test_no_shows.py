"""The automatic no-show: `serve` with AUTO_NO_SHOW_MINUTES marks what was not attended that long after its slot,
as one batch by the system; two instances' sweepers racing mark each row once and record one batch (SQLite and
PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from chat_bridge.no_shows import NoShowSweeper
from domain.config import BookingSource
from domain.services import Services, build_services
from domain.storage.database import create_database
from domain.storage.models import BatchRecord, Reservation
from domain.system_agent.batch import BatchOptions
from tests.conftest import PER_CALL, FixedClock
from tests.fakes.graph_api import FakeGraphApi, bridge_settings, graph_api, running_bridge  # noqa: F401

YES = BatchOptions(confirmed=True)
OPERATOR = BatchOptions(confirmed=True, actor="operator", source=BookingSource.OPERATOR)  # a sixth place
ROUNDS = (date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 6), date(2026, 12, 7))


def riyadh(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour - 3, minute, tzinfo=UTC)


async def book_day(services: Services, day: date, first: int) -> None:
    requests = [{"wa_id": f"9665016{first + n:05d}", "date": day.isoformat(), "time_slot": slot}
                for n, slot in enumerate(s for s in ("11:00", "13:00", "15:00") for _ in range(5))]
    report = await services.batch.reserve(requests, YES)
    assert report.counts()["ok"] == 15


async def rows(services: Services) -> dict[str, str]:
    async with services.db.reading() as session:
        found = await session.execute(select(Reservation.wa_id, Reservation.status))
        return {r[0]: str(r[1]) for r in found}


async def records(services: Services) -> list[tuple[str, str, int]]:
    async with services.db.reading() as session:
        found = await session.scalars(select(BatchRecord).where(BatchRecord.actor == "system")
                                      .order_by(BatchRecord.created_at))
        return [(r.actor, r.tool, int(r.result["summary"]["ok"])) for r in found]


async def test_two_sweepers_racing_mark_each_row_once_and_record_one_batch(services: Services,
                                                                           clock: FixedClock) -> None:
    other_db = create_database(services.db.engine.url.render_as_string(hide_password=False))
    other = build_services(services.config, other_db, clock, limits=PER_CALL)
    try:
        sweepers = [NoShowSweeper(services.batch, 30), NoShowSweeper(other.batch, 30)]
        for number, day in enumerate(ROUNDS, 1):
            clock.now = riyadh(day, 10)
            await book_day(services, day, first=number * 100)
            clock.now = riyadh(day, 17, 30)  # the day's last slot ended 30 minutes ago
            await asyncio.gather(*(sweeper.sweep() for sweeper in sweepers))
            assert set((await rows(services)).values()) == {"no_show"}
            assert await records(services) == [("system", "system_mark_attendance", 15)] * number
    finally:
        await other_db.dispose()


async def test_serve_marks_what_was_not_attended_once_its_minutes_passed(services: Services, clock: FixedClock,
                                                                         graph_api: FakeGraphApi) -> None:
    day = ROUNDS[0]
    await book_day(services, day, first=0)
    arrived = await services.batch.reserve([{"wa_id": "966501700001", "date": day.isoformat(),
                                             "time_slot": "11:00"}], OPERATOR)
    clock.now = riyadh(day, 15, 30)  # 11:00 and 13:00 ended 30 minutes ago or more; 15:00 runs until 17:00
    assert (await services.batch.mark_attendance("arrived", [arrived.items[0].reservation_id or 0], options=YES)
            ).status == "applied"
    settings = bridge_settings(graph_api, auto_no_show_minutes=30)
    async with running_bridge(services, graph_api, settings=settings):
        async with asyncio.timeout(10):
            while not await records(services):
                await asyncio.sleep(0.02)
    statuses = await rows(services)
    assert sorted(statuses.values()).count("no_show") == 10 and statuses["966501700001"] == "active"
    assert await records(services) == [("system", "system_mark_attendance", 10)]
    history = await services.batch.recorded((await latest_system_batch(services)))
    assert {c.action for c in history.changes} == {"no_show"}


async def latest_system_batch(services: Services) -> str:
    async with services.db.reading() as session:
        found = await session.scalar(select(BatchRecord.id).where(BatchRecord.actor == "system"))
    assert found is not None
    return found
