"""Calendar statistics for the system agent: conversation analysis and day-by-day reservation snapshots."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.rules.capacity import SlotOccupancy, slot_room
from domain.clock import Clock
from domain.config import BookingSource, ClinicConfig
from domain.storage.database import Database
from domain.errors import DomainError
from domain.storage.models import ConversationMessage, Customer, Reservation
from domain.rules.planning import ACTIVE, CANCELLED
from domain.rules.schedule import DayStatus, Vacation, clinic_midnight, closing, day_status, hijri_date, parse_date, slot_label, slots_for
from domain.storage.store import load_vacations, upcoming
from domain.clock import local_iso

MAX_SNAPSHOT_DAYS = 92
MAX_ANALYSIS_DAYS = 366
MAX_LISTED_CUSTOMERS = 200
BUSIEST_HOURS = 5


class CalendarStatistics:
    """Counts over a period: who wrote, how much, and how full each day is."""

    def __init__(self, db: Database, config: ClinicConfig, clock: Clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock

    async def conversation_analysis(self, start_date: str, end_date: str) -> dict[str, Any]:
        """Message statistics of the customers' chats over clinic days start to end (inclusive).

        The system agent's own chat is left out and only counted apart.
        """
        first, last = date_range(start_date, end_date, MAX_ANALYSIS_DAYS)
        start, end = clinic_midnight(self.config, first), clinic_midnight(self.config, last + timedelta(days=1))
        period = [ConversationMessage.timestamp >= start, ConversationMessage.timestamp < end]
        customer_chats = [*period, ConversationMessage.wa_id != self.config.system_agent_wa_id]
        system_chat = select(func.count()).select_from(ConversationMessage).where(
            *period, ConversationMessage.wa_id == self.config.system_agent_wa_id)
        async with self.db.reading() as session:
            # Clinic days and hours depend on the zone's rules, so the timestamps are bucketed here, not in SQL.
            messages = (await session.execute(
                select(ConversationMessage.role, ConversationMessage.timestamp).where(*customer_chats))).all()
            writers = await self._writers(session, customer_chats)
            system_messages = int(await session.scalar(system_chat) or 0)
        stats = message_stats(self.config, messages, first, last)
        return {"start_date": first.isoformat(), "end_date": last.isoformat(), "timezone": self.config.timezone,
                **stats, **writers, "system_agent_messages": system_messages}

    async def _writers(self, session: AsyncSession, customer_chats: list[ColumnElement[bool]]) -> dict[str, Any]:
        """Customers who wrote in the period, and those of them with no upcoming reservation."""
        writers = (select(ConversationMessage.wa_id, func.max(ConversationMessage.timestamp).label("last"))
                   .where(*customer_chats, ConversationMessage.role == "user")
                   .group_by(ConversationMessage.wa_id).subquery())
        booked = select(Reservation.wa_id).where(upcoming(self.config, self.clock()))
        without = select(writers.c.wa_id, writers.c.last, Customer.name).outerjoin(
            Customer, Customer.wa_id == writers.c.wa_id).where(writers.c.wa_id.not_in(booked))
        count_without = select(func.count()).select_from(without.subquery())
        listed = (await session.execute(
            without.order_by(writers.c.last.desc(), writers.c.wa_id).limit(MAX_LISTED_CUSTOMERS))).all()
        total = int(await session.scalar(count_without) or 0)
        return {
            "active_customers": int(await session.scalar(select(func.count()).select_from(writers)) or 0),
            "customers_without_upcoming_reservation": {
                "count": total, "truncated": total > len(listed),
                "customers": [{"wa_id": w, "name": n, "last_message_at": local_iso(self.config, at)}
                              for w, at, n in listed],
            },
        }

    async def reservation_snapshot(self, start_date: str, end_date: str | None = None) -> dict[str, Any]:
        """Each day from start to end (at most 92): its status and, per slot, who is booked and the room left."""
        first, last = date_range(start_date, end_date or start_date, MAX_SNAPSHOT_DAYS)
        rows, cancelled_count, vacations = await self._snapshot_data(first, last)
        booked: dict[date, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for row in rows:
            booked[row.date][row.time_slot].append(row)
        days = [self._snapshot_day(first + timedelta(days=n), booked[first + timedelta(days=n)], vacations)
                for n in range((last - first).days + 1)]
        return {"start_date": first.isoformat(), "end_date": last.isoformat(), "timezone": self.config.timezone,
                "types": {str(t.id): t.name for t in self.config.reservation_types},
                "days": days, "totals": self._snapshot_totals(days, rows, cancelled_count)}

    async def _snapshot_data(self, first: date, last: date) -> tuple[list[Any], int, list[Vacation]]:
        """Active rows of the range with customer names, the number cancelled, and the vacations."""
        in_range = [Reservation.date >= first, Reservation.date <= last]
        statement = (select(Reservation.id, Reservation.wa_id, Reservation.date, Reservation.time_slot,
                            Reservation.type, Customer.name)
                     .outerjoin(Customer, Customer.wa_id == Reservation.wa_id)
                     .where(*in_range, Reservation.status == ACTIVE).order_by(Reservation.id))
        cancelled = select(func.count()).select_from(Reservation).where(*in_range, Reservation.status == CANCELLED)
        async with self.db.reading() as session:
            rows = list((await session.execute(statement)).all())
            return rows, int(await session.scalar(cancelled) or 0), await load_vacations(session)

    def _snapshot_day(self, day: date, booked: dict[str, list[Any]], vacations: list[Vacation]) -> dict[str, Any]:
        status, vacation = day_status(self.config, day, vacations, self.clock())
        # A slot an hours closure closes is out of hours that day.
        in_hours = [s for s in slots_for(self.config, day) if closing(vacations, day, s) is None]
        times = sorted(set(booked) | set(in_hours if status in (DayStatus.OPEN, DayStatus.PAST) else ()))
        slots = [self._snapshot_slot(t, booked.get(t, []), t in in_hours) for t in times]
        return {"date": day.isoformat(), "hijri_date": hijri_date(day), "weekday": day.strftime("%A"),
                "status": status.value, "vacation": vacation.title if vacation else None,
                "booked": sum(s["booked"] for s in slots), "slots": slots}

    def _snapshot_slot(self, slot: str, rows: list[Any], in_hours: bool) -> dict[str, Any]:
        """Who is booked and, per booking source, the capacity, the room left (also per capped type) and whether
        nothing more fits: computed here so that no caller recomputes the rule."""
        occupancy = SlotOccupancy()
        for row in rows:
            occupancy.add(row.type)
        rooms = {source.value: slot_room(self.config, occupancy, source) for source in BookingSource}
        types = list(self.config.type_ids())
        entry: dict[str, Any] = {
            "time_slot": slot, "time_label": slot_label(slot), "in_hours": in_hours, "booked": len(rows),
            "capacity": {k: room.capacity for k, room in rooms.items()},
            "remaining": {k: room.remaining for k, room in rooms.items()},
            "full": {k: not room.fits_any(types) for k, room in rooms.items()},
            "by_type": dict(sorted(Counter(str(r.type) for r in rows).items())),
            "reservations": [{"id": r.id, "wa_id": r.wa_id, "customer_name": r.name, "type": r.type} for r in rows],
        }
        if self.config.type_capacity:
            entry["type_remaining"] = {k: {str(t): n for t, n in room.by_type.items()} for k, room in rooms.items()}
        return entry

    def _snapshot_totals(self, days: list[dict[str, Any]], rows: Sequence[Any], cancelled: int) -> dict[str, Any]:
        open_slots = [s for d in days if d["status"] == "open" for s in d["slots"] if s["in_hours"]]
        return {
            "days": len(days), "days_by_status": dict(Counter(d["status"] for d in days)),
            "reservations": len(rows), "cancelled": cancelled, "customers": len({r.wa_id for r in rows}),
            "by_type": dict(sorted(Counter(str(r.type) for r in rows).items())),
            "open_days_capacity": {k: sum(s["capacity"][k] for s in open_slots) for k in ("agent", "operator")},
            "open_days_booked": sum(s["booked"] for s in open_slots),
        }


def message_stats(
    config: ClinicConfig, messages: Iterable[tuple[str, datetime]], first: date, last: date
) -> dict[str, Any]:
    """Counts by role, per clinic day (every day of the range) and the busiest local hours of customers' messages."""
    local = [(role, at.astimezone(config.zone)) for role, at in messages]
    per_day = Counter(moment.date() for _, moment in local)
    hours = Counter(moment.hour for role, moment in local if role == "user")
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return {
        "total_messages": len(local),
        "messages_by_role": dict(sorted(Counter(role for role, _ in local).items())),
        "messages_per_day": {day.isoformat(): per_day.get(day, 0) for day in days},
        "busiest_hours": [{"hour": f"{h:02d}:00", "label": slot_label(f"{h:02d}:00"), "customer_messages": n}
                          for h, n in sorted(hours.items(), key=lambda item: (-item[1], item[0]))[:BUSIEST_HOURS]],
    }


def date_range(start_date: str, end_date: str, max_days: int | None = None) -> tuple[date, date]:
    """Parse an inclusive range; raises `invalid_range`, or `range_too_long` past `max_days` days."""
    first, last = parse_date(start_date), parse_date(end_date)
    if last < first:
        raise DomainError("invalid_range", start=first.isoformat(), end=last.isoformat())
    if max_days is not None and (last - first).days + 1 > max_days:
        raise DomainError("range_too_long", max_days=max_days)
    return first, last

