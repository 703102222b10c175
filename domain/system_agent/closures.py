"""Closing the clinic for a period, and reopening it, as batches.

A closure is a vacation row and the cancellation of every active upcoming booking in its days, written in
one transaction and recorded as one batch, so `undo` reopens the days and restores the bookings together.
Closing holds the whole calendar's write lock: no booking of the period commits between finding the
bookings to cancel and the closure itself.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar.closures import ClosureEdit, closures, overlap
from domain.storage.database import lock_whole_calendar
from domain.errors import DomainError
from domain.rules.identities import checked_name
from domain.storage.models import Vacation
from domain.rules.planning import RuleContext
from domain.rules.schedule import parse_date, parse_time, slots_for
from domain.system_agent.planners import CancelPlanner, Plan, ProgressCallback
from domain.system_agent.paging import ReservationQuery
from domain.system_agent.requests import MAX_ID

MAX_CLOSURE_DAYS = 366


class ClosePlanner:
    """Closes `start`..`end` under `title` (with `hours`, a (from, to) pair: only the slots starting in those
    hours), cancelling the active upcoming bookings it closes."""

    def __init__(self, start: Any, end: Any, title: Any, hijri: bool = False,
                 hours: tuple[Any, Any] | None = None) -> None:
        self.start, self.end, self.title, self.hijri, self.hours = start, end, title, hijri, hours

    async def __call__(self, session: AsyncSession, ctx: RuleContext, plan: Plan,
                       progress: ProgressCallback | None) -> None:
        first, last, title = self._checked(ctx)
        from_time, to_time = self._hours()
        closure = ClosureEdit(0, "closed", first, last, title, None, from_time, to_time)
        slots = _closed_slots(ctx, closure)
        await lock_whole_calendar(session)
        if overlapping := overlap(await closures(session), closure):
            raise DomainError("closure_overlaps", **overlapping.view().model_dump())
        plan.closures.append(closure)
        query = ReservationQuery(start=first, end=last, time_slots=tuple(slots) if slots else None)
        await CancelPlanner([], (query, None))(session, ctx, plan, progress)

    def _hours(self) -> tuple[str | None, str | None]:
        if self.hours is None or self.hours == (None, None):
            return None, None
        if None in self.hours:
            raise DomainError("invalid_request", reason="give both from_time and to_time, or neither.")
        from_time, to_time = parse_time(self.hours[0]), parse_time(self.hours[1])
        if to_time <= from_time:
            raise DomainError("invalid_request", reason=f"to_time ({to_time}) must be after from_time ({from_time}).")
        return from_time, to_time

    def _checked(self, ctx: RuleContext) -> tuple[date, date, str]:
        first = parse_date(self.start, self.hijri)
        last = parse_date(self.end, self.hijri) if self.end else first
        if last < first:
            raise DomainError("invalid_range", start=first.isoformat(), end=last.isoformat())
        if (last - first).days >= MAX_CLOSURE_DAYS:
            raise DomainError("range_too_long", max_days=MAX_CLOSURE_DAYS)
        if first < ctx.today:
            raise DomainError("past_date")
        title = checked_name(str(self.title or "").strip())
        if not title:
            raise DomainError("invalid_request", reason="give the closure a title (e.g. Winter break).")
        return first, last, title


def _closed_slots(ctx: RuleContext, closure: ClosureEdit) -> list[str] | None:
    """The slot times an hours closure closes on its days (None for whole days); refused when it closes none."""
    if closure.from_time is None:
        return None
    days = (closure.start + timedelta(days=n) for n in range((closure.end - closure.start).days + 1))
    slots = sorted({s for day in days for s in slots_for(ctx.config, day) if closure.period.closes(day, s)})
    if not slots:
        raise DomainError("invalid_request", reason=f"no slot of those days starts between {closure.from_time} and "
                                                    f"{closure.to_time}.")
    return slots


class ReopenPlanner:
    """Removes closure `closure_id`: its days can be booked again (the bookings it cancelled stay cancelled;
    undoing the closing batch restores them)."""

    def __init__(self, closure_id: int) -> None:
        self.closure_id = closure_id

    async def __call__(self, session: AsyncSession, ctx: RuleContext, plan: Plan,
                       progress: ProgressCallback | None) -> None:
        row = await session.get(Vacation, self.closure_id) if 0 < self.closure_id <= MAX_ID else None
        if row is None:
            raise DomainError("closure_not_found", id=self.closure_id)
        plan.closures.append(ClosureEdit(0, "reopened", row.start_date, row.end_date, row.title, row.id,
                                         row.start_time, row.end_time))


