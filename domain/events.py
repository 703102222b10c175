"""Calendar events: who is told when reservations change (the bridge broadcasts them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from domain.views import ReservationView

# (action, reservation view): action is created, moved, modified, reinstated, cancelled or restored.
CalendarListener = Callable[[str, ReservationView], Awaitable[None]]
# (tool, items): a batch was applied (the service's metrics count them).
BatchListener = Callable[[str, int], None]
# The days whose calendar changed (a booking made, moved or cancelled there, or the day closed or reopened).
DayListener = Callable[[set[date]], Awaitable[None]]


class CalendarEvents:
    """Listeners told after a change has been committed."""

    def __init__(self) -> None:
        self.listeners: list[CalendarListener] = []
        self.batch_listeners: list[BatchListener] = []
        self.notice_listeners: list[Callable[[int], None]] = []  # told how many notices a batch queued
        self.day_listeners: list[DayListener] = []

    def batch_applied(self, tool: str, items: int) -> None:
        for listener in self.batch_listeners:
            listener(tool, items)

    def notices_queued(self, count: int) -> None:
        for listener in self.notice_listeners:
            listener(count)

    async def publish(self, action: str, reservation: ReservationView) -> None:
        for listener in self.listeners:
            await listener(action, reservation)

    async def days_changed(self, days: set[date]) -> None:
        if days:
            for listener in self.day_listeners:
                await listener(days)
