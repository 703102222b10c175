"""Agent turns served from the durable queue by `TurnWorkers`, over a real database."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from chat_bridge.events import RealtimeEvent
from chat_bridge.queue import CUSTOMER_AGENT_FAILED, SYSTEM_AGENT_FAILED, AgentKind, Handler, TurnWorkers
from domain.workers.jobs import AgentJobs, ClaimedJob
from domain.storage.models import MessageRole
from domain.services import Services
from tests.conftest import FixedClock

A, B = "966501111111", "966502222222"


class RecordedEvents:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    async def publish(self, event: RealtimeEvent) -> None:
        self.events.append(event.model_dump(mode="json"))


class ReplyingAgent:
    """Answers what is open by storing a reply, as the real agents do (`ConversationTurn`); `fail` makes it raise
    instead, `hang` never end. `calls` lists the turns that had something to answer."""

    def __init__(self, services: Services, fail: bool = False, hang: bool = False) -> None:
        self.services = services
        self.calls: list[str] = []
        self.fail, self.hang = fail, hang
        self.started = asyncio.Event()
        self.meanwhile: list[str] = []  # messages that arrive while the first turn works, after it read its own

    async def __call__(self, wa_id: str) -> None:
        conversations = self.services.conversations
        answers = await conversations.open_prompts(wa_id, "system") or await conversations.open_prompts(wa_id)
        if not answers:
            return
        self.calls.append(wa_id)
        self.started.set()
        await asyncio.sleep(0)  # let other tasks run mid-turn, as a real turn awaiting I/O does
        for text in self.meanwhile if len(self.calls) == 1 else []:
            await conversations.append(wa_id, MessageRole.USER, text, turn=AgentKind.CUSTOMER)
        if self.hang:
            await asyncio.Event().wait()
        if self.fail:
            raise RuntimeError("model exploded")
        await self.services.conversations.reply(wa_id, MessageRole.ASSISTANT, f"answer {len(self.calls)}", answers)


class Workers:
    def __init__(self, services: Services, clock: FixedClock, events: RecordedEvents) -> None:
        self.services, self.clock, self.events = services, clock, events
        self.started: list[TurnWorkers] = []

    def start(self, handlers: dict[str, Handler], **options: Any) -> TurnWorkers:
        jobs = AgentJobs(self.services.db, self.clock, lease=timedelta(seconds=30))
        workers = TurnWorkers(jobs, self.services.conversations, self.events, handlers,
                              **{"poll_seconds": 0.05, **options})
        workers.start()
        self.started.append(workers)
        return workers

    async def message(self, wa_id: str, kind: str, text: str = "hello") -> None:
        role = MessageRole.SECRETARY if kind == AgentKind.SYSTEM else MessageRole.USER
        await self.services.conversations.append(wa_id, role, text, turn=kind)


@pytest.fixture
async def workers(services: Services, clock: FixedClock) -> AsyncIterator[Workers]:
    made = Workers(services, clock, RecordedEvents())
    yield made
    for started in made.started:
        await started.close(grace_seconds=0.1)


async def texts(services: Services, wa_id: str) -> list[str]:
    return [m.text for m in await services.conversations.page(wa_id)]


async def test_a_turn_is_framed_by_typing_events_and_answers_once(services: Services, workers: Workers) -> None:
    agent = ReplyingAgent(services)
    running = workers.start({AgentKind.SYSTEM: agent})
    await workers.message(A, AgentKind.SYSTEM)
    running.wake()
    await running.drain()
    assert agent.calls == [A]
    assert workers.events.events == [{"type": "conversation_typing", "wa_id": A, "typing": True},
                                     {"type": "conversation_typing", "wa_id": A, "typing": False}]


async def test_messages_stored_before_a_turn_starts_get_one_turn(services: Services, workers: Workers) -> None:
    agent = ReplyingAgent(services)
    for n in range(3):
        await workers.message(A, AgentKind.CUSTOMER, f"message {n}")
    await workers.start({AgentKind.CUSTOMER: agent}).drain()
    assert agent.calls == [A]
    assert await texts(services, A) == ["message 0", "message 1", "message 2", "answer 1"]


async def test_a_message_during_a_running_turn_gets_its_own_turn_after_it(
    services: Services, workers: Workers
) -> None:
    order: list[str] = []

    class Recorded(ReplyingAgent):
        async def __call__(self, wa_id: str) -> None:
            order.append(f"start {len(self.calls) + 1}")
            await super().__call__(wa_id)
            order.append(f"end {len(self.calls)}")

    agent = Recorded(services)
    agent.meanwhile = ["one more thing", "and another"]
    await workers.message(A, AgentKind.CUSTOMER)
    await workers.start({AgentKind.CUSTOMER: agent}).drain()
    assert order == ["start 1", "end 1", "start 2", "end 2"]
    messages = await services.conversations.page(A)
    assert [m.text for m in messages] == ["hello", "one more thing", "and another", "answer 1", "answer 2"]
    assert messages[3].meta == {"answers": [messages[0].id]}
    assert messages[4].meta == {"answers": [messages[1].id, messages[2].id]}


async def test_a_failed_system_turn_tells_the_operator_in_the_conversation(
    services: Services, workers: Workers, caplog: pytest.LogCaptureFixture
) -> None:
    await workers.message(A, AgentKind.SYSTEM, "move Tuesday")
    with caplog.at_level(logging.ERROR):
        await workers.start({AgentKind.SYSTEM: ReplyingAgent(services, fail=True)}).drain()
    assert {"type": "system_agent_error", "wa_id": A, "error": SYSTEM_AGENT_FAILED} in workers.events.events
    assert await texts(services, A) == ["move Tuesday", SYSTEM_AGENT_FAILED]
    assert "model exploded" in caplog.text


async def test_a_failed_customer_turn_is_shown_in_the_conversation_not_sent(
    services: Services, workers: Workers
) -> None:
    await workers.message(B, AgentKind.CUSTOMER, "hi")
    await workers.start({AgentKind.CUSTOMER: ReplyingAgent(services, fail=True)}).drain()
    assert await texts(services, B) == ["hi", CUSTOMER_AGENT_FAILED]
    assert [e["type"] for e in workers.events.events if e["type"] == "system_agent_error"] == []


async def test_a_turn_cut_by_shutdown_is_run_by_the_next_process(services: Services, workers: Workers) -> None:
    hanging = ReplyingAgent(services, hang=True)
    first = workers.start({AgentKind.CUSTOMER: hanging})
    await workers.message(A, AgentKind.CUSTOMER)
    first.wake()
    await asyncio.wait_for(hanging.started.wait(), 10)
    await first.close(grace_seconds=0.05)
    answering = ReplyingAgent(services)
    await workers.start({AgentKind.CUSTOMER: answering}).drain()
    assert answering.calls == [A]
    assert await texts(services, A) == ["hello", "answer 1"]


async def test_a_turn_whose_process_died_runs_again_after_its_lease_unless_it_was_answered(
    services: Services, workers: Workers, clock: FixedClock
) -> None:
    jobs = AgentJobs(services.db, clock, lease=timedelta(seconds=30))
    await workers.message(A, AgentKind.CUSTOMER, "unanswered")
    await workers.message(B, AgentKind.CUSTOMER, "answered before the crash")
    assert await jobs.claim("dead:1") and await jobs.claim("dead:1")  # held by a process that then died
    [asked] = await services.conversations.open_prompts(B)
    await services.conversations.reply(B, MessageRole.ASSISTANT, "the reply it stored", [asked])
    agent = ReplyingAgent(services)
    running = workers.start({AgentKind.CUSTOMER: agent})
    await asyncio.sleep(0.2)
    assert agent.calls == []  # leased still
    clock.now += timedelta(seconds=31)
    await running.drain()
    assert agent.calls == [A]
    assert await texts(services, B) == ["answered before the crash", "the reply it stored"]


async def until(condition: Callable[[], Awaitable[bool] | bool], what: str) -> None:
    """Wait for `condition` with a deadline (the workers here never poll: only a wake gets a job claimed)."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        outcome = condition()
        if await outcome if inspect.isawaitable(outcome) else outcome:
            return
        assert asyncio.get_running_loop().time() < deadline, f"never: {what}"
        await asyncio.sleep(0.01)


