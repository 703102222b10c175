"""Customers' presses of a reminder's buttons, as the served app takes them: signed webhook deliveries shaped as
WhatsApp sends them (an interactive `button_reply`, a template's quick-reply `button`), what the database holds
afterwards, and the one answer each customer gets through the fake Graph API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from sqlalchemy import select

from calendar_agent.bootstrap.serve import build_service_app

from chat_bridge.queue import AgentKind
from domain.config import ClinicConfig
from domain.storage.database import Database
from domain.storage.models import Reservation
from domain.services import Services, build_services
from tests.chat_bridge.test_notices import FATIMA, LAYLA, OMAR, RunningClock, notices
from tests.chat_bridge.test_reminders import EVENING, REMINDERS, WEDNESDAY, book_tomorrow
from tests.chat_bridge.test_webhook import deliver
from tests.conftest import PER_CALL
from tests.fakes.fixtures import anthropic_api, anthropic_server  # noqa: F401
from tests.fakes.graph_api import (FakeGraphApi, RunningBridge, bridge_settings, button_press, graph_api,  # noqa: F401
                                   running_bridge, signed)
from tests.fakes.llm import Reply, ScriptedLLM
from tests.fakes.loopback import serve_on_loopback

AGENT = "12125550123"


@pytest.fixture
def services(db: Database, config: ClinicConfig) -> Services:
    return build_services(config, db, RunningClock(EVENING), notices=REMINDERS, limits=PER_CALL)


@pytest.fixture
async def bridge(services: Services, graph_api: FakeGraphApi) -> AsyncIterator[RunningBridge]:  # noqa: F811
    """Tomorrow's three customers reminded (Fatima and Layla by template, Omar, who wrote, interactively)."""
    await book_tomorrow(services)
    assert await services.reminders.queue() == 3
    graph_api.approve_defaults()
    async with running_bridge(services, graph_api) as running:
        await graph_api.wait_for_sends(3)
        yield running


async def reminder_of(services: Services, wa_id: str) -> int:
    [notice] = [n for n in await notices(services) if n.wa_id == wa_id and n.purpose == "reminder"]
    return notice.id


async def booking(services: Services, wa_id: str) -> Reservation:
    async with services.db.reading() as session:
        found = await session.scalar(select(Reservation).where(Reservation.wa_id == wa_id))
    assert found is not None
    return found


async def answers(bridge: RunningBridge, wa_id: str, count: int) -> list[str]:
    """The texts `wa_id` got after their reminder, once there are `count` (a deadline, not a pause)."""
    await bridge.graph.wait_for_sends(3 + count)
    return [m.text for m in bridge.graph.sent if m.to == wa_id and m.kind == "text"]


async def press(bridge: RunningBridge, wa_id: str, message_id: str, payload: str, title: str, **options: Any) -> None:
    assert await deliver(bridge, button_press(wa_id, message_id, payload, title, **options)) == 200


async def test_confirm_from_reply_buttons_confirms_the_booking_and_thanks_the_customer(bridge: RunningBridge,
                                                                                       services: Services) -> None:
    reminder = await reminder_of(services, OMAR)
    await press(bridge, OMAR, "wamid.P1", f"r:{reminder}:confirm", "Confirm", context="wamid.fake2")
    assert await answers(bridge, OMAR, 1) == [
        f"Thank you, your appointment on Wednesday {WEDNESDAY} at 13:00 is confirmed."]
    confirmed = await booking(services, OMAR)
    assert (confirmed.attendance, confirmed.status) == ("confirmed", "active")
    assert confirmed.attendance_at is not None
    [pressed] = [m for m in await services.conversations.page(OMAR) if (m.meta or {}).get("button")]
    assert (pressed.role, pressed.text) == ("user", "Confirm")
    assert pressed.meta == {"whatsapp_type": "interactive",
                            "button": {"payload": f"r:{reminder}:confirm", "context": "wamid.fake2"}}


