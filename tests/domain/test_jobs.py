"""The durable work queue over a real database: order per conversation, leases, attempts, many workers."""

import asyncio
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select

from domain.workers.jobs import AgentJobs, JobStatus, enqueue
from domain.storage.models import AgentJob
from domain.services import Services
from tests.conftest import FixedClock

A, B = "966501110001", "966501110002"


async def add(jobs: AgentJobs, wa_id: str, kind: str, message_id: int) -> None:
    """A job as `ConversationService.append(..., turn=kind)` stores it beside its message."""
    async with jobs.db.unit_of_work() as session:
        enqueue(session, wa_id, kind, message_id, jobs.clock())


async def statuses(services: Services) -> list[tuple[str, str]]:
    async with services.db.reading() as session:
        return [(w, s) for w, s in (await session.execute(
            select(AgentJob.wa_id, AgentJob.status).order_by(AgentJob.id))).all()]


async def test_a_conversation_runs_one_turn_at_a_time_in_order_while_others_run(
    services: Services, clock: FixedClock
) -> None:
    jobs = AgentJobs(services.db, clock)
    await add(jobs, A, "customer", 1)
    await add(jobs, B, "customer", 2)
    first = await jobs.claim("w1")
    other = await jobs.claim("w2")
    await add(jobs, A, "customer", 3)  # arrives while A's turn runs
    assert (first and first.wa_id, other and other.wa_id) == (A, B)
    assert await jobs.claim("w3") is None  # A's next waits for A's running turn; B has nothing more
    assert first is not None and await jobs.finish(first, "w1")
    following = await jobs.claim("w3")
    assert following is not None and (following.wa_id, following.message_id) == (A, 3)


async def test_jobs_queued_before_a_turn_starts_are_served_by_it(services: Services, clock: FixedClock) -> None:
    jobs = AgentJobs(services.db, clock)
    for message_id in (1, 2, 3):
        await add(jobs, A, "customer", message_id)
    claimed = await jobs.claim("w1")
    assert claimed is not None and claimed.message_id == 3  # the newest message the turn answers
    assert await statuses(services) == [(A, "running"), (A, "merged"), (A, "merged")]
    assert await jobs.claim("w2") is None


async def test_a_turn_claimed_again_after_a_crash_takes_the_messages_that_arrived_meanwhile(
    services: Services, clock: FixedClock
) -> None:
    jobs = AgentJobs(services.db, clock, lease=timedelta(seconds=30))
    await add(jobs, A, "customer", 1)
    dead = await jobs.claim("w1")
    await add(jobs, A, "customer", 2)  # the customer wrote again while the dead worker's turn "ran"
    clock.now += timedelta(seconds=31)
    again = await jobs.claim("w2")
    assert dead is not None and dead.message_id == 1
    assert again is not None and (again.id, again.attempts, again.message_id) == (dead.id, 2, 2)


async def test_a_turn_whose_worker_died_is_claimed_again_after_its_lease_then_given_up(
    services: Services, clock: FixedClock
) -> None:
    jobs = AgentJobs(services.db, clock, lease=timedelta(seconds=30), max_attempts=2)
    await add(jobs, A, "system", 1)
    dead = await jobs.claim("w1")
    assert dead is not None and await jobs.claim("w2") is None  # still leased
    clock.now += timedelta(seconds=31)
    again = await jobs.claim("w2")
    assert again is not None and (again.id, again.attempts) == (dead.id, 2)
    assert not await jobs.finish(dead, "w1")  # the first worker no longer holds it
    clock.now += timedelta(seconds=31)
    spent = await jobs.claim("w3")
    assert spent is not None and spent.exhausted and spent.id == dead.id
    assert await statuses(services) == [(A, "failed")]


async def test_a_turn_that_raised_fails_for_good_and_the_conversation_moves_on(
    services: Services, clock: FixedClock
) -> None:
    jobs = AgentJobs(services.db, clock)
    await add(jobs, A, "customer", 1)
    first = await jobs.claim("w1")
    await add(jobs, A, "customer", 2)
    assert first is not None and await jobs.fail(first, "w1", "provider down")
    following = await jobs.claim("w1")
    assert following is not None and following.message_id == 2
    assert await statuses(services) == [(A, "failed"), (A, "running")]


async def test_released_jobs_are_claimed_at_once_without_spending_an_attempt(
    services: Services, clock: FixedClock
) -> None:
    jobs = AgentJobs(services.db, clock)
    await add(jobs, A, "customer", 1)
    held = await jobs.claim("w1")
    assert await jobs.release("w1") == 1
    again = await jobs.claim("w2")
    assert held is not None and again is not None and (again.id, again.attempts) == (held.id, 1)
    depth = await jobs.depth()
    assert (depth.queued, depth.running) == (0, 1)


async def test_many_workers_keep_each_conversation_in_order_and_run_each_job_once(
    services: Services, clock: FixedClock
) -> None:
    jobs = AgentJobs(services.db, clock)
    conversations = [f"9665022{n:05d}" for n in range(12)]
    more: dict[str, int] = {w: 3 for w in conversations}  # each turn's conversation gets 3 more messages
    running: set[str] = set()
    runs: dict[str, list[int]] = defaultdict(list)
    overlaps: list[str] = []
    for message_id, wa_id in enumerate(conversations):
        await add(jobs, wa_id, "customer", message_id)

    async def worker(name: str) -> None:
        idle = 0
        while idle < 20:
            job = await jobs.claim(name)
            if job is None:
                idle += 1
                await asyncio.sleep(0.01)
                continue
            idle = 0
            if job.wa_id in running:
                overlaps.append(job.wa_id)
            running.add(job.wa_id)
            runs[job.wa_id].append(job.id)
            if more[job.wa_id]:
                more[job.wa_id] -= 1
                await add(jobs, job.wa_id, "customer", job.id)  # a message arriving during the turn
            await asyncio.sleep(0)
            running.discard(job.wa_id)
            assert await jobs.finish(job, name)

    await asyncio.gather(*(worker(f"w{n}") for n in range(6)))
    assert overlaps == []
    assert {w: len(ids) for w, ids in runs.items()} == {w: 4 for w in conversations}
    assert all(ids == sorted(ids) for ids in runs.values())
    assert {s for _, s in await statuses(services)} == {JobStatus.DONE}
