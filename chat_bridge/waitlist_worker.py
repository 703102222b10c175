"""The waitlist's worker: offers freed places as the calendar changes, moves waves on as their holds end, and sweeps.

One runs in every instance. The calendar's day events (this instance's changes, and through `InstanceLink` the
others') only note the days and wake it, so a booking's request never waits for the waitlist. The periodic sweep
finds what a crash between a change and its reaction left, so nothing is lost; every write is taken under the
slot's lock and read again there (`domain.waitlist.places`), so instances working at once open one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import date

from domain.waitlist.service import WaitlistService

logger = logging.getLogger(__name__)


class WaitlistWorker:
    """Reacts to changed days, ends due holds every poll, and sweeps every `sweep_seconds`."""

    def __init__(self, waitlist: WaitlistService, *, poll_seconds: float = 1.0) -> None:
        self.waitlist, self.poll_seconds = waitlist, poll_seconds
        self.sweep_seconds = waitlist.limits.sweep_seconds
        self.days: set[date] = set()
        self.task: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()
        self._swept = float("-inf")  # the first round sweeps

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="waitlist worker")

    async def days_changed(self, days: set[date]) -> None:
        """A day listener: note the days and wake the worker (it never runs the waitlist in the caller's task)."""
        self.days |= days
        self._wakeup.set()

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _run(self) -> None:
        while True:
            try:
                await self._round()
            except Exception:
                logger.exception("the waitlist worker's round failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.poll_seconds)
            self._wakeup.clear()

    async def _round(self) -> None:
        days, self.days = self.days, set()
        if days:
            try:
                await self.waitlist.days_changed(days)
            except Exception:
                self.days |= days  # tried again next round
                raise
        await self.waitlist.expire_holds()
        if time.monotonic() - self._swept >= self.sweep_seconds:
            self._swept = time.monotonic()
            await self.waitlist.sweep()
