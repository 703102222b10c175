"""Agent turns served from the durable work queue (`domain.workers.jobs`): workers in this process claim the
stored jobs of every instance on the database, one conversation at a time each, in arrival order.

A message that wants an answer is stored with its job (`ConversationService.append(..., turn=kind)`);
`TurnWorkers.wake` tells this process's workers at once, and the other instances find it on their next
poll. The sidebar sees typing while a turn runs; a turn that fails is told in the conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum

from chat_bridge import logs
from chat_bridge.events import new_message_event, system_agent_error_event, typing_event
from chat_bridge.ports import EventSink
from domain.calendar.conversations import ConversationService
from domain.workers.jobs import AgentJobs, ClaimedJob
from domain.storage.models import MessageRole

logger = logging.getLogger(__name__)

Handler = Callable[[str], Awaitable[None]]

SYSTEM_AGENT_FAILED = "The system agent could not answer; your message is kept. Please try again."
CUSTOMER_AGENT_FAILED = "(not sent) The assistant could not answer this message; an operator should reply."


class AgentKind(StrEnum):
    """Which agent answers: the operators' system agent or the customers' assistant."""

    SYSTEM = "system"
    CUSTOMER = "customer"


QUIET_MARGIN_SECONDS = 0.02  # a wake-up just after a quiet period ends, not just before
TEXT_ONLY = "text_only"  # the job of a non-text message: the fixed "text only, please" reply


class TurnWorkers:
    """`concurrency` workers claiming jobs until closed; each job runs the handler of its kind."""

    def __init__(self, jobs: AgentJobs, conversations: ConversationService, events: EventSink,
                 handlers: dict[str, Handler], *, concurrency: int = 4, poll_seconds: float = 0.5) -> None:
        self.jobs = jobs
        self.conversations = conversations
        self.events = events
        self.handlers = handlers
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.process = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        self.workers: list[asyncio.Task[None]] = []
        self.busy: set[str] = set()
        self.stopping = False
        self._sleeping: list[asyncio.Future[None]] = []  # idle workers, each waiting to be woken or its poll
        self._missed = False  # a wake came while no worker slept: the next to go idle claims again first
        self._roused = 0  # workers woken that have not begun their claim yet
        self.observers: list[Callable[[str, str, float], None]] = []  # (kind, outcome, seconds) of each turn
        # Run with the conversation before each turn (one turn per conversation runs at a time): the
        # confirmation broker expires questions left by a turn whose process died.
        self.before_turn: list[Handler] = []

    def start(self) -> None:
        self.workers = [asyncio.create_task(self._work(f"{self.process}:{n}"), name=f"turn worker {n}")
                        for n in range(self.concurrency)]

    @property
    def idle(self) -> int:
        """Workers waiting to be woken or for their next poll."""
        return sum(1 for sleeper in self._sleeping if not sleeper.done())

    async def is_running(self) -> bool:
        """Whether every worker is still serving the queue (the readiness check)."""
        return bool(self.workers) and not self.stopping and not any(w.done() for w in self.workers)

    def wake(self, wa_id: str | None = None) -> None:
        """A job was stored by this process (for the conversation `wa_id`, if given): one idle worker claims it
        now rather than at the next poll, and again once a quiet period that holds it has passed. A conversation
        whose turn runs here is not woken for: its worker claims again when that turn ends, and the new job is
        the conversation's next."""
        if wa_id is None or wa_id not in self.busy:
            self._rouse(needed=True)
        if (quiet := self.jobs.quiet.seconds) > 0:
            asyncio.get_running_loop().call_later(quiet + QUIET_MARGIN_SECONDS, lambda: self._rouse(needed=True))

    def _rouse(self, *, needed: bool = False) -> None:
        """Wake one idle worker, unless one was woken and has not begun its claim yet (it will see what was stored
        before now). `needed`: with no worker idle, the next one to go idle claims again first (a claim running
        now may have begun before the job was stored)."""
        if self._roused:
            return
        while self._sleeping:
            if self._wake(self._sleeping.pop()):
                return
        self._missed = self._missed or needed

    def _wake(self, sleeper: asyncio.Future[None]) -> bool:
        if sleeper.done():  # its poll ended
            return False
        sleeper.set_result(None)
        self._roused += 1
        return True

    async def drain(self) -> None:
        """Wait until no job is queued or running (in any instance)."""
        while True:
            depth = await self.jobs.depth()
            if depth.queued + depth.running == 0 and not self.busy:
                return
            self.wake()
            await asyncio.sleep(0.02)

    async def close(self, grace_seconds: float) -> None:
        """Finish the queued work for up to `grace_seconds`, then stop claiming, cancel the turns still running
        and give their jobs back, so that another instance (or the next start) runs them at once."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), grace_seconds)
        self.stopping = True
        while self._sleeping:
            self._wake(self._sleeping.pop())
        running = list(self.busy)
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)
        released = sum([await self.jobs.release(f"{self.process}:{n}") for n in range(self.concurrency)])
        if running or released:
            logger.error("shutdown: %d turn(s) still running after %ss, %d job(s) given back",
                         len(running), grace_seconds, released)

    async def _work(self, worker: str) -> None:
        while not self.stopping:
            try:
                job = await self.jobs.claim(worker)
            except Exception:
                logger.exception("claiming a job failed; trying again")
                job = None
            if job is None:
                await self._idle()
                continue
            self._rouse()  # there may be more: another idle worker claims next (a burst fans out)
            self.busy.add(job.wa_id)
            try:
                with logs.conversation(job.wa_id, f"job-{job.id}"):
                    await self._run(job, worker)
            finally:
                self.busy.discard(job.wa_id)

    async def _idle(self) -> None:
        """Until woken or the next poll (other instances' jobs and expired leases are found by polling)."""
        if self._missed:
            self._missed = False
            return
        sleeper = asyncio.get_running_loop().create_future()
        self._sleeping.append(sleeper)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sleeper, self.poll_seconds)
        finally:
            if sleeper in self._sleeping:
                self._sleeping.remove(sleeper)
            if sleeper.done() and not sleeper.cancelled():
                self._roused -= 1  # woken: its claim begins now

    async def _run(self, job: ClaimedJob, worker: str) -> None:
        if job.exhausted:
            logger.error("conversation %s: job %d given up after %d attempts", job.wa_id, job.id, job.attempts)
            await self._tell_failure(job)
            return
        keeper = asyncio.create_task(self._keep_lease(job, worker))
        started, outcome = time.perf_counter(), "answered"
        try:
            await self._turn(job)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.exception("conversation %s: the %s turn of job %d failed", job.wa_id, job.kind, job.id)
            outcome = "failed"
            if await self.jobs.fail(job, worker, repr(error)):
                await self._tell_failure(job)
        else:
            await self.jobs.finish(job, worker)
        finally:
            keeper.cancel()
            seconds = time.perf_counter() - started
            logger.info("the %s turn of job %d: %s in %.3fs", job.kind, job.id, outcome, seconds)
            for observe in self.observers:
                observe(job.kind, outcome, seconds)

    async def _turn(self, job: ClaimedJob) -> None:
        handler = self.handlers[job.kind]
        for prepare in self.before_turn:
            await prepare(job.wa_id)
        typing = job.kind in (AgentKind.SYSTEM, AgentKind.CUSTOMER)
        if typing:
            await self.events.publish(typing_event(job.wa_id, True))
        try:
            await handler(job.wa_id)
        finally:
            if typing:
                await self.events.publish(typing_event(job.wa_id, False))

    async def _keep_lease(self, job: ClaimedJob, worker: str) -> None:
        while True:
            await asyncio.sleep(self.jobs.lease.total_seconds() / 3)
            if not await self.jobs.renew(job, worker):
                logger.error("conversation %s: job %d lost its lease", job.wa_id, job.id)
                return

    async def _tell_failure(self, job: ClaimedJob) -> None:
        """The conversation shows that its message went unanswered; the operator's sidebar hears it at once."""
        system = job.kind == AgentKind.SYSTEM
        text = SYSTEM_AGENT_FAILED if system else CUSTOMER_AGENT_FAILED
        stored = await self.conversations.append(job.wa_id, MessageRole.ASSISTANT, text,
                                                 meta={"agent_error": job.kind, "job": job.id})
        if stored is not None:
            await self.events.publish(new_message_event(stored))
        if system:
            await self.events.publish(system_agent_error_event(job.wa_id, SYSTEM_AGENT_FAILED))
