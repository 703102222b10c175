"""The in-process conversation queue and the agent turns run through it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from chat_bridge.queue import SYSTEM_AGENT_FAILED, AgentKind, AgentTurns, InProcessQueue, Job

A, B = "966501111111", "966502222222"


class RecordedEvents:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    async def publish(self, event: dict[str, Any]) -> None:
        self.events.append(event)


class RecordingAgent:
    """Answers by recording the conversation; `fail` makes it raise instead."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[str] = []
        self.fail = fail

    async def __call__(self, wa_id: str) -> None:
        self.calls.append(wa_id)
        await asyncio.sleep(0)  # let other tasks run mid-turn, as a real turn awaiting I/O does
        if self.fail:
            raise RuntimeError("model exploded")


def recorder(log: list[str], name: str) -> Job:
    async def job() -> None:
        log.append(f"{name} start")
        await asyncio.sleep(0)
        log.append(f"{name} end")
    return job


async def test_jobs_of_one_conversation_run_one_at_a_time_in_arrival_order() -> None:
    queue, log = InProcessQueue(), list[str]()
    for name in ("1", "2", "3"):
        queue.submit(A, recorder(log, name))
    await queue.drain()
    assert log == ["1 start", "1 end", "2 start", "2 end", "3 start", "3 end"]


async def test_conversations_run_concurrently() -> None:
    queue, b_started = InProcessQueue(), asyncio.Event()

    async def waits_for_b() -> None:
        await asyncio.wait_for(b_started.wait(), 5)

    async def starts_b() -> None:
        b_started.set()

    queue.submit(A, waits_for_b)
    queue.submit(B, starts_b)
    await queue.drain()
    assert b_started.is_set()


async def test_a_failing_job_is_logged_and_the_next_one_runs(caplog: pytest.LogCaptureFixture) -> None:
    queue, log = InProcessQueue(), list[str]()

    async def fails() -> None:
        raise ValueError("boom")

    queue.submit(A, fails)
    queue.submit(A, recorder(log, "after"))
    await queue.drain()
    assert log == ["after start", "after end"]
    assert "a job of conversation 966501111111 failed" in caplog.text and "boom" in caplog.text


async def test_drain_waits_for_jobs_submitted_by_jobs() -> None:
    queue, log = InProcessQueue(), list[str]()

    async def submits_more() -> None:
        queue.submit(B, recorder(log, "later"))

    queue.submit(A, submits_more)
    await queue.drain()
    assert log == ["later start", "later end"]
    assert queue.workers == {} and queue.jobs == {}


async def test_close_cancels_what_outlives_the_grace_period(caplog: pytest.LogCaptureFixture) -> None:
    queue, never = InProcessQueue(), asyncio.Event()

    async def hangs() -> None:
        await never.wait()

    queue.submit(A, hangs)
    queue.submit(A, hangs)
    with caplog.at_level(logging.ERROR):
        await queue.close(grace_seconds=0.01)
    assert queue.workers == {}
    assert "1 queued jobs dropped" in caplog.text


async def test_a_turn_is_framed_by_typing_events() -> None:
    queue, events, agent = InProcessQueue(), RecordedEvents(), RecordingAgent()
    turns = AgentTurns(queue, events, {AgentKind.SYSTEM: agent, AgentKind.CUSTOMER: RecordingAgent()})
    turns.request(A, AgentKind.SYSTEM)
    await queue.drain()
    assert agent.calls == [A]
    assert events.events == [{"type": "conversation_typing", "wa_id": A, "typing": True},
                             {"type": "conversation_typing", "wa_id": A, "typing": False}]


async def test_requests_while_a_turn_waits_become_one_turn() -> None:
    queue, agent, customer = InProcessQueue(), RecordingAgent(), RecordingAgent()
    turns = AgentTurns(queue, RecordedEvents(), {AgentKind.SYSTEM: agent, AgentKind.CUSTOMER: customer})
    for _ in range(3):
        turns.request(A, AgentKind.SYSTEM)
    turns.request(A, AgentKind.CUSTOMER)
    await queue.drain()
    assert agent.calls == [A] and customer.calls == [A]


async def test_a_request_during_a_running_turn_gets_its_own_turn() -> None:
    queue, events = InProcessQueue(), RecordedEvents()
    turns: AgentTurns

    class AsksAgain(RecordingAgent):
        async def __call__(self, wa_id: str) -> None:
            await super().__call__(wa_id)
            if len(self.calls) == 1:
                turns.request(wa_id, AgentKind.SYSTEM)

    agent = AsksAgain()
    turns = AgentTurns(queue, events, {AgentKind.SYSTEM: agent, AgentKind.CUSTOMER: RecordingAgent()})
    turns.request(A, AgentKind.SYSTEM)
    await queue.drain()
    assert agent.calls == [A, A]


async def test_a_failed_system_turn_tells_the_operator(caplog: pytest.LogCaptureFixture) -> None:
    queue, events = InProcessQueue(), RecordedEvents()
    turns = AgentTurns(queue, events, {AgentKind.SYSTEM: RecordingAgent(fail=True), AgentKind.CUSTOMER: RecordingAgent()})
    turns.request(A, AgentKind.SYSTEM)
    await queue.drain()
    assert {"type": "system_agent_error", "wa_id": A, "error": SYSTEM_AGENT_FAILED} in events.events
    assert events.events[-1] == {"type": "conversation_typing", "wa_id": A, "typing": False}
    assert f"a job of conversation {A} failed" in caplog.text and "model exploded" in caplog.text


async def test_a_failed_customer_turn_is_logged_without_an_operator_error(
        caplog: pytest.LogCaptureFixture) -> None:
    queue, events = InProcessQueue(), RecordedEvents()
    turns = AgentTurns(queue, events, {AgentKind.SYSTEM: RecordingAgent(), AgentKind.CUSTOMER: RecordingAgent(fail=True)})
    turns.request(B, AgentKind.CUSTOMER)
    await queue.drain()
    assert [e["type"] for e in events.events] == ["conversation_typing", "conversation_typing"]
    assert f"a job of conversation {B} failed" in caplog.text and "model exploded" in caplog.text
