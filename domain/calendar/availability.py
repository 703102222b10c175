"""AvailabilityService: open slots with their remaining room, for a day or a range, for one booking source.

Its shapes (`AvailableDay`, `AvailableSlot`) answer "what can this caller book": `remaining` is one number, for the
source asked. The calendar snapshot (`domain.system_agent.snapshots`) answers "how full is the calendar", with
the room per source. The shapes are TypedDicts: typed, with a JSON schema through pydantic's `TypeAdapter`, and plain
dicts at run time (a year's search builds no validated objects)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from typing_extensions import NotRequired, TypedDict  # pydantic reads a TypedDict's schema from this one before 3.12

from domain.rules.capacity import SlotOccupancy, slot_room
from domain.clock import Clock, system_clock
from domain.config import BookingSource, ClinicConfig
from domain.storage.database import Database
from domain.errors import DomainError
from domain.storage.models import Reservation
from domain.rules.planning import ACTIVE
from domain.rules.schedule import (
    day_status, hijri_date, hours_for, is_ramadan, nearest_first, open_slots, parse_date, parse_time, slot_label,
)
from domain.storage.store import load_vacations

MAX_RANGE_DAYS = 366


class AvailableSlot(TypedDict):
    """An open slot: how many are booked, the places left for the booking source asked (`remaining`) and whether
    any type still fits; with per-type capacities, the places left by type id (`type_remaining`)."""

    time_slot: str
    time_label: str
    booked: int
    remaining: int
    available: bool
    type_remaining: NotRequired[dict[str, int]]


class AvailableDay(TypedDict):
    """A day's open slots; a day without any says why in `status` (closed, vacation, past)."""

    date: str
    hijri_date: str
    weekday: str
    status: str
    vacation: str | None
    ramadan_hours: bool
    timezone: str
    slots: list[AvailableSlot]


class AvailabilityService:
    """Which slots can still be booked, and how many places each has left."""

    def __init__(self, db: Database, config: ClinicConfig, clock: Clock = system_clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock

    async def search(
        self,
        start_date: str | date,
        end_date: str | date | None = None,
        *,
        near_time: str | None = None,
        source: BookingSource = BookingSource.AGENT,
        hijri: bool = False,
        only_available: bool = True,
    ) -> list[AvailableDay]:
        """One entry per day from start to end (inclusive); with `near_time`, the nearest open slot per day."""
        first = parse_date(start_date, hijri)
        last = parse_date(end_date, hijri) if end_date is not None else first
        if last < first:
            raise DomainError("invalid_range", start=first.isoformat(), end=last.isoformat())
        if (last - first).days >= MAX_RANGE_DAYS:
            raise DomainError("range_too_long", max_days=MAX_RANGE_DAYS)
        wanted = parse_time(near_time) if near_time is not None else None
        counts, vacations = await self._load(first, last)
        now = self.clock()
        days = []
        for offset in range((last - first).days + 1):
            day = first + timedelta(days=offset)
            entry = self._day(day, counts, vacations, now, source)
            if wanted is not None:
                entry["slots"] = _nearest(entry["slots"], wanted)
            if only_available:
                entry["slots"] = [s for s in entry["slots"] if s["available"]]
            days.append(entry)
        return days

    async def _load(self, first: date, last: date) -> tuple[dict[tuple[date, str], SlotOccupancy], list[Any]]:
        query = (
            select(Reservation.date, Reservation.time_slot, Reservation.type, func.count())
            .where(Reservation.status == ACTIVE, Reservation.date >= first, Reservation.date <= last)
            .group_by(Reservation.date, Reservation.time_slot, Reservation.type)
        )
        async with self.db.reading() as session:
            rows = (await session.execute(query)).all()
            vacations = await load_vacations(session)
        counts: dict[tuple[date, str], SlotOccupancy] = defaultdict(SlotOccupancy)
        for day, slot, type_id, count in rows:
            counts[(day, slot)].add(type_id, count)
        return counts, vacations

    def _day(self, day: date, counts: Any, vacations: Any, now: Any, source: BookingSource) -> AvailableDay:
        status, vacation = day_status(self.config, day, vacations, now)
        types = list(self.config.type_ids())
        slots = []
        for slot in open_slots(self.config, day, vacations, now):
            occupancy = counts[(day, slot)] if (day, slot) in counts else SlotOccupancy()
            room = slot_room(self.config, occupancy, source)
            entry = AvailableSlot(time_slot=slot, time_label=slot_label(slot), booked=occupancy.total,
                                  remaining=room.remaining, available=room.fits_any(types))
            if room.by_type:
                entry["type_remaining"] = {str(t): n for t, n in room.by_type.items()}
            slots.append(entry)
        return AvailableDay(date=day.isoformat(), hijri_date=hijri_date(day), weekday=day.strftime("%A"),
                            status=status.value, vacation=vacation.title if vacation else None,
                            ramadan_hours=is_ramadan(day) and hours_for(self.config, day) is not None,
                            timezone=self.config.timezone, slots=slots)


def _nearest(slots: list[AvailableSlot], wanted: str) -> list[AvailableSlot]:
    """The open slot closest to `wanted` (earlier wins a tie), or none."""
    open_ones = {s["time_slot"]: s for s in slots if s["available"]}
    return [open_ones[t] for t in nearest_first(list(open_ones), wanted)[:1]]
