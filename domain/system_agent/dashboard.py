"""The clinic's dashboard over a period: bookings per day and type, cancellations and their share, no-shows and the
no-show rate (by day and by type), the busiest slots, new versus returning customers, and what operators,
agents and customers did (`activity`). Every figure is a grouped SQL
statement; Python only arranges the rows (a year is at most 366 days times a few slots). One declared shape
(`Dashboard`) for the MCP tool and the console's dashboard (`chat_bridge/static/dashboard.js`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock
from domain.config import ClinicConfig
from domain.storage.database import Database
from domain.storage.models import Reservation
from domain.rules.planning import ACTIVE, CANCELLED, ReservationStatus
from domain.rules.schedule import clinic_midnight
from domain.system_agent.activity import Activity, activity
from domain.system_agent.statistics import date_range
from domain.views import View

MAX_DASHBOARD_DAYS = 366
BUSIEST = 10  # weekday-and-time slots listed
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class NoShowRate(View):
    """Attendance of the bookings that were marked: arrived and no-shows, and the no-show rate, no-shows /
    (arrived + no-shows); None when none was marked. Bookings never marked (booked or confirmed) are left out."""

    arrived: int = 0
    no_shows: int = 0
    rate: float | None = None


class DashboardTotals(View):
    """Bookings (every one not cancelled, no-shows included) and cancellations dated in the period; `by_type` by
    type name; the cancellations inside the late window; the no-shows and their rate, in all and by type name."""

    bookings: int
    cancelled: int
    cancelled_share: float
    by_type: dict[str, int]
    late_cancelled: int = 0
    no_shows: NoShowRate = NoShowRate()
    no_shows_by_type: dict[str, NoShowRate] = {}


class DashboardDay(View):
    """One day's bookings by type id (no-shows included), its cancellations, and its no-show rate."""

    date: str
    by_type: dict[str, int]
    cancelled: int
    no_shows: NoShowRate = NoShowRate()


class BusiestSlot(View):
    """A weekday and time by its active bookings in the period."""

    weekday: str
    time_slot: str
    bookings: int


class CustomerCounts(View):
    """Customers with an active booking in the period: new (no earlier booking) or returning."""

    total: int
    new: int
    returning: int


class Dashboard(View):
    """The clinic's figures over `start_date`..`end_date` (clinic dates, inclusive)."""

    start_date: str
    end_date: str
    timezone: str
    totals: DashboardTotals
    types: dict[str, str]
    days: list[DashboardDay]
    busiest_slots: list[BusiestSlot]
    customers: CustomerCounts
    activity: Activity


class DashboardService:
    """The dashboard's numbers for `start`..`end` (clinic dates, inclusive)."""

    def __init__(self, db: Database, config: ClinicConfig, clock: Clock) -> None:
        self.db, self.config, self.clock = db, config, clock

    async def figures(self, start_date: str, end_date: str | None = None) -> Dashboard:
        first, last = date_range(start_date, end_date or start_date, MAX_DASHBOARD_DAYS)
        async with self.db.reading() as session:
            slots = await self._slots(session, first, last)
            customers = await self._customers(session, first, last)
            start, end = clinic_midnight(self.config, first), clinic_midnight(self.config, last + timedelta(days=1))
            done = await activity(session, start, end, self.config.system_agent_wa_id)
        return Dashboard(start_date=first.isoformat(), end_date=last.isoformat(), timezone=self.config.timezone,
                         **_bookings(self.config, slots, first, last), customers=customers, activity=done)

    async def _slots(self, session: AsyncSession, first: date, last: date) -> list[Any]:
        """(date, time_slot, type, status, attendance, late_cancel, count) of every reservation dated in the
        period."""
        grouped = (Reservation.date, Reservation.time_slot, Reservation.type, Reservation.status,
                   Reservation.attendance, Reservation.late_cancel)
        query = select(*grouped, func.count()).where(Reservation.date.between(first, last)).group_by(*grouped)
        return list((await session.execute(query)).all())

    async def _customers(self, session: AsyncSession, first: date, last: date) -> CustomerCounts:
        """Customers with an active booking in the period: new (no earlier booking of theirs, whatever its
        status) or returning. One pass over the customers' histories, grouped by customer."""
        in_period = and_(Reservation.status == ACTIVE, Reservation.date >= first)
        histories = (select(func.min(Reservation.date).label("first_seen")).where(Reservation.date <= last)
                     .group_by(Reservation.wa_id).having(func.count().filter(in_period) > 0).subquery())
        counts = select(func.count(), func.count().filter(histories.c.first_seen < first)).select_from(histories)
        total, returning = (int(n) for n in (await session.execute(counts)).one())
        return CustomerCounts(total=total, new=total - returning, returning=returning)


def _bookings(config: ClinicConfig, rows: list[Any], first: date, last: date) -> dict[str, Any]:
    """Per day: active bookings by type and cancellations; the totals and the cancelled share; the busiest
    weekday-and-time slots by active bookings."""
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    busiest: Counter[tuple[int, str]] = Counter()
    by_type: Counter[str] = Counter()
    marked: dict[str, Counter[str]] = defaultdict(Counter)  # a type id, or a day's ISO date -> arrived, no_shows
    late = 0
    for day, slot, type_id, status, attendance, late_cancel, count in rows:
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        if str(status) == CANCELLED:
            per_day[day]["cancelled"] += count
            late += count if late_cancel else 0
            continue
        per_day[day][str(type_id)] += count
        by_type[str(type_id)] += count
        busiest[(day.weekday(), slot)] += count
        if (outcome := _outcome(str(status), attendance)) is not None:
            marked[str(type_id)][outcome] += count
            marked[day.isoformat()][outcome] += count
    dates = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    days = [{"date": d.isoformat(), "by_type": {t: per_day[d][t] for t in _types(config)},
             "cancelled": per_day[d]["cancelled"], "no_shows": _rate(marked[d.isoformat()])} for d in dates]
    active = sum(by_type.values())
    cancelled = sum(per_day[d]["cancelled"] for d in dates)
    every_type = sum((marked[t] for t in _types(config)), Counter[str]())
    return {
        "totals": {"bookings": active, "cancelled": cancelled,
                   "cancelled_share": round(cancelled / (active + cancelled), 4) if active + cancelled else 0.0,
                   "by_type": {config.type_name(int(t)): by_type[t] for t in _types(config)},
                   "late_cancelled": late, "no_shows": _rate(every_type),
                   "no_shows_by_type": {config.type_name(int(t)): _rate(marked[t]) for t in _types(config)}},
        "types": {t: config.type_name(int(t)) for t in _types(config)},
        "days": days,
        "busiest_slots": [{"weekday": WEEKDAYS[weekday], "time_slot": slot, "bookings": n}
                          for (weekday, slot), n in sorted(busiest.items(), key=lambda kv: (-kv[1], kv[0]))[:BUSIEST]],
    }


def _outcome(status: str, attendance: str) -> str | None:
    """What a booking's attendance counts as in the no-show rate: arrived, a no-show, or nothing (not marked)."""
    if status == ReservationStatus.NO_SHOW:
        return "no_shows"
    return "arrived" if attendance == "arrived" else None


def _rate(counts: Counter[str]) -> dict[str, Any]:
    """A `NoShowRate` of these counts."""
    arrived, missed = counts["arrived"], counts["no_shows"]
    return {"arrived": arrived, "no_shows": missed,
            "rate": round(missed / (arrived + missed), 4) if arrived + missed else None}


def _types(config: ClinicConfig) -> list[str]:
    return [str(t.id) for t in config.reservation_types]

