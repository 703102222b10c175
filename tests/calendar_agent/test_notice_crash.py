"""kill -9 in the middle of sending a batch's notices: `calendar-agent serve` started again sends every notice
exactly once. The sender dies after WhatsApp took a message and before it learnt WhatsApp's answer; that
notice is settled by its delivery status (which names it), the ones claimed but never sent go after their
settling wait."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain.database import create_database
from domain.models import Notice
from tests.calendar_agent.test_crash_recovery import Serve, book_next_week, wait_for
from tests.fakes.fixtures import anthropic_api, anthropic_server  # noqa: F401 (fixtures)
from tests.fakes.graph_api import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, FakeGraphApi, SentMessage
from tests.chat_bridge.test_one_rule import tool
from tests.fakes.llm import ScriptedLLM
from tests.fakes.loopback import serve_in_thread

CUSTOMERS = 30
KILL_AT = 10  # the sender dies once WhatsApp has taken this many notices


@pytest.fixture
def graph() -> Iterator[FakeGraphApi]:
    fake = FakeGraphApi()
    fake.approve_defaults()
    with serve_in_thread(fake.app(), lifespan="on") as url:
        fake.base_url = url
        yield fake


async def by_status(database_url: str) -> dict[str, int]:
    db = create_database(database_url)
    try:
        async with db.reading() as session:
            return dict((await session.execute(select(Notice.status, func.count()).group_by(Notice.status))).all())
    finally:
        await db.dispose()


def test_kill_9_mid_send_loses_and_duplicates_no_notice(
    tmp_path: Path, graph: FakeGraphApi, anthropic_api: ScriptedLLM  # noqa: F811 (fixture)
) -> None:
    serve = Serve(tmp_path, anthropic_api)
    serve.env.update({"WHATSAPP_API_BASE_URL": graph.base_url, "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
                      "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID, "WHATSAPP_APP_SECRET": APP_SECRET,
                      "NOTICE_RATE_PER_SECOND": "20", "NOTICE_LEASE_SECONDS": "2", "NOTICE_SETTLE_SECONDS": "3"})
    graph.webhook_url = f"{serve.url}/webhook"
    killed: list[SentMessage] = []

    def kill_mid_send(message: SentMessage) -> None:
        if len(graph.sent) == KILL_AT:
            serve.kill()  # WhatsApp has the message; the sender never hears back
            killed.append(message)

    graph.after_record = kill_mid_send
    try:
        serve.start()
        first, last = asyncio.run(book_next_week(serve.database_url, CUSTOMERS))
        cancel = {"filters": {"start_date": first, "end_date": last}, "notify": True}
        asked = asyncio.run(tool(serve.url, "system_batch_cancel", cancel))
        assert asked["status"] == "needs_confirmation" and asked["confirmation"]["preview"]["notices"]["customers"] \
            == CUSTOMERS
        token = asked["confirmation"]["token"]
        applied = asyncio.run(tool(serve.url, "system_batch_cancel", dict(cancel, confirmation_token=token)))
        assert applied["notices"]["queued"] == CUSTOMERS

        wait_for(lambda: bool(killed))
        assert serve.process is not None and serve.process.poll() is not None
        unsettled = asyncio.run(by_status(serve.database_url)).get("sending", 0)
        serve.start()

        wait_for(lambda: asyncio.run(by_status(serve.database_url)).get("delivered") == CUSTOMERS, 60)
    finally:
        graph.after_record = None
        serve.stop()
    assert unsettled >= 1  # the notice WhatsApp took as the sender died, and any claimed with it
    sends = Counter(message.to for message in graph.sent)
    assert len(sends) == CUSTOMERS and set(sends.values()) == {1}, sends
    assert asyncio.run(by_status(serve.database_url)) == {"delivered": CUSTOMERS}
