"""Vacation periods: stored closures of the clinic."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select

from domain.storage.database import Database
from domain.errors import DomainError
from domain.storage.models import Vacation
from domain.rules.schedule import hijri_date, parse_date
from domain.views import View


class VacationView(View):
    """A closure of the clinic, its days in both calendars; `id` is None until it is written."""

    id: int | None
    title: str
    start_date: str
    end_date: str
    start_hijri: str
    end_hijri: str
    from_time: str | None = None  # a closure of these hours only
    to_time: str | None = None


class VacationService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, start: str | date, end: str | date, title: str) -> VacationView:
        first, last = parse_date(start), parse_date(end)
        if last < first:
            raise DomainError("invalid_range", start=first.isoformat(), end=last.isoformat())
        async with self.db.unit_of_work() as session:
            row = Vacation(start_date=first, end_date=last, title=title.strip() or "Vacation")
            session.add(row)
            await session.flush()
            return vacation_view(row.id, first, last, row.title)

    async def remove(self, vacation_id: int) -> None:
        async with self.db.unit_of_work() as session:
            await session.execute(delete(Vacation).where(Vacation.id == vacation_id))

    async def list(self, ending_from: date | None = None) -> list[VacationView]:
        """Every closure in date order; with `ending_from`, those whose last day is that day or later."""
        query = select(Vacation).order_by(Vacation.start_date, Vacation.id)
        if ending_from is not None:
            query = query.where(Vacation.end_date >= ending_from)
        async with self.db.reading() as session:
            rows = await session.scalars(query)
            return [vacation_view(r.id, r.start_date, r.end_date, r.title, r.start_time, r.end_time) for r in rows]


def vacation_view(vacation_id: int | None, start: date, end: date, title: str, from_time: str | None = None,
                  to_time: str | None = None) -> VacationView:
    return VacationView(id=vacation_id, title=title, start_date=start.isoformat(), end_date=end.isoformat(),
                        start_hijri=hijri_date(start), end_hijri=hijri_date(end), from_time=from_time, to_time=to_time)
