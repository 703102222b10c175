"""Bulk reads and writes of reservations for the planners. Never commits: the service does."""

from __future__ import annotations

import json

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import (
    ARRAY, Date, Integer, Select, String, Update, and_, any_, bindparam, case, func, insert, literal_column, or_,
    select, update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter

from domain.storage.database import FINE_LOCKS, lock_for_write, lock_key, lock_whole_calendar, note_change
from domain.rules.identities import checked_name
from domain.clock import system_clock
from domain.storage.models import Customer, Reservation, UTCDateTime, Vacation
from domain.rules.planning import ACTIVE, CANCELLED, Booking, CalendarState, Change, SlotKey
from domain.config import ClinicConfig
from domain.rules.schedule import Vacation as VacationPeriod
from domain.rules.schedule import upcoming_after
from domain.rules.attendance import is_late_cancel

_CHUNK = 500
CUSTOMER_NAMED = "customer_named"  # change kinds: wa_id -> its name (new or renamed) ...
CUSTOMER_GONE = "customer_gone"  # ... or the wa_id no longer exists (moved to a new number)
T = TypeVar("T")


def upcoming(config: ClinicConfig, now: datetime) -> ColumnElement[bool]:
    """Active reservations whose slot has not ended: `schedule.is_upcoming` as a query condition."""
    return started_after(*upcoming_after(config, now))


def not_ended(config: ClinicConfig, now: datetime) -> ColumnElement[bool]:
    """Reservations of any status whose slot has not ended (the same bound as `upcoming`)."""
    return starts_after(*upcoming_after(config, now))


def started_after(day: date | ColumnElement[Any], slot: str | ColumnElement[Any]) -> ColumnElement[bool]:
    """Active reservations starting after `slot` on `day` (values or bound parameters)."""
    return and_(Reservation.status == ACTIVE, starts_after(day, slot))


def starts_after(day: date | ColumnElement[Any], slot: str | ColumnElement[Any]) -> ColumnElement[bool]:
    return or_(Reservation.date > day, and_(Reservation.date == day, Reservation.time_slot > slot))


async def lock_calendar(session: AsyncSession, wa_ids: Iterable[str], slots: Iterable[SlotKey]) -> bool:
    """Take the write locks of these customers and slots (see `domain.storage.database`); False when the
    database needs none because its transactions are serialised already."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    customers, places = set(wa_ids), set(slots)
    if len(customers) + len(places) > FINE_LOCKS:
        return await lock_whole_calendar(session)
    keys = sorted(lock_key("customer", w) for w in customers)
    return await lock_for_write(session, keys + sorted(lock_key("slot", d, s) for d, s in places))


STREAMED = 5_000  # rows read at a time


async def load_state(
    session: AsyncSession,
    today: date,
    wa_ids: Iterable[str] = (),
    dates: Iterable[date] = (),
    reservation_ids: Iterable[int] = (),
    slots: Iterable[SlotKey] = (),
) -> CalendarState:
    """Every row of these customers from yesterday on, every row on these dates and in these slots, and
    these ids. A single booking needs its slot only, not the whole day."""
    since = today - timedelta(days=1)
    customers, days, ids = sorted(set(wa_ids)), sorted(set(dates)), sorted(set(reservation_ids))
    conditions: list[ColumnElement[bool]] = [
        and_(Reservation.date == day, Reservation.time_slot == slot) for day, slot in sorted(set(slots))]
    listed = ListParameters(session)
    if customers:
        conditions.append(and_(listed.one_of(Reservation.wa_id, customers), Reservation.date >= since))
    if days:
        conditions.append(listed.one_of(Reservation.date, days))
    if ids:
        conditions.append(listed.one_of(Reservation.id, ids))
    if not conditions:
        return CalendarState()
    columns = (Reservation.id, Reservation.wa_id, Reservation.date, Reservation.time_slot, Reservation.type,
               Reservation.status)
    statement = select(*columns).where(or_(*conditions)).execution_options(yield_per=STREAMED)
    result = await (await session.connection()).stream(statement, listed.values)  # Core rows, not the ORM
    shared: dict[Any, Any] = {}  # one object per distinct date, slot and status, not one per row
    state = CalendarState()
    async for rows in result.partitions():  # streamed: a whole calendar's rows are never held at once
        for row in rows:
            state.add(Booking(row[0], row[1], shared.setdefault(row[2], row[2]), shared.setdefault(row[3], row[3]),
                              row[4], shared.setdefault(row[5], row[5])))
    return state


class ListParameters:
    """`column IN values` for any number of values, each list one parameter (a statement takes at most
    32,767): on PostgreSQL an array (`= ANY`), on SQLite a JSON array read by `json_each`. The lists go
    with the execution (`values`), not into the statement: SQLAlchemy keeps the first statement of each
    shape in its cache, and with it whatever values it was built with."""

    def __init__(self, session: AsyncSession) -> None:
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.values: dict[str, Any] = {}

    def one_of(self, column: QueryableAttribute[Any], values: Sequence[Any]) -> ColumnElement[bool]:
        """Numbers, strings or dates."""
        return column.in_(self.rows(values)) if not self.postgres else (
            column == any_(self.parameter(list(values), ARRAY(column.type))))

    def parameter(self, value: Any, type_: Any = None) -> BindParameter[Any]:
        name = f"listed_{len(self.values)}"
        self.values[name] = value
        return bindparam(name, type_=type_)

    def rows(self, values: Sequence[Any]) -> Select[Any]:
        """SQLite: the values as a one-column subquery."""
        document = json.dumps([v.isoformat() if isinstance(v, date) else v for v in values])
        return select(literal_column("value")).select_from(func.json_each(self.parameter(document)))


def _chunks(items: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


async def load_vacations(session: AsyncSession) -> list[VacationPeriod]:
    rows = await session.scalars(select(Vacation).order_by(Vacation.start_date))
    return [VacationPeriod(r.start_date, r.end_date, r.title, r.start_time, r.end_time) for r in rows]


async def ensure_customers(session: AsyncSession, names: dict[str, str | None]) -> None:
    """Create the customers that do not exist yet; set a name where one is given."""
    names = {wa_id: checked_name(name) for wa_id, name in names.items()}
    existing = {}
    for chunk in _chunks(sorted(names)):
        rows = await session.scalars(select(Customer).where(Customer.wa_id.in_(chunk)))
        existing.update({row.wa_id: row for row in rows})
    now = system_clock()
    new = [{"wa_id": w, "name": n, "is_blocked": False, "is_favorite": False, "created_at": now}
           for w, n in names.items() if w not in existing]
    if new:
        await session.execute(_insert_missing(session), new)
    for wa_id, name in names.items():
        if wa_id not in existing:
            note_change(session, CUSTOMER_NAMED, wa_id, name)
    for wa_id, row in existing.items():
        if names[wa_id] and row.name != names[wa_id]:
            row.name = names[wa_id]
            note_change(session, CUSTOMER_NAMED, wa_id, row.name)


def _insert_missing(session: AsyncSession) -> Any:
    """INSERT of customers that skips a number another transaction created meanwhile (two deliveries of one
    new customer's message, on two instances, at once): the row exists either way."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(Customer).on_conflict_do_nothing(index_elements=[Customer.wa_id])
    return sqlite_insert(Customer).on_conflict_do_nothing(index_elements=[Customer.wa_id])


async def write_changes(session: AsyncSession, changes: Sequence[Change]) -> dict[int, int]:
    """Write planned changes in bulk; returns the real id of each new (negative) id. Existing rows are
    updated in the columns the batch changes only (an index over an untouched column is left alone), by
    one statement per group of rows that end alike (a moved day is one group), or one statement from an
    array of rows when they are many different ones."""
    now = system_clock()
    # A row may change several times in one batch: only its last state is written.
    final = {c.after.id: c.after for c in changes if c.action != "unchanged"}
    created = [b for b in final.values() if b.id < 0]
    ids = await _insert(session, created, now) if created else {}
    first: dict[int, Booking] = {}  # each existing row as it was before the batch
    for change in changes:
        if change.before is not None and change.before.id > 0:
            first.setdefault(change.before.id, change.before)
    updated = [b for i, b in final.items() if i > 0 and i in first]
    written = attrgetter(*_WRITTEN)
    # The columns that change: read from the few distinct (before, after) pairs, not row by row.
    pairs = {(written(first[b.id]), written(b)) for b in updated}
    columns = [name for n, name in enumerate(_WRITTEN) if any(a[n] != b[n] for a, b in pairs)]
    if not columns:
        return ids
    ending = attrgetter(*columns)
    groups: dict[Any, list[int]] = {}
    for booking in updated:
        groups.setdefault(ending(booking), []).append(booking.id)
    listed = ListParameters(session)
    if len(groups) > _FEW_GROUPS:
        await session.execute(_update_from_rows(listed, updated, columns, now), listed.values)
        return ids
    for values, row_ids in groups.items():
        listed = ListParameters(session)
        changed = dict(zip(columns, values if len(columns) > 1 else (values,), strict=True))
        await session.execute(update(Reservation).where(listed.one_of(Reservation.id, row_ids))
                              .values(**changed, **_stamps(changed.get("status"), now, "status" in changed))
                              .execution_options(synchronize_session=False), listed.values)
    return ids


async def write_late_cancels(session: AsyncSession, config: ClinicConfig, changes: Sequence[Change],
                             now: datetime) -> None:
    """Keep `late_cancel` true of the rows these changes cancel inside the late window, false of the other rows they
    cancel and of every row they take out of cancelled (a restore or a reinstatement). Real ids only: written after
    `write_changes`, and a new row is never cancelled."""
    flags: dict[int, bool] = {}  # a row changed twice in one batch keeps its last flag
    for change in changes:
        before, after = change.before, change.after
        if change.action == "unchanged" or after.id < 0:
            continue
        if after.status == CANCELLED and (before is None or before.status != CANCELLED):
            flags[after.id] = is_late_cancel(config, after.date, after.time_slot, now)
        elif before is not None and before.status == CANCELLED and after.status != CANCELLED:
            flags[after.id] = False
    for value in (True, False):
        for chunk in _chunks(sorted(i for i, flag in flags.items() if flag is value)):
            await session.execute(update(Reservation).where(Reservation.id.in_(chunk)).values(late_cancel=value)
                                  .execution_options(synchronize_session=False))


_WRITTEN = ("date", "time_slot", "type", "status")
_FEW_GROUPS = 20


def _stamps(status: Any, now: datetime, status_changes: bool) -> dict[str, Any]:
    """updated_at always; cancelled_at when the status is written (set on cancelling, cleared otherwise)."""
    if not status_changes:
        return {"updated_at": now}
    return {"updated_at": now, "cancelled_at": now if status == CANCELLED else None}


def _update_from_rows(
    listed: ListParameters, bookings: list[Booking], columns: list[str], now: datetime
) -> Update:
    """UPDATE reservations FROM the rows given as one parameter per column (PostgreSQL: arrays through
    unnest) or one JSON array of rows (SQLite: json_each)."""
    values: dict[str, Any]
    key: ColumnElement[Any]
    types = {"date": Date, "time_slot": String, "type": Integer, "status": String}
    if listed.postgres:
        rows = func.unnest(
            listed.parameter([b.id for b in bookings], ARRAY(Integer)),
            *(listed.parameter([getattr(b, name) for b in bookings], ARRAY(types[name])) for name in columns),
        ).table_valued("id", *columns).render_derived()
        key, values = rows.c.id, {name: rows.c[name] for name in columns}
    else:
        days = {day: day.isoformat() for day in {b.date for b in bookings}}
        document = json.dumps([[b.id, *(days[b.date] if name == "date" else getattr(b, name) for name in columns)]
                               for b in bookings])
        value = func.json_each(listed.parameter(document)).table_valued("value").c.value
        key = func.json_extract(value, "$[0]")
        values = {name: func.json_extract(value, f"$[{n}]") for n, name in enumerate(columns, 1)}
    stamps: dict[str, Any] = {"updated_at": now}
    if "status" in values:
        stamps["cancelled_at"] = case((values["status"] == CANCELLED, bindparam(None, now, UTCDateTime())), else_=None)
    return (update(Reservation).where(Reservation.id == key).values(**values, **stamps)
            .execution_options(synchronize_session=False))


async def _insert(session: AsyncSession, bookings: list[Booking], now: datetime) -> dict[int, int]:
    values = [
        {"wa_id": b.wa_id, "date": b.date, "time_slot": b.time_slot, "type": b.type,
         "status": b.status, "cancelled_at": now if b.status == CANCELLED else None,
         "created_at": now, "updated_at": now}
        for b in bookings
    ]
    statement = insert(Reservation).returning(Reservation.id, sort_by_parameter_order=True)
    result = await session.execute(statement, values)
    return {b.id: real for b, real in zip(bookings, result.scalars(), strict=True)}