async def test_cancel_from_a_templates_quick_reply_cancels_the_booking(bridge: RunningBridge,
                                                                      services: Services) -> None:
    reminder = await reminder_of(services, FATIMA)
    await press(bridge, FATIMA, "wamid.P1", f"r:{reminder}:cancel", "إلغاء الموعد", template=True)
    assert await answers(bridge, FATIMA, 1) == [
        f"تم إلغاء موعدك يوم الأربعاء {WEDNESDAY} الساعة 11:00. اكتب لنا هنا لحجز موعد آخر."]
    assert (await booking(services, FATIMA)).status == "cancelled"
    assert bridge.agents.texts(AgentKind.CUSTOMER, FATIMA) == []


async def test_reschedule_hands_the_conversation_to_the_customer_assistant_with_the_booking_named(
    bridge: RunningBridge, services: Services
) -> None:
    reminder = await reminder_of(services, OMAR)
    kept = await booking(services, OMAR)
    await press(bridge, OMAR, "wamid.P1", f"r:{reminder}:reschedule", "Reschedule")
    await bridge.agents.wait_for_seen(AgentKind.CUSTOMER, OMAR, 2)
    said = ("Reschedule\nI would like to reschedule my appointment on Wednesday 2026-12-02 at 13:00 "
            f"(booking #{kept.id}).")
    assert bridge.agents.texts(AgentKind.CUSTOMER, OMAR) == ["Thanks, see you then", said]
    assert await answers(bridge, OMAR, 1) == [f"Noted: Thanks, see you then | {said}"]  # the assistant's, only
    after = await booking(services, OMAR)
    assert (after.status, after.date.isoformat(), after.time_slot, after.attendance) == (
        "active", WEDNESDAY, "13:00", "booked")


async def test_an_outdated_reminders_button_says_what_the_customer_has_now_and_changes_nothing(
    bridge: RunningBridge, services: Services
) -> None:
    await services.reservations.modify(OMAR, new_time="15:00")
    await services.reservations.cancel(LAYLA)
    await press(bridge, OMAR, "wamid.P1", f"r:{await reminder_of(services, OMAR)}:cancel", "Cancel")
    await press(bridge, LAYLA, "wamid.P2", f"r:{await reminder_of(services, LAYLA)}:confirm", "تأكيد الموعد")
    await bridge.graph.wait_for_sends(5)
    assert [m.text for m in bridge.graph.sent if m.to == OMAR and m.kind == "text"] == [
        f"This reminder is out of date: your appointment is now on Wednesday {WEDNESDAY} at 15:00."]
    assert [m.text for m in bridge.graph.sent if m.to == LAYLA and m.kind == "text"] == [
        "هذا التذكير لم يعد ساريًا: ليس لديك موعد قادم. اكتب لنا هنا لحجز موعد."]
    omars = await booking(services, OMAR)
    assert (omars.status, omars.time_slot, omars.attendance) == ("active", "15:00", "booked")


HOSTILE = [
    ("another customer's reminder", "{omar}:cancel"),
    ("a reminder that does not exist", "r:999999:confirm"),
    ("an action a reminder has not", "{layla}:explode"),
    ("a kind nobody handles", "z:1:confirm"),
    ("no payload of ours", "BOOK_FREE_VISIT"),
    ("Arabic-Indic digits", "r:١٢:confirm"),
    ("a megabyte", "r:1:" + "x" * 1_000_000),
]
POLITE = {"not_found": "لم أجد هذا التذكير. إن كان لديك سؤال عن موعدك فاكتب لنا هنا.",
          "garbled": "عذرًا، لم أفهم هذا الزر. من فضلك اكتب طلبك في رسالة."}


