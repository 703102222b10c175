"""The automatic no-show's worker: every so often, the bookings still booked or confirmed some minutes after their
slot ended become no-shows (`SystemAgentBatchService.sweep_no_shows`), one batch by the system each time there are
any. Off unless `AUTO_NO_SHOW_MINUTES` is set. Every instance may run one: a sweep holds the rows' locks and
selects again under them, so two sweeps never mark a row twice nor record two batches for it."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from domain.system_agent.batch import SystemAgentBatchService

logger = logging.getLogger(__name__)
SWEEP_SECONDS = 60.0


class NoShowSweeper:
    """Sweeps every `every_seconds` until closed."""

    def __init__(self, batch: SystemAgentBatchService, minutes: int, *, every_seconds: float = SWEEP_SECONDS) -> None:
        self.batch, self.minutes, self.every_seconds = batch, minutes, every_seconds
        self.task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="no-show sweeper")

    async def is_running(self) -> bool:
        return self.task is not None and not self.task.done()

    async def close(self) -> None:
        self._stop.set()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def sweep(self) -> None:
        """One sweep: the no-shows due now, as one batch (none when there are none)."""
        report = await self.batch.sweep_no_shows(self.minutes)
        if report.status == "applied":
            logger.info("automatic no-show: %d booking(s) marked, batch %s", report.counts()["ok"], report.batch_id)

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.sweep()
            except Exception:
                logger.exception("the automatic no-show's sweep failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.every_seconds)
