"""The durable conversation work queue: agent turns stored as rows, claimed by any instance on the database.

A message that asks for an agent turn is stored with its job in one transaction (`enqueue`), so an
accepted message is never without its turn, whichever process dies. Workers in every instance `claim`
jobs: only the oldest open job of a conversation can be claimed, so a conversation's turns run one at a
time in arrival order, across instances, while conversations run in parallel (on PostgreSQL the claim
skips rows another worker holds: `FOR UPDATE SKIP LOCKED`; SQLite serialises writers, and one process
serves it). A claim is a lease the worker renews while the turn runs; a turn whose worker died is claimed
again once its lease has expired, up to `max_attempts` times, and then fails visibly. A turn that raised
fails at once: the model's SDK has already retried what was worth retrying.

Jobs of one conversation that are still queued when one is claimed are merged into it: a turn answers
every message of its conversation that no reply has answered, so one turn serves every message stored before
it began. A kind with a quiet period (the customers' assistant) is claimed only once the conversation has been
quiet that long, or its oldest job has waited `most` seconds: people write in bursts, and a burst becomes one
turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.clock import Clock, system_clock
from domain.storage.database import Database
from domain.storage.models import AgentJob


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    MERGED = "merged"  # served by an earlier job of the same conversation
    FAILED = "failed"


OPEN = (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass(frozen=True)
class QuietPeriod:
    """Jobs of `kinds` wait until their conversation has had no new job for `seconds`, at most `most` seconds."""

    kinds: tuple[str, ...] = ()
    seconds: float = 0.0
    most: float = 0.0

    def waited(self) -> ColumnElement[bool]:
        """Whether the candidate `AgentJob` has waited out its conversation's quiet period, at the times
        `times(now)` binds."""
        if not self.kinds or self.seconds <= 0:
            return true()
        later = aliased(AgentJob)
        burst_goes_on = exists().where(later.wa_id == AgentJob.wa_id, later.status == JobStatus.QUEUED,
                                       later.created_at > bindparam("quiet_since"))
        return or_(AgentJob.kind.not_in(self.kinds), AgentJob.created_at <= bindparam("waited_most_since"),
                   ~burst_goes_on)

    def times(self, now: datetime) -> dict[str, datetime]:
        """The bound times of `AgentJobs`' claim statement at `now`."""
        return {"now": now, "quiet_since": now - timedelta(seconds=self.seconds),
                "waited_most_since": now - timedelta(seconds=self.most)}


@dataclass(frozen=True)
class ClaimedJob:
    """A job a worker holds until `lease_until`; `exhausted` when its attempts are spent (it is failed)."""

    id: int
    wa_id: str
    kind: str
    message_id: int | None
    attempts: int
    exhausted: bool = False


@dataclass(frozen=True)
class QueueDepth:
    """Open jobs, and the age in seconds of the oldest one (0 when none)."""

    queued: int
    running: int
    oldest_seconds: float


def enqueue(session: AsyncSession, wa_id: str, kind: str, message_id: int | None, now: datetime) -> None:
    """Add a job in the caller's transaction (the one that stores the message asking for it)."""
    session.add(AgentJob(**job_row(wa_id, kind, message_id, now)))


def job_row(wa_id: str, kind: str, message_id: int | None, now: datetime) -> dict[str, object]:
    """A new job's row (for `enqueue`, or for storing many at once)."""
    return {"wa_id": wa_id, "kind": kind, "message_id": message_id, "status": JobStatus.QUEUED, "attempts": 0,
            "available_at": now, "created_at": now}


