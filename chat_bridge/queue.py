"""Work per conversation: one job at a time per wa_id in arrival order, conversations concurrently.

`InProcessQueue` is the `ConversationQueue` of a single process; `AgentTurns` runs the agents through
any `ConversationQueue`, so a queue shared by several instances can replace this one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from enum import StrEnum

from chat_bridge.events import system_agent_error_event, typing_event
from chat_bridge.ports import AgentTurn, ConversationQueue, EventSink

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]

SYSTEM_AGENT_FAILED = "The system agent could not answer; your message is kept. Please try again."


class InProcessQueue:
    """A worker task per busy conversation, gone when the conversation has nothing left to run."""

    def __init__(self) -> None:
        self.jobs: dict[str, deque[Job]] = {}
        self.workers: dict[str, asyncio.Task[None]] = {}

    def submit(self, wa_id: str, job: Job) -> None:
        """Run `job` after every job submitted before it for `wa_id`."""
        self.jobs.setdefault(wa_id, deque()).append(job)
        if wa_id not in self.workers:
            self.workers[wa_id] = asyncio.create_task(self._work(wa_id), name=f"conversation {wa_id}")

    async def drain(self) -> None:
        """Wait until every submitted job, and every job those submit, has run."""
        while self.workers:
            await asyncio.wait(list(self.workers.values()))

    async def close(self, grace_seconds: float) -> None:
        """Drain for up to `grace_seconds`, then cancel what is still running."""
        try:
            await asyncio.wait_for(self.drain(), grace_seconds)
        except TimeoutError:
            workers = list(self.workers.values())
            logger.error("shutdown: cancelling %d conversations still running after %ss", len(workers), grace_seconds)
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _work(self, wa_id: str) -> None:
        jobs = self.jobs[wa_id]
        try:
            while jobs:
                await self._run(wa_id, jobs.popleft())
        finally:
            if jobs:
                logger.error("conversation %s: %d queued jobs dropped", wa_id, len(jobs))
            del self.jobs[wa_id], self.workers[wa_id]

    async def _run(self, wa_id: str, job: Job) -> None:
        try:
            await job()
        except Exception:
            logger.exception("a job of conversation %s failed", wa_id)


class AgentKind(StrEnum):
    """Which agent answers: the operators' system agent or the customers' assistant."""

    SYSTEM = "system"
    CUSTOMER = "customer"


class AgentTurns:
    """Runs agent turns through the queue; the sidebar sees typing while one runs, the operator sees failures."""

    def __init__(self, queue: ConversationQueue, events: EventSink, agents: dict[AgentKind, AgentTurn]) -> None:
        self.queue = queue
        self.events = events
        self.agents = agents
        self.waiting: set[tuple[str, AgentKind]] = set()

    def request(self, wa_id: str, kind: AgentKind) -> None:
        """Queue a turn, unless one is queued and not started yet: that one will read the newest messages."""
        if (wa_id, kind) in self.waiting:
            return
        self.waiting.add((wa_id, kind))
        self.queue.submit(wa_id, lambda: self._turn(wa_id, kind))

    async def _turn(self, wa_id: str, kind: AgentKind) -> None:
        self.waiting.discard((wa_id, kind))
        await self.events.publish(typing_event(wa_id, True))
        try:
            await self.agents[kind](wa_id)
        except Exception:
            if kind is AgentKind.SYSTEM:
                await self.events.publish(system_agent_error_event(wa_id, SYSTEM_AGENT_FAILED))
            raise
        finally:
            await self.events.publish(typing_event(wa_id, False))