NEVER_POLLS = 3600.0


async def test_one_wake_starts_the_turns_of_every_waiting_conversation(services: Services, workers: Workers) -> None:
    started: set[str] = set()
    release = asyncio.Event()

    async def turn(wa_id: str) -> None:
        started.add(wa_id)
        await release.wait()

    running = workers.start({AgentKind.CUSTOMER: turn}, concurrency=4, poll_seconds=NEVER_POLLS)
    await until(lambda: running.idle == 4, "every worker idle")
    conversations = ["966501000001", "966501000002", "966501000003", "966501000004"]
    for wa_id in conversations:
        await workers.message(wa_id, AgentKind.CUSTOMER)
    running.wake()
    await until(lambda: started == set(conversations), "the four turns started")
    release.set()


async def test_a_wake_while_the_worker_is_claiming_is_kept_for_it(services: Services, workers: Workers) -> None:
    parked, gate = asyncio.Event(), asyncio.Event()
    agent = ReplyingAgent(services)

    class SlowClaims(AgentJobs):
        async def claim(self, worker: str) -> ClaimedJob | None:
            job = await super().claim(worker)
            if not gate.is_set():  # its read is done and found nothing; the message comes now
                parked.set()
                await gate.wait()
            return job

    running = TurnWorkers(SlowClaims(services.db, workers.clock), services.conversations, workers.events,
                          {AgentKind.CUSTOMER: agent}, concurrency=1, poll_seconds=NEVER_POLLS)
    running.start()
    workers.started.append(running)
    await asyncio.wait_for(parked.wait(), 30)
    await workers.message(A, AgentKind.CUSTOMER)
    running.wake(A)  # no worker is idle: the one claiming must claim again before it sleeps
    gate.set()
    await until(lambda: agent.calls == [A], "the message's turn")


async def test_a_message_to_a_conversation_whose_turn_runs_here_is_answered_when_that_turn_ends(
    services: Services, workers: Workers
) -> None:
    first_turn, go_on = asyncio.Event(), asyncio.Event()
    answered: list[list[int]] = []

    async def turn(wa_id: str) -> None:  # reads what is open, works, then replies: as a model's turn does
        answers = await services.conversations.open_prompts(wa_id)
        if not answers:
            return
        answered.append(answers)
        if len(answered) == 1:
            first_turn.set()
            await go_on.wait()
        await services.conversations.reply(wa_id, MessageRole.ASSISTANT, f"answer {len(answered)}", answers)

    running = workers.start({AgentKind.CUSTOMER: turn}, concurrency=2, poll_seconds=NEVER_POLLS)
    await workers.message(A, AgentKind.CUSTOMER, "first")
    running.wake(A)
    await asyncio.wait_for(first_turn.wait(), 30)
    await workers.message(A, AgentKind.CUSTOMER, "second")
    running.wake(A)  # A's turn runs here: nobody else is woken; its worker claims the next job after it
    go_on.set()
    async def both_answered() -> bool:
        return await texts(services, A) == ["first", "second", "answer 1", "answer 2"]
    await until(both_answered, "a second turn's reply")
    assert [len(a) for a in answered] == [1, 1]  # each line answered by a turn of its own, once
