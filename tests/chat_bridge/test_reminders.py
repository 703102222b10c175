"""Day-before reminders as the served app sends them: queued once when the local reminder time has passed,
whatever restarts or second instances, sent through the fake Graph API, never stale."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any

import pytest
from sqlalchemy import select

from domain.config import ClinicConfig
from domain.storage.database import Database
from domain.storage.models import Notice
from domain.notices.templates import NoticeConfig, TemplateError, notice_templates
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
    reminders = [m for m in graph_api.sent if m.to != "966509999999"]
    assert sorted(m.to for m in reminders) == sorted([FATIMA, OMAR, LAYLA])
    [to_omar] = [m for m in reminders if m.to == OMAR]  # he wrote this evening: inside his 24-hour window
    assert to_omar.kind == "interactive"
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


def quick_replies(notice_id: int) -> list[dict[str, Any]]:
    return [{"type": "button", "sub_type": "quick_reply", "index": str(index),
             "parameters": [{"type": "payload", "payload": f"r:{notice_id}:{action}"}]}
            for index, action in enumerate(("confirm", "reschedule", "cancel"))]


async def test_a_reminder_is_a_template_with_quick_replies_outside_the_window_and_interactive_inside_it(
    services: Services, graph_api: FakeGraphApi  # noqa: F811
) -> None:
    await book_tomorrow(services)
    graph_api.approve_defaults()
    async with running_bridge(services, graph_api):
        await graph_api.wait_for_sends(3)
    ids = {n.wa_id: n.id for n in await notices(services)}
    [to_fatima] = [m for m in graph_api.sent if m.to == FATIMA]  # she never wrote: the approved template
    assert to_fatima.payload == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": FATIMA, "type": "template",
        "template": {"name": "appointment_reminder", "language": {"code": "ar"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": value} for value in
                                            ("فاطمة", "Al Noor Clinic", "الأربعاء", WEDNESDAY, "11:00")]},
            *quick_replies(ids[FATIMA])]},
        "biz_opaque_callback_data": f"notice:{ids[FATIMA]}"}
    [to_omar] = [m for m in graph_api.sent if m.to == OMAR]  # he wrote this evening: reply buttons
    assert to_omar.payload == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": OMAR, "type": "interactive",
        "interactive": {"type": "button", "body": {"text": "Hello Omar Haddad, a reminder from Al Noor Clinic: your "
                                                           f"appointment is tomorrow, Wednesday {WEDNESDAY} at 13:00."},
                        "action": {"buttons": [
                            {"type": "reply", "reply": {"id": f"r:{ids[OMAR]}:{action}", "title": title}}
                            for action, title in (("confirm", "Confirm"), ("reschedule", "Reschedule"),
                                                  ("cancel", "Cancel"))]}},
        "biz_opaque_callback_data": f"notice:{ids[OMAR]}"}
    stored = {n.wa_id: n for n in await notices(services)}
    assert stored[LAYLA].buttons == [{"id": f"r:{ids[LAYLA]}:confirm", "title": "تأكيد الموعد"},
                                     {"id": f"r:{ids[LAYLA]}:reschedule", "title": "تغيير الموعد"},
                                     {"id": f"r:{ids[LAYLA]}:cancel", "title": "إلغاء الموعد"}]


async def test_button_titles_are_configured_per_language(db: Database, config: ClinicConfig) -> None:
    titles = {"reminder": {"buttons": {"en": {"confirm": "Yes, I'll come", "reschedule": "Another time",
                                              "cancel": "I can't come"}}}}
    configured = replace(REMINDERS, templates=notice_templates(json.dumps(titles)))
    services = build_services(config, db, RunningClock(EVENING), notices=configured, limits=PER_CALL)
    await book_tomorrow(services)
    assert await services.reminders.queue() == 3
    stored = {n.wa_id: n for n in await notices(services)}
    assert [b["title"] for b in stored[OMAR].buttons or []] == ["Yes, I'll come", "Another time", "I can't come"]
    assert [b["title"] for b in stored[FATIMA].buttons or []] == ["تأكيد الموعد", "تغيير الموعد", "إلغاء الموعد"]


def test_a_button_title_longer_than_whatsapp_allows_is_refused_when_the_settings_are_read() -> None:
    too_long = {"reminder": {"buttons": {"en": {"confirm": "Confirm my appointment please", "reschedule": "Move",
                                                "cancel": "Cancel"}}}}
    with pytest.raises(TemplateError, match="1 to 20 characters"):
        notice_templates(json.dumps(too_long))


SAME_DAY = replace(REMINDERS, reminder_time=None, same_day_hours=3)
MORNING = datetime(2026, 12, 2, 5, 30, tzinfo=UTC)  # 08:30 in Riyadh, Wednesday: 11:00 is within 3 hours


async def test_the_same_day_reminder_goes_once_hours_before_its_slot_even_with_two_instances(
    db: Database, config: ClinicConfig, graph_api: FakeGraphApi  # noqa: F811
) -> None:
    booking = build_services(config, db, RunningClock(EVENING), notices=SAME_DAY, limits=PER_CALL)
    await book_tomorrow(booking)
    first, second = (build_services(config, db, RunningClock(MORNING), notices=SAME_DAY, limits=PER_CALL)
                     for _ in range(2))
    counts = await asyncio.gather(first.reminders.queue(), second.reminders.queue())
    assert sorted(counts) == [0, 1]  # only 11:00 is within 3 hours; 13:00 and 15:00 come later
    assert await first.reminders.queue() == 0
    graph_api.approve_defaults()
    async with running_bridge(first, graph_api):
        await graph_api.wait_for_sends(1)
    [sent] = graph_api.sent
    [notice] = await notices(first)
    assert (sent.to, sent.template, notice.purpose) == (FATIMA, "appointment_reminder_today", "same_day")
    assert sent.text == "مرحباً فاطمة، تذكير من Al Noor Clinic: موعدك اليوم الساعة 11:00."
    assert sent.buttons == tuple(f"r:{notice.id}:{a}" for a in ("confirm", "reschedule", "cancel"))


async def test_a_reminder_time_inside_quiet_hours_is_not_held_past_the_day_it_speaks_of(db: Database,
                                                                                       config: ClinicConfig) -> None:
    late = datetime(2026, 12, 1, 19, 45, tzinfo=UTC)  # 22:45 in Riyadh: quiet until 08:00, the appointment's day
    night = build_services(config, db, RunningClock(late), notices=replace(REMINDERS, reminder_time=time(22, 30)),
                           limits=PER_CALL)
    await book_tomorrow(night)
    assert await night.reminders.queue() == 3
    assert all(n.available_at <= night.clock() for n in await notices(night))


async def test_a_same_day_reminder_due_inside_quiet_hours_waits_for_their_end(db: Database,
                                                                            config: ClinicConfig) -> None:
    dawn = datetime(2026, 12, 2, 3, 30, tzinfo=UTC)  # 06:30 in Riyadh: 11:00 is within 5 hours
    early = build_services(config, db, RunningClock(dawn), notices=replace(SAME_DAY, same_day_hours=5),
                           limits=PER_CALL)
    await book_tomorrow(early)  # booked on the evening before, as RunningClock(dawn) dates them: Wednesday
    assert await early.reminders.queue() == 1
    [notice] = await notices(early)
    assert notice.available_at == datetime(2026, 12, 2, 5, 0, tzinfo=UTC)  # 08:00 in Riyadh
