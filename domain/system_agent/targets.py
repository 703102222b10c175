"""Finding the reservations a batch acts on: explicit requests, or filters over upcoming bookings."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from operator import attrgetter
from typing import Any

from sqlalchemy import Date, String, bindparam, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.storage.models import Customer, Reservation
from domain.rules.planning import ACTIVE, Booking, CalendarState, ReservationStatus, RuleContext, find_target
from domain.rules.schedule import upcoming_after
from domain.storage.store import STREAMED, started_after
from domain.system_agent.listing import Shape, matching, parameters
from domain.system_agent.paging import ReservationQuery, parse_reservation_query
from domain.system_agent.requests import Filters


# The parsed filters of a batch and the customers they are restricted to (given wa_ids and whom a search chose;
# None: everyone).
Filtered = tuple[ReservationQuery, list[str] | None]


def parsed_filters(config: ClinicConfig, filters: Filters) -> ReservationQuery:
    """A batch's `filters` as the one filter model the listings use too."""
    return parse_reservation_query(
        config, search_query=filters.search_query, wa_ids=filters.wa_ids, dates=filters.dates,
        start_date=filters.start_date, end_date=filters.end_date, reservation_types=filters.reservation_types,
        time_slots=filters.time_slots, hijri=filters.hijri)


_STATUSES = {status.value: status for status in ReservationStatus}


def filter_query(query: ReservationQuery, customers: list[str] | None) -> Any:
    """Upcoming active reservations matching every given filter, with their customer's name: (id, wa_id, date,
    time_slot, type, status, name), in no order (`find_by_filters` puts them in calendar order: asked of the
    database, the order made SQLite walk the table in the index's order, three times as long as reading it).
    Its conditions are the listings' (`listing.matching`); the values are bound by `filter_values`."""
    return _filter_statement(Shape.of(query, customers))


def filter_values(config: ClinicConfig, now: datetime, query: ReservationQuery,
                  customers: list[str] | None) -> dict[str, Any]:
    """The values `filter_query`'s statement is run with."""
    day, slot = upcoming_after(config, now)
    return parameters(query, customers) | {"from_date": day, "from_slot": slot}


@cache
def _filter_statement(shape: Shape) -> Any:
    """Built once per shape of filters, its values bound at execution (building and hashing a statement costs
    more than SQLite takes to run a small one)."""
    # The date and status as stored (SQLite: their text): `find_by_filters` maps each distinct one to its date or
    # enum member once (the columns' types would parse every row's).
    return (select(Reservation.id, Reservation.wa_id, type_coerce(Reservation.date, String).label("date"),
                   Reservation.time_slot, Reservation.type,
                   type_coerce(Reservation.status, String).label("status"), Customer.name)
            .outerjoin(Customer, Customer.wa_id == Reservation.wa_id)
            .where(started_after(bindparam("from_date", type_=Date), bindparam("from_slot", type_=String)),
                   *matching(shape))
            .execution_options(yield_per=STREAMED))


async def find_by_filters(
    session: AsyncSession, ctx: RuleContext, query: ReservationQuery, customers: list[str] | None
) -> tuple[list[Booking], dict[str, str | None]]:
    """The reservations the filters find, in calendar order, and their customers' names."""
    if not query.narrows:
        raise DomainError("invalid_batch", reason="filters must name at least one of wa_ids, dates, "
                          "start_date, end_date, time_slots, reservation_types or search_query.")
    found: list[Booking] = []
    names: dict[str, str | None] = {}
    shared: dict[Any, Any] = {}  # one object per distinct slot, not one per row
    days: dict[Any, date] = {}  # each distinct date as read (text on SQLite, a date on PostgreSQL), parsed once
    statement = filter_query(query, customers)
    # Streamed (`load_state` likewise): the rows of 100,000 reservations fetched at once, then dropped, left the batch's peak memory
    # tens of megabytes higher than the bookings made of them.
    connection = await session.connection()  # Core rows: the ORM adds nothing to a select of columns
    result = await connection.stream(statement, filter_values(ctx.config, ctx.now, query, customers))
    async for rows in result.partitions():
        for row in rows:
            day = days.get(row[2])
            if day is None:
                day = days[row[2]] = row[2] if isinstance(row[2], date) else date.fromisoformat(row[2])
            found.append(Booking(row[0], row[1], day, shared.setdefault(row[3], row[3]), row[4], _STATUSES[row[5]]))
            names[row[1]] = row[6]
    found.sort(key=_CALENDAR_ORDER)
    return found, names


_CALENDAR_ORDER = attrgetter("date", "time_slot", "id")


def locate(ctx: RuleContext, state: CalendarState, wa_id: str | None, reservation_id: int | None,
           on_date: date | None = None) -> Booking:
    """By id, by the customer's active reservation on a date, or the customer's nearest upcoming."""
    if on_date is None or reservation_id is not None:
        return find_target(ctx, state, wa_id, reservation_id)
    found = [b for b in state.of_customer(wa_id or "") if b.date == on_date and b.status == ACTIVE]
    if not found:
        raise DomainError("reservation_not_found")
    return min(found, key=lambda b: (b.time_slot, b.id))
