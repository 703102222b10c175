"""Closing the clinic for a period, and reopening it, as batches.

A closure is a vacation row and the cancellation of every active upcoming booking in its days, written in
one transaction and recorded as one batch, so `undo` reopens the days and restores the bookings together.
Closing holds the whole calendar's write lock: no booking of the period commits between finding the
bookings to cancel and the closure itself.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.closures import ClosureEdit, closures, overlap
from domain.database import lock_whole_calendar
from domain.errors import DomainError
from domain.identities import checked_name
from domain.models import Vacation
from domain.planning import RuleContext
from domain.schedule import parse_date
from domain.system_agent.planners import CancelPlanner, Plan, ProgressCallback
from domain.system_agent.requests import Filters

MAX_CLOSURE_DAYS = 366


class ClosePlanner:
    """Closes `start`..`end` under `title`, cancelling the active upcoming bookings of those days."""

    def __init__(self, start: Any, end: Any, title: Any, hijri: bool = False) -> None:
        self.start, self.end, self.title, self.hijri = start, end, title, hijri

    async def __call__(self, session: AsyncSession, ctx: RuleContext, plan: Plan,
                       progress: ProgressCallback | None) -> None:
        first, last, title = self._checked(ctx)
        await lock_whole_calendar(session)
        if overlapping := overlap(await closures(session), first, last):
            raise DomainError("closure_overlaps", **overlapping.view().model_dump())
        closure = ClosureEdit(0, "closed", first, last, title)
        plan.closures.append(closure)
        filters = Filters(start_date=first.isoformat(), end_date=last.isoformat())
        await CancelPlanner([], (filters, None))(session, ctx, plan, progress)

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


class ReopenPlanner:
    """Removes closure `closure_id`: its days can be booked again (the bookings it cancelled stay cancelled;
    undoing the closing batch restores them)."""

    def __init__(self, closure_id: int) -> None:
        self.closure_id = closure_id

    async def __call__(self, session: AsyncSession, ctx: RuleContext, plan: Plan,
                       progress: ProgressCallback | None) -> None:
        row = await session.get(Vacation, self.closure_id)
        if row is None:
            raise DomainError("closure_not_found", id=self.closure_id)
        plan.closures.append(ClosureEdit(0, "reopened", row.start_date, row.end_date, row.title, row.id))