class AgentJobs:
    """Claims, renews, finishes and retries the stored jobs for one worker process."""

    def __init__(self, db: Database, clock: Clock = system_clock, *, lease: timedelta = timedelta(seconds=60),
                 max_attempts: int = 3, quiet: QuietPeriod = QuietPeriod()) -> None:
        self.db = db
        self.clock = clock
        self.lease = lease
        self.max_attempts = max_attempts
        self.quiet = quiet
        # The claim's statement, built once (workers poll it): its times are bound at each claim.
        older = aliased(AgentJob)
        first_open = (select(func.min(older.id))
                      .where(older.wa_id == AgentJob.wa_id, older.status.in_(OPEN)).scalar_subquery())
        now = bindparam("now", type_=AgentJob.available_at.type)
        ready = or_(and_(AgentJob.status == JobStatus.QUEUED, AgentJob.available_at <= now, quiet.waited()),
                    and_(AgentJob.status == JobStatus.RUNNING, AgentJob.lease_until <= now))
        self._next = select(AgentJob).where(AgentJob.id == first_open, ready).order_by(AgentJob.id).limit(1)
        self._next_locked = self._next.with_for_update(skip_locked=True)

    async def claim(self, worker: str) -> ClaimedJob | None:
        """The next job no other worker holds whose conversation has nothing older open, leased to `worker`."""
        now = self.clock()
        times = self.quiet.times(now)
        async with self.db.reading() as session:  # an idle poll takes no write lock
            if (await session.scalars(self._next, times)).first() is None:
                return None
        async with self.db.unit_of_work() as session:
            job = (await session.scalars(self._next_locked, times)).first()
            if job is None:
                return None
            if job.attempts >= self.max_attempts:
                job.status, job.finished_at, job.lease_until = JobStatus.FAILED, now, None
                job.error = job.error or f"gave up after {job.attempts} attempts"
                return ClaimedJob(job.id, job.wa_id, job.kind, job.message_id, job.attempts, exhausted=True)
            job.status, job.worker, job.lease_until = JobStatus.RUNNING, worker, now + self.lease
            job.attempts += 1
            merged = await session.scalars(
                update(AgentJob).where(AgentJob.wa_id == job.wa_id, AgentJob.kind == job.kind,
                                       AgentJob.status == JobStatus.QUEUED, AgentJob.id > job.id)
                .values(status=JobStatus.MERGED, finished_at=now).returning(AgentJob.message_id))
            # The turn answers the merged messages too: its message is the newest of them, so that a re-run
            # after a crash asks whether *that* one was answered, not only the first.
            newest = max((m for m in [job.message_id, *merged] if m is not None), default=None)
            job.message_id = newest
            return ClaimedJob(job.id, job.wa_id, job.kind, job.message_id, job.attempts)

    async def renew(self, job: ClaimedJob, worker: str) -> bool:
        """Extend the lease; False when the job is no longer this worker's (its lease expired and another
        worker claimed it)."""
        return await self._settle(job, worker, lease_until=self.clock() + self.lease)

    async def finish(self, job: ClaimedJob, worker: str) -> bool:
        now = self.clock()
        return await self._settle(job, worker, status=JobStatus.DONE, finished_at=now, lease_until=None)

    async def fail(self, job: ClaimedJob, worker: str, error: str) -> bool:
        """Record a turn that raised: failed for good (the agent runtime has already retried the model, and
        the caller tells the conversation). False when the job was no longer this worker's."""
        return await self._settle(job, worker, status=JobStatus.FAILED, finished_at=self.clock(),
                                  lease_until=None, error=error[:2000])

    async def release(self, worker: str) -> int:
        """Give back every job `worker` holds (at shutdown) so that another worker claims it at once; the
        attempt does not count."""
        async with self.db.unit_of_work() as session:
            result = await session.execute(
                update(AgentJob).where(AgentJob.worker == worker, AgentJob.status == JobStatus.RUNNING)
                .values(status=JobStatus.QUEUED, lease_until=None, available_at=self.clock(),
                        attempts=AgentJob.attempts - 1))
            return int(getattr(result, "rowcount", 0) or 0)

    async def depth(self) -> QueueDepth:
        async with self.db.reading() as session:
            rows = (await session.execute(
                select(AgentJob.status, func.count(), func.min(AgentJob.created_at))
                .where(AgentJob.status.in_(OPEN)).group_by(AgentJob.status))).all()
        counts = {status: count for status, count, _ in rows}
        oldest = min((first for _, _, first in rows if first is not None), default=None)
        age = max(0.0, (self.clock() - oldest).total_seconds()) if oldest is not None else 0.0
        return QueueDepth(counts.get(JobStatus.QUEUED, 0), counts.get(JobStatus.RUNNING, 0), age)

    async def _settle(self, job: ClaimedJob, worker: str, **values: object) -> bool:
        async with self.db.unit_of_work() as session:
            result = await session.execute(
                update(AgentJob).where(AgentJob.id == job.id, AgentJob.worker == worker,
                                       AgentJob.status == JobStatus.RUNNING).values(**values))
            return bool(getattr(result, "rowcount", 0))
