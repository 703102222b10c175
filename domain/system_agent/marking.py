"""Marking attendance as a batch: which bookings (by id, or a day or range, a time and their current attendance),
each checked with `rules.attendance`, and the revert an undo makes of a mark.

A mark that takes a booking out of the active ones (a no-show) is a status change like a cancellation: it frees the
place, and undoing it checks the slot's capacity again. Confirmed and arrived change the attendance column only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar.attendance import AttendanceEdit, load_attendance
from domain.errors import DomainError
from domain.rules.attendance import Mark, check_mark, is_unattended_after, marked
from domain.rules.capacity import check_fits
from domain.rules.planning import ACTIVE, CANCELLED, Booking, CalendarState, Change, ReservationStatus, RuleContext
from domain.rules.schedule import parse_date, parse_time
from domain.storage.models import Reservation
from domain.storage.store import ListParameters, load_state, lock_calendar
from domain.system_agent.planners import Plan, ProgressCallback
from domain.system_agent.requests import BatchItem, Short, parse_whole

MAX_DAYS = 31  # a selection's range of days
MAX_IDS = 500  # reservations named in one call
Current = Literal["booked", "confirmed", "arrived", "no_show"]


class AttendanceFilters(BatchItem):
    """Which bookings to mark, when not named by id: a day (or a range), optionally one slot, and which current
    attendance (default: any that can take the mark)."""

    date: Short | None = Field(default=None, description="One day; or start_date and end_date")
    start_date: Short | None = Field(default=None, description="First day of a range (at most 31 days)")
    end_date: Short | None = Field(default=None, description="Last day of the range, inclusive")
    time_slot: Short | None = Field(default=None, description="Only this slot, e.g. 13:00")
    attendance: Annotated[list[Current], Field(max_length=4, description=(
        "Only bookings marked so now, e.g. [\"booked\", \"confirmed\"] for those not marked arrived"))] | None = None


class AttendanceSelection(AttendanceFilters):
    """The filters, and for the automatic no-show: only slots that ended this many minutes ago or more."""

    ended_minutes: Annotated[int, Field(ge=0, le=100_000)] | None = None


class AttendancePlanner:
    """Plans a mark over the named or selected bookings, as of holding their locks."""

    def __init__(self, mark: Mark, ids: list[int] | None, selection: dict[str, Any] | None) -> None:
        if (ids is None) == (selection is None) or (ids is not None and not ids):
            raise DomainError("attendance_filters_needed")
        if ids is not None and len(ids) > MAX_IDS:
            raise DomainError("invalid_batch", reason=f"at most {MAX_IDS} reservation_ids per call.")
        self.mark, self.ids = mark, ids
        self.selection = parse_whole(AttendanceSelection, selection, "filters") if selection is not None else None
        self.days = _days(self.selection) if self.selection is not None else None

    async def __call__(self, session: AsyncSession, ctx: RuleContext, plan: Plan,
                       progress: ProgressCallback | None) -> None:
        found = await self._found(session, ctx)
        await lock_calendar(session, {b.wa_id for b in found}, {b.slot for b in found})
        state = await load_state(session, ctx.today, reservation_ids=[b.id for b in found],
                                 slots={b.slot for b in found})  # as of holding the locks
        attendance = await load_attendance(session, [b.id for b in found])
        targets = [state.bookings[b.id] for b in found if b.id in state.bookings]
        if self.selection is not None:  # what another writer marked meanwhile no longer matches
            targets = [b for b in targets if self._matches(ctx, b, attendance[b.id])]
        for index, booking in enumerate(targets):
            try:
                plan.ok(index, self._one(ctx, state, booking, attendance[booking.id]))
                plan.marks.append(AttendanceEdit(index, booking.id, marked(booking.status, attendance[booking.id],
                                                                          self.mark)[1], attendance[booking.id]))
            except DomainError as error:
                plan.fail(index, error.with_traceback(None), booking.wa_id, booking.id, booking)
        self._missing(plan, {b.id for b in targets}, len(targets))

    def _one(self, ctx: RuleContext, state: CalendarState, booking: Booking, attendance: str) -> Change:
        check_mark(ctx.config, booking.date, booking.time_slot, booking.status, attendance, self.mark, ctx.now)
        status, _ = marked(booking.status, attendance, self.mark)
        if status == ACTIVE and booking.status != ACTIVE:  # a no-show corrected takes a place again
            check_fits(ctx.config, state.occupancy(booking.slot), booking.type, ctx.source, ctx.max_reservations)
        return state.apply(Change(self.mark.value, booking, booking._replace(status=status)))

    def _missing(self, plan: Plan, found: set[int], numbered: int) -> None:
        """A named id that is no reservation fails, numbered after the ones found."""
        for offset, missing in enumerate(i for i in dict.fromkeys(self.ids or []) if i not in found):
            plan.fail(numbered + offset, DomainError("reservation_not_found"), reservation_id=missing)

    def _matches(self, ctx: RuleContext, booking: Booking, attendance: str) -> bool:
        """Whether a selected booking still fits the selection and does not have the mark already."""
        assert self.selection is not None
        if booking.status == CANCELLED or marked(booking.status, attendance, self.mark) == (booking.status,
                                                                                          attendance):
            return False
        current = "no_show" if booking.status == ReservationStatus.NO_SHOW else attendance
        minutes = self.selection.ended_minutes
        return (self.selection.attendance is None or current in self.selection.attendance) and (
            minutes is None or is_unattended_after(ctx.config, booking.date, booking.time_slot, minutes, ctx.now))

    async def _found(self, session: AsyncSession, ctx: RuleContext) -> list[Booking]:
        """The named reservations, or the selected ones in order of day, time and id."""
        listed = ListParameters(session)
        if self.ids is not None:
            condition = listed.one_of(Reservation.id, sorted(set(self.ids)))
        else:
            assert self.selection is not None and self.days is not None
            first, last = self.days
            condition = and_(Reservation.date >= first, Reservation.date <= last, Reservation.status != CANCELLED)
            if self.selection.time_slot:
                condition = and_(condition, Reservation.time_slot == parse_time(self.selection.time_slot))
        columns = (Reservation.id, Reservation.wa_id, Reservation.date, Reservation.time_slot, Reservation.type,
                   Reservation.status)
        rows = await session.execute(select(*columns).where(condition).order_by(
            Reservation.date, Reservation.time_slot, Reservation.id), listed.values)
        found = [Booking(*row) for row in rows]
        if self.ids is not None:
            order = {i: n for n, i in enumerate(dict.fromkeys(self.ids))}
            found.sort(key=lambda b: order[b.id])
        return found


def _days(selection: AttendanceSelection) -> tuple[date, date]:
    """The selection's first and last day: `date`, or `start_date` to `end_date` (at most `MAX_DAYS`)."""
    if selection.date and (selection.start_date or selection.end_date):
        raise DomainError("invalid_batch", reason="filters: give date, or start_date and end_date, not both.")
    first_text = selection.date or selection.start_date
    if not first_text:
        raise DomainError("attendance_filters_needed")
    first = parse_date(first_text)
    last = parse_date(selection.end_date) if selection.end_date else first
    if last < first:
        raise DomainError("invalid_range")
    if last - first >= timedelta(days=MAX_DAYS):
        raise DomainError("range_too_long", max_days=MAX_DAYS)
    return first, last


def sweep_selection(today: date, minutes: int) -> dict[str, Any]:
    """The automatic no-show's selection: the last week's booked or confirmed bookings whose slot ended `minutes`
    ago or more."""
    return {"start_date": (today - timedelta(days=7)).isoformat(), "end_date": today.isoformat(),
            "attendance": ["booked", "confirmed"], "ended_minutes": minutes}


__all__ = ["AttendanceFilters", "AttendancePlanner", "AttendanceSelection", "sweep_selection"]
