"""kill -9 in the middle of sending a batch's notices, then `calendar-agent serve` started again: every customer
gets their notice exactly once, by design and not by timing. Each send's start is committed before its request
leaves; after the restart a notice whose send never began is sent, one whose send began is settled by the
status WhatsApp posts for it (which names it), and one that no status ever names stays `unsure` until an
operator decides."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import func, select

from chat_bridge.notices import IN_FLIGHT
from domain.storage.database import create_database
from domain.storage.models import Notice
from tests.calendar_agent.test_crash_recovery import Serve, book_next_week, free_port, wait_for
from tests.fakes.fixtures import anthropic_api, anthropic_server  # noqa: F401 (fixtures)
from tests.fakes.graph_api import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, FakeGraphApi, SentMessage
from tests.chat_bridge.test_one_rule import tool
from tests.fakes.llm import ScriptedLLM
from tests.fakes.loopback import serve_in_thread

CUSTOMERS = 30
# WhatsApp's answers stop coming back from this message on: the sender fills its IN_FLIGHT sends and can begin
# no other (its first claim, a second's worth at 20 a second, holds more than HOLD_AT + IN_FLIGHT notices).
HOLD_AT = 6
KILL_AT = 10  # the unprepared kill: the sender dies as WhatsApp takes this many, whatever else is in flight


@pytest.fixture
def graph() -> Iterator[FakeGraphApi]:
    fake = FakeGraphApi()
    fake.approve_defaults()
    with serve_in_thread(fake.app(), lifespan="on") as url:
        fake.base_url = url
        yield fake


@pytest.fixture
def serve(tmp_path: Path, graph: FakeGraphApi, anthropic_api: ScriptedLLM) -> Iterator[Serve]:  # noqa: F811
    """The service against the fake Graph API, whose statuses come back through its webhook (retried until it
    answers, as Meta does, so they wait out the restart)."""
    running = Serve(tmp_path, anthropic_api)
    running.env.update({"WHATSAPP_API_BASE_URL": graph.base_url, "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
                        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID, "WHATSAPP_APP_SECRET": APP_SECRET,
                        "NOTICE_RATE_PER_SECOND": "20", "NOTICE_LEASE_SECONDS": "2"})
    graph.webhook_url = f"{running.url}/webhook"
    yield running
    graph.after_record = None
    graph.holding = False
    running.stop()


async def by_status(database_url: str) -> dict[str, int]:
    db = create_database(database_url)
    try:
        async with db.reading() as session:
            return dict((await session.execute(select(Notice.status, func.count()).group_by(Notice.status))).all())
    finally:
        await db.dispose()


async def begun(database_url: str) -> set[int]:
    """The notices whose send has begun (its start committed)."""
    db = create_database(database_url)
    try:
        async with db.reading() as session:
            return set(await session.scalars(select(Notice.id).where(Notice.attempted_at.is_not(None))))
    finally:
        await db.dispose()


def statuses(serve: Serve) -> dict[str, int]:
    return asyncio.run(by_status(serve.database_url))


def notify_everyone(serve: Serve) -> None:
    """A confirmed batch that cancels every booking of the coming week and tells each of the customers."""
    first, last = asyncio.run(book_next_week(serve.database_url, CUSTOMERS))
    cancel = {"filters": {"start_date": first, "end_date": last}, "notify": True}
    asked = asyncio.run(tool(serve.url, "system_batch_cancel", cancel))
    assert asked["status"] == "needs_confirmation"
    token = asked["confirmation"]["token"]
    applied = asyncio.run(tool(serve.url, "system_batch_cancel", dict(cancel, confirmation_token=token)))
    assert applied["notices"]["queued"] == CUSTOMERS


def kill_with_answers_outstanding(serve: Serve, graph: FakeGraphApi, silence: bool = False) -> set[int]:
    """From the HOLD_AT-th message on, hold WhatsApp's answers and its statuses (they come once the service is
    back); wait until every send slot of the sender waits for an answer, and kill it there. With `silence`, no
    status ever comes for the HOLD_AT-th message. The notices whose send had begun."""
    webhook = graph.webhook_url

    def hold(message: SentMessage) -> None:
        if len(graph.sent) == HOLD_AT:
            graph.holding = True
            graph.webhook_url = f"http://127.0.0.1:{free_port()}/webhook"  # nobody listens: Meta retries
            if silence:
                graph.silenced.add(message.id)  # WhatsApp took it and will never say so

    graph.after_record = hold
    serve.start()
    notify_everyone(serve)
    wait_for(lambda: len(graph.held) == IN_FLIGHT)  # the sender can begin no other send now
    started = asyncio.run(begun(serve.database_url))
    serve.kill()
    graph.holding, graph.webhook_url = False, webhook  # the answers go to a dead process, the statuses to its heir
    return started


def callback_ids(messages: list[SentMessage]) -> set[int]:
    return {int(m.callback_data.removeprefix("notice:")) for m in messages if m.callback_data}


def test_kill_9_mid_send_loses_and_duplicates_no_notice(serve: Serve, graph: FakeGraphApi) -> None:
    started = kill_with_answers_outstanding(serve, graph)
    # Every send that began reached WhatsApp: none is recorded as begun and left unsent.
    assert started and started == callback_ids(graph.sent)
    serve.start()

    wait_for(lambda: statuses(serve).get("delivered") == CUSTOMERS, 60)
    sends = Counter(message.to for message in graph.sent)
    assert len(sends) == CUSTOMERS and set(sends.values()) == {1}, sends
    assert statuses(serve) == {"delivered": CUSTOMERS}


def test_a_send_whose_status_never_comes_stays_unsure_until_the_operator_resends_it(
    serve: Serve, graph: FakeGraphApi
) -> None:
    kill_with_answers_outstanding(serve, graph, silence=True)
    [silent] = [m for m in graph.sent if m.id in graph.silenced]
    serve.start()

    # Every other notice is claimed, sent and delivered; the silent one is unsure, and was not sent again.
    wait_for(lambda: statuses(serve) == {"delivered": CUSTOMERS - 1, "unsure": 1}, 60)
    assert Counter(m.to for m in graph.sent)[silent.to] == 1
    listed = httpx2.get(f"{serve.url}/notices/batches", timeout=10).json()
    [unsure] = listed["unsure"]
    assert (unsure["wa_id"], unsure["notice_id"]) == (silent.to, *callback_ids([silent]))
    assert listed["batches"][0]["by_status"]["unsure"] == 1

    resent = httpx2.post(f"{serve.url}/notices/{unsure['notice_id']}/resend", json={}, timeout=10)
    assert resent.status_code == 200 and resent.json()["status"] == "queued", resent.text
    wait_for(lambda: statuses(serve) == {"delivered": CUSTOMERS}, 60)
    sends = Counter(message.to for message in graph.sent)
    assert sends[silent.to] == 2 and len(sends) == CUSTOMERS
    assert set(sends.values()) == {1, 2} and sum(sends.values()) == CUSTOMERS + 1


def test_a_kill_at_any_moment_sends_no_notice_twice(serve: Serve, graph: FakeGraphApi) -> None:
    killed: list[SentMessage] = []

    def kill_mid_send(message: SentMessage) -> None:
        if len(graph.sent) == KILL_AT:
            serve.kill()  # WhatsApp has this message, others may be on their way or only begun
            killed.append(message)

    graph.after_record = kill_mid_send
    serve.start()
    notify_everyone(serve)
    wait_for(lambda: bool(killed))
    graph.after_record = None
    serve.start()

    # Settled: what reached WhatsApp is delivered, what did not (its send begun as the process died) is unsure.
    def settled() -> bool:
        counts = statuses(serve)
        reached = len({m.to for m in graph.sent})
        return counts.get("delivered") == reached and counts.get("delivered", 0) + counts.get("unsure", 0) == CUSTOMERS

    wait_for(settled, 60)
    sends = Counter(message.to for message in graph.sent)
    assert set(sends.values()) == {1}, sends
    assert statuses(serve).get("unsure", 0) == CUSTOMERS - len(sends)
