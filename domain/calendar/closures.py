"""Closures of the clinic as a batch changes them: written, removed, recorded and taken back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.storage.models import Vacation
from domain.rules.schedule import Vacation as Period
from domain.calendar.vacations import VacationView, vacation_view

CLOSURE_ACTIONS = ("closed", "reopened")


@dataclass
class ClosureEdit:
    """A closure the batch writes (`closed`) or removes (`reopened`); `id` is known once written."""

    index: int
    action: Literal["closed", "reopened"]
    start: date
    end: date
    title: str
    id: int | None = None
    from_time: str | None = None  # with to_time: only these hours of each day
    to_time: str | None = None

    @property
    def period(self) -> Period:
        return Period(self.start, self.end, self.title, self.from_time, self.to_time)

    def view(self) -> VacationView:
        return vacation_view(self.id, self.start, self.end, self.title, self.from_time, self.to_time)

    def overlaps(self, other: ClosureEdit) -> bool:
        """Whether both close some same slot: common days, and common hours unless either is whole-day."""
        if not (self.start <= other.end and other.start <= self.end):
            return False
        if self.from_time is None or other.from_time is None:
            return True
        return self.from_time < (other.to_time or "") and other.from_time < (self.to_time or "")

    def record(self) -> dict[str, Any]:
        """The row the batch record keeps of it."""
        return {"index": self.index, "action": self.action, "closure": {
            "id": self.id, "start_date": self.start.isoformat(), "end_date": self.end.isoformat(),
            "title": self.title, "from_time": self.from_time, "to_time": self.to_time}}

    @classmethod
    def recorded(cls, row: dict[str, Any], action: Literal["closed", "reopened"]) -> ClosureEdit:
        closure = row["closure"]
        return cls(row["index"], action, date.fromisoformat(closure["start_date"]),
                   date.fromisoformat(closure["end_date"]), closure["title"], closure["id"],
                   closure.get("from_time"), closure.get("to_time"))


async def reverted_closures(session: AsyncSession, periods: list[Period],
                            changes: list[dict[str, Any]]) -> list[ClosureEdit]:
    """The closure edits that take back a batch's closing or reopening, applied to `periods` (the rules'
    vacations) before its reservations are reverted: a restored booking must not land in the closure
    being undone."""
    edits = []
    for change in changes:
        if change["action"] == "closed":
            edit = ClosureEdit.recorded(change, "reopened")
            if await session.get(Vacation, edit.id) is None:
                continue  # reopened since: nothing left to remove
        elif change["action"] == "reopened":
            edit = ClosureEdit.recorded(change, "closed")
            edit.id = None
        else:
            continue
        edits.append(edit)
        _apply(periods, edit)
    return edits


def _apply(periods: list[Period], edit: ClosureEdit) -> None:
    if edit.action == "closed":
        periods.append(edit.period)
    elif edit.period in periods:
        periods.remove(edit.period)


async def write_closures(session: AsyncSession, edits: list[ClosureEdit]) -> None:
    """Insert the closed periods (their ids set on the edits) and delete the reopened ones."""
    for edit in edits:
        if edit.action == "reopened":
            await session.execute(delete(Vacation).where(Vacation.id == edit.id))
            continue
        row = Vacation(start_date=edit.start, end_date=edit.end, title=edit.title, start_time=edit.from_time,
                       end_time=edit.to_time)
        session.add(row)
        await session.flush()
        edit.id = row.id


async def closures(session: AsyncSession) -> list[ClosureEdit]:
    rows = await session.scalars(select(Vacation).order_by(Vacation.start_date))
    return [ClosureEdit(0, "closed", r.start_date, r.end_date, r.title, r.id, r.start_time, r.end_time) for r in rows]


def overlap(existing: list[ClosureEdit], new: ClosureEdit) -> ClosureEdit | None:
    return next((c for c in existing if c.overlaps(new)), None)
