"""Notices to customers as the served app sends them: a batch tool called over /mcp with notify, the outbox's
sender talking to the fake Graph API, its statuses coming back through the signed webhook, and what the
model, the customer, the conversation and the database end up with."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx2
import pytest
from mcp import Client
from sqlalchemy import func, select

from chat_bridge.notices import NoticeSender
from chat_bridge.whatsapp import WhatsAppAccount, WhatsAppClient
from domain.config import ClinicConfig
from domain.storage.database import Database
from domain.storage.models import ConversationMessage, Customer, MessageRole, Notice
from domain.notices.templates import NoticeConfig
from domain.notices.outbox import queue_reply
from domain.services import Services, build_services
from domain.system_agent.batch import BatchOptions
from tests.conftest import NOW, PER_CALL
from tests.fakes.events import RecordingSink
from tests.fakes.graph_api import (ACCESS_TOKEN, PHONE_NUMBER_ID, FakeGraphApi, RunningBridge,  # noqa: F401
                                   graph_api, inbound, running_bridge, signed, status_callback)

FATIMA, OMAR, LAYLA, BLOCKED, QUIET = "966501111111", "966502222222", "966503333333", "966504444444", "966505555555"
SUNDAY, MONDAY = "2026-12-06", "2026-12-07"


class RunningClock:
    """The tests' fixed start (Tuesday 2026-12-01, 10:00 in Riyadh), moving on with real time: retries after a
    backoff come due while the calendar's dates stay those of the test."""

    def __init__(self, start: datetime = NOW) -> None:
        self.start, self.began = start, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began)


@pytest.fixture
def services(db: Database, config: ClinicConfig) -> Services:
    notices = NoticeConfig(clinic_name="Al Noor Clinic", rate_per_second=50, reminder_time=None)
    return build_services(config, db, RunningClock(), notices=notices, limits=PER_CALL)


@pytest.fixture
async def bridge(services: Services, graph_api: FakeGraphApi) -> AsyncIterator[RunningBridge]:  # noqa: F811
    graph_api.approve_defaults()
    async with running_bridge(services, graph_api) as running:
        graph_api.webhook_url = f"{running.url}/webhook"
        yield running


