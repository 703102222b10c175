"""Messages stored at once commit together (`GroupCommit` under `ConversationService.append`), over a real
database: each caller gets its own message, in arrival order, with its job; one bad message fails alone."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar.pending_confirmations import Question
from domain.storage.group_commit import GroupCommit
from domain.storage.models import AgentJob, ConversationMessage, MessageRole, Notice, PendingConfirmation
from domain.config import ClinicConfig
from domain.services import Services, build_services
from domain.storage.database import create_database

A, B = "966501230001", "966501230002"


async def test_fifty_messages_sent_at_once_are_each_stored_once_in_arrival_order_with_their_jobs(
    services: Services,
) -> None:
    conversations = services.conversations
    stored = await asyncio.gather(*(conversations.append(A, MessageRole.SECRETARY, f"line {n}", turn="system")
                                    for n in range(50)))
    assert all(view is not None for view in stored)
    ids = [view.id for view in stored if view is not None]
    assert ids == sorted(ids) and len(set(ids)) == 50
    page = await conversations.page(A, limit=100)
    assert [(m.id, m.text) for m in page] == [(view.id, view.text) for view in stored if view is not None]
    assert [m.model_dump() for m in page] == [view.model_dump() for view in stored if view is not None]
    async with services.db.reading() as session:
        jobs = (await session.execute(select(AgentJob.message_id, AgentJob.kind, AgentJob.status)
                                      .order_by(AgentJob.id))).all()
    assert [tuple(job) for job in jobs] == [(id_, "system", "queued") for id_ in ids]


async def test_a_redelivered_message_in_a_group_is_refused_alone_and_the_rest_are_stored(services: Services) -> None:
    conversations = services.conversations
    first = await conversations.append(B, MessageRole.USER, "hello", external_id="wamid.1", turn="customer")
    assert first is not None
    texts = [("again", "wamid.1"), *[(f"new {n}", f"wamid.n{n}") for n in range(8)], ("twice", "wamid.n3")]
    stored = await asyncio.gather(*(conversations.append(B, MessageRole.USER, text, external_id=external,
                                                         turn="customer") for text, external in texts))
    assert stored[0] is None and stored[-1] is None  # the redelivery, and the second copy of wamid.n3
    assert [view.text for view in stored[1:-1] if view is not None] == [f"new {n}" for n in range(8)]
    page = await conversations.page(B, limit=100)
    assert [m.text for m in page] == ["hello", *[f"new {n}" for n in range(8)]]
    async with services.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(AgentJob)) == 9


async def test_sends_and_questions_stored_together_are_queued_with_their_own_messages(services: Services) -> None:
    conversations = services.conversations
    question = Question("c-1", timedelta(seconds=60))
    sent, asked, plain = await asyncio.gather(
        conversations.append(B, MessageRole.ASSISTANT, "your booking is moved", send=True),
        conversations.append(A, MessageRole.ASSISTANT, "confirm?", question=question),
        conversations.append(A, MessageRole.SECRETARY, "thanks"))
    assert sent is not None and asked is not None and plain is not None
    assert sent.delivery_status == "pending" and plain.delivery_status is None
    async with services.db.reading() as session:
        notices = (await session.execute(select(Notice.message_id, Notice.wa_id, Notice.text))).all()
        pending = (await session.execute(select(PendingConfirmation.id, PendingConfirmation.message_id))).all()
        status = await session.scalar(select(ConversationMessage.delivery_status)
                                      .where(ConversationMessage.id == sent.id))
    assert [tuple(n) for n in notices] == [(sent.id, B, "your booking is moved")]
    assert [tuple(p) for p in pending] == [("c-1", asked.id)]
    assert status == "pending"


async def test_a_caller_that_stops_waiting_does_not_stop_the_write_of_its_group(services: Services) -> None:
    conversations = services.conversations
    others = [asyncio.create_task(conversations.append(A, MessageRole.SECRETARY, f"other {n}")) for n in range(3)]
    leaving = asyncio.create_task(conversations.append(A, MessageRole.SECRETARY, "sent, then the tab closed"))
    await asyncio.sleep(0)  # it has joined the group
    leaving.cancel()
    await asyncio.gather(*others)
    deadline = asyncio.get_running_loop().time() + 30
    while "sent, then the tab closed" not in [m.text for m in await conversations.page(A)]:
        assert asyncio.get_running_loop().time() < deadline, "the accepted message was never written"
        await asyncio.sleep(0.01)


async def test_a_write_that_raises_reaches_its_own_caller_only(services: Services) -> None:
    calls: list[list[int]] = []

    async def write(_session: AsyncSession, items: Sequence[int]) -> list[int]:
        calls.append(list(items))
        if 13 in items:
            raise ValueError("thirteen")
        return [item * 2 for item in items]

    group: GroupCommit[int, int] = GroupCommit(services.db, write)
    results = await asyncio.gather(*(group(n) for n in (1, 13, 2)), return_exceptions=True)
    assert results[0] == 2 and results[2] == 4
    assert isinstance(results[1], ValueError)
    assert [1] in calls and [2] in calls  # the others were written again alone after the group failed


def test_the_same_service_serves_one_event_loop_after_another(sqlite_template: Path, tmp_path: Path) -> None:
    """A command may run the services under several `asyncio.run`s in turn (on SQLite: a PostgreSQL pool's
    connections belong to the loop that opened them)."""
    shutil.copy(sqlite_template, tmp_path / "calendar.db")
    services = build_services(ClinicConfig(), create_database(f"sqlite+aiosqlite:///{tmp_path}/calendar.db"))

    async def store(text: str) -> int:
        view = await services.conversations.append(A, MessageRole.SECRETARY, text)
        assert view is not None
        return view.id

    first = asyncio.run(store("first loop"))
    second = asyncio.run(store("second loop"))
    assert second > first
    asyncio.run(services.db.dispose())