async def test_a_forged_or_garbled_press_changes_nothing_and_gets_one_polite_answer(bridge: RunningBridge,
                                                                                   services: Services) -> None:
    ids = {"omar": f"r:{await reminder_of(services, OMAR)}", "layla": f"r:{await reminder_of(services, LAYLA)}"}
    before = [(b.id, b.status, b.date, b.time_slot, b.attendance) for b in await all_bookings(services)]
    for number, (_, payload) in enumerate(HOSTILE):
        await press(bridge, LAYLA, f"wamid.H{number}", payload.format(**ids), "تأكيد", template=number % 2 == 0)
    got = await answers(bridge, LAYLA, len(HOSTILE))
    assert got == [POLITE["not_found"]] * 2 + [POLITE["garbled"]] * 5
    assert [(b.id, b.status, b.date, b.time_slot, b.attendance) for b in await all_bookings(services)] == before
    assert bridge.agents.texts(AgentKind.CUSTOMER, LAYLA) == []
    assert bridge.agents.texts(AgentKind.SYSTEM, AGENT) == []
    stored = [m for m in await services.conversations.page(LAYLA) if m.role == "user"]
    assert len(stored) == len(HOSTILE) and all(len((m.meta or {})["button"]["payload"]) <= 100 for m in stored)


async def test_a_redelivered_press_is_acted_on_and_answered_once(bridge: RunningBridge, services: Services) -> None:
    reminder = await reminder_of(services, OMAR)
    for _ in range(3):
        await press(bridge, OMAR, "wamid.P1", f"r:{reminder}:confirm", "Confirm")
    first = await booking(services, OMAR)
    await press(bridge, OMAR, "wamid.P2", "garbled", "Confirm")  # the witness: answered after the first
    assert await answers(bridge, OMAR, 2) == [
        f"Thank you, your appointment on Wednesday {WEDNESDAY} at 13:00 is confirmed.",
        "Sorry, I did not understand that button. Please write your request as a message."]
    assert (await booking(services, OMAR)).attendance_at == first.attendance_at
    presses = [(m.meta or {})["button"]["payload"] for m in await services.conversations.page(OMAR)
               if (m.meta or {}).get("button")]
    assert presses == [f"r:{reminder}:confirm", "garbled"]


async def test_a_press_claiming_the_system_agents_number_reaches_no_agent_and_changes_nothing(
    bridge: RunningBridge, services: Services
) -> None:
    reminder = await reminder_of(services, OMAR)
    await press(bridge, AGENT, "wamid.S1", f"r:{reminder}:cancel", "Cancel")
    await press(bridge, OMAR, "wamid.P1", "garbled", "Cancel")  # the witness
    await answers(bridge, OMAR, 1)
    assert (await booking(services, OMAR)).status == "active"
    assert await services.conversations.page(AGENT) == []
    assert [m.to for m in bridge.graph.sent if m.to == AGENT] == []


async def all_bookings(services: Services) -> list[Reservation]:
    async with services.db.reading() as session:
        return list(await session.scalars(select(Reservation).order_by(Reservation.id)))


async def test_reschedule_runs_the_model_backed_assistant_with_the_booking_in_what_it_reads(
    services: Services, graph_api: FakeGraphApi, anthropic_api: ScriptedLLM  # noqa: F811
) -> None:
    await book_tomorrow(services)
    assert await services.reminders.queue() == 3
    graph_api.approve_defaults()
    anthropic_api.script(Reply("Of course. Which day would suit you better?"))
    app = build_service_app(bridge_settings(graph_api, **anthropic_api.settings_overrides()), services=services)
    async with serve_on_loopback(app) as url, httpx2.AsyncClient(base_url=url, timeout=30) as http:
        await graph_api.wait_for_sends(3)
        reminder = await reminder_of(services, OMAR)
        body, headers = signed(button_press(OMAR, "wamid.P1", f"r:{reminder}:reschedule", "Reschedule"))
        assert (await http.post("/webhook", content=body, headers=headers)).status_code == 200
        await graph_api.wait_for_sends(4)
    [seen] = anthropic_api.seen
    kept = await booking(services, OMAR)
    told = [text for role, text in seen.texts if role == "user"]
    assert any(f"reschedule my appointment on Wednesday {WEDNESDAY} at 13:00 (booking #{kept.id})" in text
               for text in told)
    assert graph_api.texts_to(OMAR)[-1] == "Of course. Which day would suit you better?"
