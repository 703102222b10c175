"""Day-before reminders as the served app sends them: queued once when the local reminder time has passed,
whatever restarts or second instances, sent through the fake Graph API, never stale."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time

import pytest
from sqlalchemy import select

from domain.config import ClinicConfig
from domain.storage.database import Database
from domain.storage.models import Notice
from domain.notices.templates import NoticeConfig
from domain.services import Services, build_services
from tests.conftest import PER_CALL
from tests.chat_bridge.test_notices import FATIMA, LAYLA, OMAR, RunningClock, notices, tool
from tests.fakes.graph_api import FakeGraphApi, graph_api, running_bridge  # noqa: F401

WEDNESDAY, THURSDAY = "2026-12-02", "2026-12-03"
EVENING = datetime(2026, 12, 1, 15, 5, tzinfo=UTC)  # 18:05 in Riyadh, Tuesday
REMINDERS = NoticeConfig(clinic_name="Al Noor Clinic", reminder_time=time(18), rate_per_second=50)


@pytest.fixture
def services(db: Database, config: ClinicConfig) -> Services:
    return build_services(config, db, RunningClock(EVENING), notices=REMINDERS, limits=PER_CALL)


async def book_tomorrow(services: Services) -> None:
    for wa_id, name, slot in [(FATIMA, "فاطمة", "11:00"), (OMAR, "Omar Haddad", "13:00"), (LAYLA, "ليلى", "15:00")]:
        await services.customers.ensure(wa_id, name)
        assert (await services.reservations.reserve(wa_id, WEDNESDAY, slot)).reservation is not None
    await services.conversations.append(OMAR, "user", "Thanks, see you then")
    await services.customers.ensure("966509999999", "Later One")
    await services.reservations.reserve("966509999999", THURSDAY, "11:00")  # not tomorrow: no reminder


async def test_each_reservation_of_tomorrow_is_reminded_once_across_restarts(
    services: Services, graph_api: FakeGraphApi  # noqa: F811
) -> None:
    await book_tomorrow(services)
    graph_api.approve_defaults()
    async with running_bridge(services, graph_api):
        await graph_api.wait_for_sends(3)
    async with running_bridge(services, graph_api) as again:  # a restart finds the evening's run recorded
        _, witness = await tool(again, "system_batch_cancel", {"requests": [{"wa_id": "966509999999"}],
                                                               "notify": True})
        await graph_api.wait_for_sends(4)
    reminders = [m for m in graph_api.sent if m.template == "appointment_reminder"]
    assert sorted(m.to for m in reminders) == sorted([FATIMA, OMAR, LAYLA])
    [to_omar] = [m for m in reminders if m.to == OMAR]
    assert (to_omar.language, to_omar.parameters) == ("en", ("Omar Haddad", "Al Noor Clinic", "Wednesday",
                                                             WEDNESDAY, "13:00"))
    assert to_omar.text == ("Hello Omar Haddad, a reminder from Al Noor Clinic: your appointment is tomorrow, "
                            f"Wednesday {WEDNESDAY} at 13:00.")
    page = await services.conversations.page(OMAR)
    assert [m.text for m in page if (m.meta or {}).get("notice")] == [to_omar.text]
    assert witness["notices"]["queued"] == 1


async def test_a_reservation_moved_or_cancelled_before_the_send_gets_no_stale_reminder(
    services: Services, graph_api: FakeGraphApi  # noqa: F811
) -> None:
    await book_tomorrow(services)
    assert await services.reminders.queue() == 3  # as the sender does once the evening comes
    [layla] = await services.reservations.customer_reservations(LAYLA)
    await services.reservations.cancel(LAYLA)
    await services.reservations.modify(FATIMA, new_time="15:00")
    graph_api.approve_defaults()
    async with running_bridge(services, graph_api):
        await graph_api.wait_for_sends(1)  # the reminders are claimed together: the stale ones are settled then
    stored = {n.wa_id: n for n in await notices(services)}
    assert stored[LAYLA].status == stored[FATIMA].status == "skipped"
    assert stored[LAYLA].reservation_id == layla.id
    assert [m.to for m in graph_api.sent] == [OMAR]


async def test_two_instances_queue_the_evenings_reminders_once(db: Database, config: ClinicConfig) -> None:
    first, second = (build_services(config, db, RunningClock(EVENING), notices=REMINDERS, limits=PER_CALL) for _ in range(2))
    await book_tomorrow(first)
    counts = await asyncio.gather(first.reminders.queue(), second.reminders.queue())
    assert sorted(counts) == [0, 3]
    assert await first.reminders.queue() == 0
    async with db.reading() as session:
        assert len(list(await session.scalars(select(Notice)))) == 3


async def test_before_the_reminder_time_or_with_reminders_off_nothing_is_queued(db: Database,
                                                                               config: ClinicConfig) -> None:
    early = build_services(config, db, RunningClock(datetime(2026, 12, 1, 14, 0, tzinfo=UTC)), notices=REMINDERS)
    await book_tomorrow(early)
    assert await early.reminders.queue() == 0  # 17:00 in Riyadh
    off = build_services(config, db, RunningClock(EVENING), notices=NoticeConfig(reminder_time=None))
    assert await off.reminders.queue() == 0