async def tool(bridge: RunningBridge, name: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A tool call as an MCP client makes it at /mcp: the text a model reads and the structured answer."""
    async with Client(f"{bridge.url}/mcp") as client:
        result = await client.call_tool(name, arguments)
    assert result.is_error is False, result.content
    assert result.structured_content is not None
    return result.content[0].text, result.structured_content  # type: ignore[union-attr]


async def sunday_patients(services: Services) -> None:
    """Fatima and Layla (Arabic, no messages yet), Omar (writes English), a blocked and an opted-out customer,
    all booked on Sunday."""
    for wa_id, name, slot in [(FATIMA, "فاطمة", "11:00"), (OMAR, "Omar Haddad", "13:00"), (LAYLA, "ليلى", "15:00"),
                              (BLOCKED, "Blocked One", "11:00"), (QUIET, "Quiet One", "13:00")]:
        await services.customers.ensure(wa_id, name)
        assert (await services.reservations.reserve(wa_id, SUNDAY, slot)).reservation is not None
    await services.conversations.append(OMAR, "user", "Hi, can I come on Sunday afternoon?")
    await services.customers.set_flags(BLOCKED, blocked=True)
    await services.customers.set_flags(QUIET, notices_opt_out=True)


async def notices(services: Services) -> list[Notice]:
    async with services.db.reading() as session:
        return list(await session.scalars(select(Notice).order_by(Notice.id)))


async def counts(services: Services) -> dict[str, int]:
    async with services.db.reading() as session:
        return dict((await session.execute(select(Notice.status, func.count()).group_by(Notice.status))).all())


async def settles_to(services: Services, expected: dict[str, int], seconds: float = 20) -> None:
    """Until the notices' statuses are `expected` (a deadline, not a pause: it returns as soon as they are)."""
    async with asyncio.timeout(seconds):
        while await counts(services) != expected:
            await asyncio.sleep(0.02)


async def test_a_moved_day_tells_each_customer_once_in_their_language(services: Services, bridge: RunningBridge,
                                                                       graph_api: FakeGraphApi) -> None:  # noqa: F811
    await sunday_patients(services)
    move = {"filters": {"dates": [SUNDAY]}, "updates": {"new_date": MONDAY}, "notify": True}

    preview, planned = await tool(bridge, "system_batch_modify", dict(move, dry_run=True))
    assert planned["notices"]["customers"] == 3 and planned["notices"]["left_out"] == {"blocked": 1, "opted_out": 1}
    assert "WhatsApp notices this would send: 3 customer(s) (moved 3)." in preview
    assert "Left out of the notices: blocked 1, opted_out 1." in preview
    assert ('Example notice (en): "Hello Omar Haddad, Al Noor Clinic has moved your appointment from Sunday '
            '2026-12-06 at 13:00 to Monday 2026-12-07 at 13:00.') in preview
    assert 'Example notice (ar): "مرحباً فاطمة، قامت Al Noor Clinic بنقل موعدك من الأحد 2026-12-06' in preview
    assert graph_api.sent == [] and await notices(services) == []

    text, applied = await tool(bridge, "system_batch_modify", move)
    assert applied["status"] == "applied" and applied["notices"]["queued"] == 3
    assert "WhatsApp notices queued: 3 customer(s) (moved 3)" in text

    await graph_api.wait_for_sends(3)
    await graph_api.wait_for_posted(6)  # sent and delivered, for each
    assert [m.to for m in graph_api.sent if m.to in (BLOCKED, QUIET)] == []
    # Omar wrote today: inside his 24-hour window the notice goes as free text; the others get the template.
    [to_omar] = [m for m in graph_api.sent if m.to == OMAR]
    assert (to_omar.kind, to_omar.text) == ("text", "Hello Omar Haddad, Al Noor Clinic has moved your appointment "
                                                    "from Sunday 2026-12-06 at 13:00 to Monday 2026-12-07 at 13:00. "
                                                    "Reply here if that time does not suit you.")
    [omars] = [n for n in await notices(services) if n.wa_id == OMAR]
    assert (omars.template, omars.language) == ("appointment_moved", "en")
    assert tuple(omars.parameters) == ("Omar Haddad", "Al Noor Clinic", "Sunday", SUNDAY, "13:00", "Monday", MONDAY,
                                       "13:00")
    [to_fatima] = graph_api.templates_to(FATIMA)
    assert (to_fatima.language, to_fatima.parameters[:3]) == ("ar", ("فاطمة", "Al Noor Clinic", "الأحد"))
    assert len(graph_api.templates_to(LAYLA)) == 1

    stored = await notices(services)
    assert {(n.wa_id, n.status, n.batch_id) for n in stored} == {
        (w, "delivered", applied["batch_id"]) for w in (FATIMA, OMAR, LAYLA)}
    report, counted = await tool(bridge, "system_get_notices", {"batch_id": applied["batch_id"]})
    assert counted["by_status"]["delivered"] == 3 and counted["failures"] == []
    assert f"Notices of batch {applied['batch_id']}: 3 in all:" in report
    # The customer's conversation shows the notice as WhatsApp delivered it.
    page = (await bridge.http.get(f"/conversations/{OMAR}")).json()["messages"]
    [shown] = [m for m in page if (m["meta"] or {}).get("notice")]
    assert shown["text"] == to_omar.text and shown["delivery_status"] == "delivered"
    assert shown["meta"]["notice"]["batch_id"] == applied["batch_id"]


async def test_a_rolled_back_atomic_batch_queues_and_sends_nothing(services: Services, bridge: RunningBridge,
                                                                   graph_api: FakeGraphApi) -> None:  # noqa: F811
    await sunday_patients(services)
    [fatimas] = await services.reservations.customer_reservations(FATIMA)
    requests = [{"reservation_id": fatimas.id, "new_date": MONDAY}, {"reservation_id": 999999, "new_date": MONDAY}]
    text, report = await tool(bridge, "system_batch_modify", {"requests": requests, "mode": "atomic",
                                                             "notify": True})
    assert report["status"] == "rolled_back" and "notices" not in report
    assert "WhatsApp notices" not in text
    # A batch that does apply is the witness: once its notice is out, the rolled-back one has had every chance.
    _, applied = await tool(bridge, "system_batch_cancel", {"requests": [{"wa_id": OMAR}], "notify": True})
    await graph_api.wait_for_sends(1)
    assert [(m.to, m.kind) for m in graph_api.sent] == [(OMAR, "text")]  # he wrote today: inside his window
    assert [n.batch_id for n in await notices(services)] == [applied["batch_id"]]


async def test_a_429_storm_delays_the_notices_then_each_goes_once(services: Services, bridge: RunningBridge,
                                                                  graph_api: FakeGraphApi) -> None:  # noqa: F811
    await sunday_patients(services)
    graph_api.limit_next(7, retry_after=0.2)
    _, applied = await tool(bridge, "system_batch_cancel", {"filters": {"dates": [SUNDAY]}, "notify": True})
    assert applied["notices"]["queued"] == 3
    await graph_api.wait_for_sends(3, timeout=30)
    await graph_api.wait_for_posted(6)
    assert len(graph_api.refused) == 7
    assert sorted(m.to for m in graph_api.sent) == sorted([FATIMA, OMAR, LAYLA])
    stored = await notices(services)
    assert {n.status for n in stored} == {"delivered"}
    assert all(n.attempts == 1 for n in stored)  # "slow down" spends no attempt


async def test_an_undeliverable_notice_is_failed_and_reported(services: Services, bridge: RunningBridge,
                                                              graph_api: FakeGraphApi) -> None:  # noqa: F811
    await sunday_patients(services)
    graph_api.undeliverable[LAYLA] = 131026
    _, applied = await tool(bridge, "system_batch_cancel", {"filters": {"dates": [SUNDAY]}, "notify": True})
    await graph_api.wait_for_posted(6)
    text, counted = await tool(bridge, "system_get_notices", {"batch_id": applied["batch_id"]})
    assert (counted["by_status"]["delivered"], counted["by_status"]["failed"]) == (2, 1)
    [failure] = counted["failures"]
    assert (failure["wa_id"], failure["error_code"], failure["customer_name"]) == (LAYLA, 131026, "ليلى")
    assert f'"ليلى"|{LAYLA}|cancelled|failed|Message undeliverable' in text
    page = (await bridge.http.get(f"/conversations/{LAYLA}")).json()["messages"]
    assert [m["delivery_status"] for m in page if (m["meta"] or {}).get("notice")] == ["failed"]


async def test_a_refused_template_fails_at_once_without_retrying(services: Services, bridge: RunningBridge,
                                                                 graph_api: FakeGraphApi) -> None:  # noqa: F811
    await sunday_patients(services)
    graph_api.templates.pop(("appointment_cancelled", "ar"))
    _, applied = await tool(bridge, "system_batch_cancel", {"filters": {"dates": [SUNDAY]}, "notify": True})
    await settles_to(services, {"delivered": 1, "failed": 2})  # the refusal is settled by its own send
    _, counted = await tool(bridge, "system_get_notices", {"wa_id": FATIMA})
    [failure] = counted["failures"]
    assert failure["error_code"] == 132001 and "does not exist" in failure["error"]
    [fatimas] = [n for n in await notices(services) if n.wa_id == FATIMA]
    assert (fatimas.status, fatimas.attempts) == ("failed", 1)


async def test_a_stop_word_opts_a_customer_out_and_the_operator_can_opt_them_back_in(
    services: Services, bridge: RunningBridge, graph_api: FakeGraphApi  # noqa: F811
) -> None:
    await sunday_patients(services)
    body, headers = signed(inbound(OMAR, "wamid.stop1", text="  Stop! "))
    assert (await bridge.http.post("/webhook", content=body, headers=headers)).status_code == 200
    await graph_api.wait_for_sends(1)
    assert graph_api.texts_to(OMAR)[0].startswith("You will get no more notices from us.")
    async with services.db.reading() as session:
        assert await session.scalar(select(Customer.notices_opt_out).where(Customer.wa_id == OMAR)) is True
    assert bridge.agents.seen == {}  # the customer assistant was not asked to answer "Stop!"

    _, planned = await tool(bridge, "system_batch_cancel", {"filters": {"dates": [SUNDAY]}, "notify": True,
                                                           "dry_run": True})
    assert planned["notices"]["left_out"] == {"blocked": 1, "opted_out": 2}

    answer = await bridge.http.patch(f"/customers/{OMAR}", json={"notices_opt_out": False})
    assert answer.status_code == 200 and answer.json()["notices_opt_out"] is False
    _, planned = await tool(bridge, "system_batch_cancel", {"filters": {"dates": [SUNDAY]}, "notify": True,
                                                           "dry_run": True})
    assert planned["notices"]["left_out"] == {"blocked": 1, "opted_out": 1}


async def test_a_customer_who_opts_out_or_is_blocked_after_the_batch_gets_nothing(
    services: Services, graph_api: FakeGraphApi  # noqa: F811
) -> None:
    await sunday_patients(services)
    queued = await services.batch.cancel(filters={"dates": [SUNDAY]}, options=BatchOptions(notify=True))
    assert queued.notices is not None and queued.notices["queued"] == 3
    await services.customers.set_flags(FATIMA, notices_opt_out=True)
    await services.customers.set_flags(LAYLA, blocked=True)
    graph_api.approve_defaults()
    async with running_bridge(services, graph_api) as bridge:
        await graph_api.wait_for_sends(1)
        _, counted = await tool(bridge, "system_get_notices", {"batch_id": queued.batch_id})
    assert [m.to for m in graph_api.sent] == [OMAR]
    assert counted["by_status"]["skipped"] == 2
    assert {(f["wa_id"], f["error"]) for f in counted["failures"]} == {
        (FATIMA, "the customer opted out of notices"), (LAYLA, "the customer is blocked")}


async def test_a_message_to_a_days_customers_goes_as_text_inside_the_window_else_as_the_template(
    services: Services, bridge: RunningBridge, graph_api: FakeGraphApi  # noqa: F811
) -> None:
    await sunday_patients(services)
    said = "The clinic opens at 12:00 on Sunday.\nPlease come an hour later."
    message = {"text": said, "start_date": SUNDAY, "idempotency_key": "sunday-late"}
    preview, planned = await tool(bridge, "system_message_customers", dict(message, dry_run=True))
    assert planned["status"] == "dry_run"
    assert planned["notices"]["by_kind"] == {"template": 2, "text": 1}
    assert planned["notices"]["left_out"] == {"blocked": 1, "opted_out": 1}
    assert "WhatsApp notices this would send: 3 customer(s) (notice 3)." in preview

    _, sent = await tool(bridge, "system_message_customers", message)
    _, again = await tool(bridge, "system_message_customers", message)
    assert sent["notices"]["queued"] == 3 and again["status"] == "replayed"
    await graph_api.wait_for_sends(3)
    assert graph_api.texts_to(OMAR) == [said]  # he wrote today: inside WhatsApp's 24-hour window
    [to_fatima] = graph_api.templates_to(FATIMA)
    assert to_fatima.template == "clinic_notice"
    assert to_fatima.parameters == ("فاطمة", "Al Noor Clinic", "The clinic opens at 12:00 on Sunday. Please come an "
                                                               "hour later.")
    _, counted = await tool(bridge, "system_get_notices", {"batch_id": sent["batch_id"]})
    await graph_api.wait_for_posted(6)
    assert counted["total"] == 3
    assert len(graph_api.sent) == 3  # the replay sent nothing more


async def test_a_message_names_its_customers_or_is_refused(services: Services,
                                                          bridge: RunningBridge) -> None:
    await sunday_patients(services)
    async with Client(f"{bridge.url}/mcp") as client:
        nobody = await client.call_tool("system_message_customers", {"text": "Hello"})
        stranger = await client.call_tool("system_message_customers", {"text": "Hello", "wa_ids": ["966500000009"]})
    assert nobody.is_error is True and "wa_ids, a date range or recall" in nobody.content[0].text  # type: ignore[union-attr]
    assert stranger.is_error is False
    assert stranger.structured_content is not None and stranger.structured_content["status"] == "failed"
    assert await notices(services) == []


async def test_undoing_a_notified_batch_asks_whether_to_tell_the_customers_the_restored_times(
    services: Services, bridge: RunningBridge, graph_api: FakeGraphApi  # noqa: F811
) -> None:
    await sunday_patients(services)
    _, cancelled = await tool(bridge, "system_batch_cancel", {"filters": {"dates": [SUNDAY]}, "notify": True})
    await graph_api.wait_for_sends(3)
    text, asked = await tool(bridge, "system_undo_batch", {"batch_id": cancelled["batch_id"]})
    assert asked["status"] == "needs_confirmation"  # 5 restored: under the threshold, asked all the same
    assert "The batch being undone notified 3 customer(s)." in text and "notify=true" in text
    text, undone = await tool(bridge, "system_undo_batch", {"batch_id": cancelled["batch_id"], "notify": True})
    assert undone["status"] == "applied" and undone["notices"]["queued"] == 3
    assert "hint" not in undone
    await graph_api.wait_for_sends(6)
    [restored] = [n for n in await notices(services) if n.wa_id == OMAR and n.template == "appointment_booked"]
    assert tuple(restored.parameters) == ("Omar Haddad", "Al Noor Clinic", "Sunday", SUNDAY, "13:00")
    assert restored.text in graph_api.texts_to(OMAR)


async def test_a_status_naming_a_notice_that_was_never_sent_changes_nothing(services: Services) -> None:
    await sunday_patients(services)
    queued = await services.batch.cancel(requests=[{"wa_id": OMAR}], options=BatchOptions(notify=True))
    [notice] = await notices(services)
    assert queued.notices is not None and notice.status == "queued"
    for callback in (f"notice:{notice.id}", "notice:99999999999999999999", "notice:-1", "notice:١", None):
        assert await services.notice_statuses.record_status("wamid.forged", "delivered", callback) is None
    [after] = await notices(services)
    assert (after.status, after.external_id, after.message_id) == ("queued", None, None)


async def test_the_console_lists_each_batchs_notices_newest_first(services: Services, bridge: RunningBridge,
                                                                  graph_api: FakeGraphApi) -> None:  # noqa: F811
    await sunday_patients(services)
    graph_api.undeliverable[LAYLA] = 131026
    _, first = await tool(bridge, "system_batch_cancel", {"requests": [{"wa_id": OMAR}, {"wa_id": LAYLA}],
                                                          "notify": True})
    _, second = await tool(bridge, "system_message_customers", {"text": "See you soon", "wa_ids": [FATIMA]})
    await graph_api.wait_for_posted(6)
    listed = (await bridge.http.get("/notices/batches", params={"limit": "5"})).json()["batches"]
    assert [(b["batch_id"], b["tool"], b["total"]) for b in listed] == [
        (second["batch_id"], "system_message_customers", 1), (first["batch_id"], "system_batch_cancel", 2)]
    assert listed[0]["by_status"]["delivered"] == 1 and listed[0]["failures"] == []
    assert (listed[1]["by_status"]["delivered"], listed[1]["by_status"]["failed"]) == (1, 1)
    assert [(f["wa_id"], f["error_code"]) for f in listed[1]["failures"]] == [(LAYLA, 131026)]
    refused = await bridge.http.get("/notices/batches", params={"limit": "many"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_parameter"


# --- Crashes: judged by whether a send began, never by how long ago ---------------------------------------

def later(services: Services, seconds: float) -> None:
    """Move the services' clock on, past a lease, without waiting for it."""
    assert isinstance(services.clock, RunningClock)
    services.clock.start += timedelta(seconds=seconds)


async def left_by_a_dead_sender(services: Services, begun: tuple[str, ...] = ()) -> dict[str, int]:
    """The day's notices queued by a batch, then claimed by a sender that died, having begun the sends of the
    customers in `begun` only; the leases have run out. Each customer's notice id."""
    await sunday_patients(services)
    await services.batch.cancel(filters={"dates": [SUNDAY]}, options=BatchOptions(notify=True))
    claimed, _ = await services.outbox.claim("dead", 10)
    for notice in claimed:
        if notice.wa_id in begun:
            assert await services.outbox.attempt(notice.id, "dead")
    later(services, services.outbox.config.lease_seconds + 1)
    return {n.wa_id: n.id for n in claimed}


async def test_a_notice_its_dead_sender_claimed_but_never_began_is_sent_once_after_the_restart(
    services: Services, graph_api: FakeGraphApi  # noqa: F811
) -> None:
    await left_by_a_dead_sender(services)
    graph_api.approve_defaults()
    async with running_bridge(services, graph_api) as bridge:
        graph_api.webhook_url = f"{bridge.url}/webhook"
        await settles_to(services, {"delivered": 3})
    assert sorted(m.to for m in graph_api.sent) == sorted([FATIMA, OMAR, LAYLA])
    assert {n.attempts for n in await notices(services) if n.status == "delivered"} == {1}


async def test_a_notice_whose_send_began_before_its_sender_died_is_unsure_never_resent_and_its_status_settles_it(
    services: Services, graph_api: FakeGraphApi  # noqa: F811
) -> None:
    ids = await left_by_a_dead_sender(services, begun=(OMAR,))
    graph_api.approve_defaults()
    async with running_bridge(services, graph_api) as bridge:
        graph_api.webhook_url = f"{bridge.url}/webhook"
        await settles_to(services, {"delivered": 2, "unsure": 1})
        assert OMAR not in {m.to for m in graph_api.sent}  # every other notice went: Omar's is not sent again
        _, counted = await tool(bridge, "system_get_notices", {"wa_id": OMAR})
        assert counted["by_status"]["unsure"] == 1 and counted["unsure"][0]["notice_id"] == ids[OMAR]

        # WhatsApp had taken it before the sender died: its status, which names the notice, settles it.
        late = status_callback("wamid.before-the-crash", "delivered", OMAR, f"notice:{ids[OMAR]}")
        body, headers = signed(late)
        assert (await bridge.http.post("/webhook", content=body, headers=headers)).status_code == 200
        await settles_to(services, {"delivered": 3})
    [omars] = [n for n in await notices(services) if n.wa_id == OMAR]
    assert (omars.external_id, omars.attempts) == ("wamid.before-the-crash", 1)


async def test_a_send_whose_answer_is_lost_is_unsure_until_its_status_comes(
    services: Services, graph_api: FakeGraphApi  # noqa: F811
) -> None:
    await sunday_patients(services)
    await services.batch.cancel(requests=[{"wa_id": OMAR}], options=BatchOptions(notify=True))
    graph_api.approve_defaults()
    graph_api.answer_delay = 2.0  # WhatsApp takes the message; its answer comes after the client gave up
    account = WhatsAppAccount(graph_api.base_url, PHONE_NUMBER_ID, ACCESS_TOKEN)
    whatsapp = WhatsAppClient(account, httpx2.AsyncClient(timeout=0.2))
    sender = NoticeSender(services.outbox, services.reminders, whatsapp, RecordingSink(), poll_seconds=0.05)
    sender.start()
    try:
        await settles_to(services, {"unsure": 1})
    finally:
        await sender.close()
        await whatsapp.aclose()
    [sent] = graph_api.sent
    [notice] = await notices(services)
    assert "may have taken the message" in (notice.error or "")
    settled = await services.notice_statuses.record_status(sent.id, "sent", sent.callback_data)
    assert settled is not None and settled.status == "sent"
    assert len(graph_api.sent) == 1


# --- Replies through the outbox --------------------------------------------------------------------------

async def test_a_reply_queued_with_its_message_is_sent_once_as_text_and_its_message_follows_whatsapp(
    services: Services, bridge: RunningBridge, graph_api: FakeGraphApi  # noqa: F811
) -> None:
    await sunday_patients(services)  # Quiet has opted out of notices, not of answers; Blocked gets nothing
    answers = {}
    for wa_id in (QUIET, BLOCKED):
        async with services.db.unit_of_work() as session:
            session.add(answer := ConversationMessage(wa_id=wa_id, role=MessageRole.ASSISTANT,
                                                      text="Sunday at 13:00 is yours.", timestamp=services.clock()))
            await queue_reply(session, answer, services.clock())
        answers[wa_id] = answer.id
    await settles_to(services, {"delivered": 1, "skipped": 1})
    [sent] = graph_api.sent
    assert (sent.to, sent.text, sent.template, sent.callback_data) == (QUIET, "Sunday at 13:00 is yours.", None,
                                                                       f"notice:{(await notices(services))[0].id}")
    quiet = (await bridge.http.get(f"/conversations/{QUIET}")).json()["messages"]
    assert [(m["id"], m["role"], m["delivery_status"]) for m in quiet] == [(answers[QUIET], "assistant", "delivered")]
    blocked = (await bridge.http.get(f"/conversations/{BLOCKED}")).json()["messages"]
    assert [m["delivery_status"] for m in blocked] == ["failed"]


async def test_the_preview_says_for_each_customer_whether_the_notice_goes_as_text_or_template(
    services: Services, bridge: RunningBridge  # noqa: F811
) -> None:
    await sunday_patients(services)
    async with services.db.reading() as session:
        wrote = await session.scalar(select(func.max(ConversationMessage.timestamp))
                                     .where(ConversationMessage.wa_id == OMAR))
    assert wrote is not None
    move = {"filters": {"dates": [SUNDAY]}, "updates": {"new_date": MONDAY}, "notify": True, "dry_run": True}
    _, planned = await tool(bridge, "system_batch_modify", move)
    assert planned["notices"]["by_kind"] == {"template": 2, "text": 1}
    assert sorted(planned["notices"]["recipients"], key=lambda r: r["wa_id"]) == [
        {"wa_id": FATIMA, "name": "فاطمة", "channel": "template", "window_closes_at": None},
        {"wa_id": OMAR, "name": "Omar Haddad", "channel": "text",
         "window_closes_at": (wrote + timedelta(hours=24)).isoformat()},
        {"wa_id": LAYLA, "name": "ليلى", "channel": "template", "window_closes_at": None}]
