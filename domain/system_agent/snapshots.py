"""The calendar day by day, as every caller reads it: each day's status and, per slot, who is booked and the room
left for each booking source. One declared shape for the MCP tool and resource, the console's `/calendar` and the
calendar strip (`chat_bridge/static/calendar.js`), whose reads a test holds against this shape's JSON schema.

The shapes are TypedDicts: typed for every reader and writer here (mypy), with a JSON schema through pydantic's
`TypeAdapter`, and plain dicts at run time, so that a 92-day snapshot of thousands of bookings costs no validation."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from typing_extensions import NotRequired, TypedDict  # pydantic reads a TypedDict's schema from this one before 3.12

from domain.clock import Clock
from domain.config import BookingSource, ClinicConfig
from domain.rules.capacity import SlotOccupancy, slot_room
from domain.rules.attendance import public_status
from domain.rules.planning import ACTIVE, CANCELLED, ReservationStatus
from domain.rules.schedule import (DayStatus, Vacation, closing, day_status, hijri_date, slot_label, slot_start,
                                  slots_for)
from domain.storage.database import Database
from domain.storage.models import Customer, Reservation
from domain.storage.store import load_vacations

MAX_SNAPSHOT_DAYS = 92
# By booking source ("agent", "operator"): the capacity, room and fullness differ by who books.
PerSource = dict[str, int]


class SlotBooking(TypedDict):
    """A reservation of a slot, as the calendar names it: an active one, or a no-show (listed, never counted), with
    its attendance as a person reads it (`rules.attendance.public_status`: booked, confirmed, arrived, no_show)."""

    id: int
    wa_id: str
    customer_name: str | None
    type: int
    attendance: str


class SnapshotSlot(TypedDict):
    """One slot of a day: who is booked and, per booking source, its capacity, the places left (`remaining`) and
    whether nothing more fits, computed here so that no caller recomputes the rule. `in_hours`: within the day's
    opening hours (not closed by an hours closure); `by_type`: active reservations by type id;
    `type_remaining` (with per-type capacities only): places left by booking source, then by type id; `closure`: the
    title of the hours closure that closes the slot, when one does."""

    time_slot: str
    time_label: str
    in_hours: bool
    booked: int
    capacity: PerSource
    remaining: PerSource
    full: dict[str, bool]
    by_type: dict[str, int]
    reservations: list[SlotBooking]
    type_remaining: NotRequired[dict[str, dict[str, int]]]
    closure: NotRequired[str]


class SnapshotDay(TypedDict):
    """One day: its status (open, closed, vacation, past), the title of the closure that closes it, its slots, and
    `unmarked`: the ids of its bookings still booked or confirmed whose slot has started (what "mark the day's
    unmarked as no-show" marks)."""

    date: str
    hijri_date: str
    weekday: str
    status: str
    vacation: str | None
    booked: int
    slots: list[SnapshotSlot]
    unmarked: list[int]


class SnapshotTotals(TypedDict):
    """The range's counts; the capacity and booking of its open days' slots within hours."""

    days: int
    days_by_status: dict[str, int]
    reservations: int
    cancelled: int
    customers: int
    by_type: dict[str, int]
    open_days_capacity: PerSource
    open_days_booked: int


class CalendarSnapshot(TypedDict):
    """Each day from `start_date` to `end_date` (inclusive), with the clinic's type names by id."""

    start_date: str
    end_date: str
    timezone: str
    types: dict[str, str]
    days: list[SnapshotDay]
    totals: SnapshotTotals


class CalendarSnapshots:
    """Reads the calendar of a range of days as a `CalendarSnapshot`."""

    def __init__(self, db: Database, config: ClinicConfig, clock: Clock) -> None:
        self.db, self.config, self.clock = db, config, clock

    async def snapshot(self, first: date, last: date) -> CalendarSnapshot:
        """Each day from `first` to `last`: its status and, per slot, who is booked and the room left."""
        listed, cancelled_count, vacations = await self._data(first, last)
        rows = [row for row in listed if row.status == ACTIVE]
        booked: dict[date, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for row in listed:
            booked[row.date][row.time_slot].append(row)
        days = [self._day(first + timedelta(days=n), booked[first + timedelta(days=n)], vacations)
                for n in range((last - first).days + 1)]
        return CalendarSnapshot(start_date=first.isoformat(), end_date=last.isoformat(),
                                timezone=self.config.timezone,
                                types={str(t.id): t.name for t in self.config.reservation_types},
                                days=days, totals=self._totals(days, rows, cancelled_count))

    async def _data(self, first: date, last: date) -> tuple[list[Any], int, list[Vacation]]:
        """Active and no-show rows of the range with customer names, the number cancelled, and the vacations."""
        in_range = [Reservation.date >= first, Reservation.date <= last]
        statement = (select(Reservation.id, Reservation.wa_id, Reservation.date, Reservation.time_slot,
                            Reservation.type, Customer.name, Reservation.status, Reservation.attendance)
                     .outerjoin(Customer, Customer.wa_id == Reservation.wa_id)
                     .where(*in_range, Reservation.status.in_([ACTIVE, ReservationStatus.NO_SHOW]))
                     .order_by(Reservation.id))
        cancelled = select(func.count()).select_from(Reservation).where(*in_range, Reservation.status == CANCELLED)
        async with self.db.reading() as session:
            rows = list((await session.execute(statement)).all())
            return rows, int(await session.scalar(cancelled) or 0), await load_vacations(session)

    def _day(self, day: date, booked: dict[str, list[Any]], vacations: list[Vacation]) -> SnapshotDay:
        status, vacation = day_status(self.config, day, vacations, self.clock())
        # A slot an hours closure closes is out of hours that day.
        closed_by = {s: closure.title for s in slots_for(self.config, day)
                     if (closure := closing(vacations, day, s)) is not None}
        in_hours = [s for s in slots_for(self.config, day) if s not in closed_by]
        # An open day lists the slots an hours closure closes too (out of hours, with the closure's title).
        times = sorted(set(booked) | (set(in_hours) | set(closed_by) if status in (DayStatus.OPEN, DayStatus.PAST)
                                      else set()))
        slots = [self._slot(t, booked.get(t, []), t in in_hours, closed_by.get(t)) for t in times]
        return SnapshotDay(date=day.isoformat(), hijri_date=hijri_date(day), weekday=day.strftime("%A"),
                           status=status.value, vacation=vacation.title if vacation else None,
                           booked=sum(s["booked"] for s in slots), slots=slots, unmarked=self._unmarked(day, booked))

    def _unmarked(self, day: date, booked: dict[str, list[Any]]) -> list[int]:
        """The day's bookings still booked or confirmed whose slot has started: each could be marked a no-show."""
        now = self.clock()
        return sorted(row.id for slot, rows in booked.items() if slot_start(self.config, day, slot) <= now
                      for row in rows if row.status == ACTIVE and row.attendance != "arrived")

    def _slot(self, slot: str, listed: list[Any], in_hours: bool, closure: str | None = None) -> SnapshotSlot:
        rows = [row for row in listed if row.status == ACTIVE]  # a no-show is listed, never counted
        occupancy = SlotOccupancy()
        for row in rows:
            occupancy.add(row.type)
        rooms = {source.value: slot_room(self.config, occupancy, source) for source in BookingSource}
        types = list(self.config.type_ids())
        entry = SnapshotSlot(
            time_slot=slot, time_label=slot_label(slot), in_hours=in_hours, booked=len(rows),
            capacity={k: room.capacity for k, room in rooms.items()},
            remaining={k: room.remaining for k, room in rooms.items()},
            full={k: not room.fits_any(types) for k, room in rooms.items()},
            by_type=dict(sorted(Counter(str(r.type) for r in rows).items())),
            reservations=[_booking(r) for r in listed])
        if closure is not None:
            entry["closure"] = closure
        if self.config.type_capacity:
            entry["type_remaining"] = {k: {str(t): n for t, n in room.by_type.items()} for k, room in rooms.items()}
        return entry

    def _totals(self, days: list[SnapshotDay], rows: Sequence[Any], cancelled: int) -> SnapshotTotals:
        open_slots = [s for d in days if d["status"] == "open" for s in d["slots"] if s["in_hours"]]
        return SnapshotTotals(
            days=len(days), days_by_status=dict(Counter(d["status"] for d in days)),
            reservations=len(rows), cancelled=cancelled, customers=len({r.wa_id for r in rows}),
            by_type=dict(sorted(Counter(str(r.type) for r in rows).items())),
            open_days_capacity={k: sum(s["capacity"][k] for s in open_slots) for k in ("agent", "operator")},
            open_days_booked=sum(s["booked"] for s in open_slots))


def _booking(row: Any) -> SlotBooking:
    # A literal checked against its TypedDict: calling the TypedDict costs four times as much, per booking.
    booking: SlotBooking = {"id": row.id, "wa_id": row.wa_id, "customer_name": row.name, "type": row.type,
                            "attendance": public_status(row.status, row.attendance, False).value}
    return booking
