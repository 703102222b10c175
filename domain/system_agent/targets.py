"""Finding the reservations a batch acts on: explicit requests, or filters over upcoming bookings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.rules.capacity import check_type
from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.rules.identities import normalize_wa_id
from domain.storage.models import Customer, Reservation
from domain.rules.planning import ACTIVE, Booking, CalendarState, RuleContext, find_target
from domain.rules.schedule import parse_date, parse_time
from domain.storage.store import upcoming
from domain.system_agent.requests import Filters


def listed(value: list[str] | str | list[int] | int | None) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def has_filter(filters: Filters) -> bool:
    return any([filters.wa_ids, filters.dates, filters.start_date, filters.end_date, filters.time_slots,
                filters.reservation_types is not None, filters.search_query])


def filter_query(
    config: ClinicConfig, now: datetime, filters: Filters, matched: list[str] | None
) -> Select[int, str, date, str, int, str, str | None]:
    """Upcoming active reservations matching every given filter, in calendar order, with their customer's
    name: (id, wa_id, date, time_slot, type, status, name)."""
    query = (select(Reservation.id, Reservation.wa_id, Reservation.date, Reservation.time_slot, Reservation.type,
                    Reservation.status, Customer.name)
             .outerjoin(Customer, Customer.wa_id == Reservation.wa_id)
             .where(upcoming(config, now)))
    wa_ids = [normalize_wa_id(w) for w in listed(filters.wa_ids)]
    if matched is not None:
        wa_ids = [w for w in matched if not wa_ids or w in wa_ids]
        query = query.where(Reservation.wa_id.in_(wa_ids))
    elif wa_ids:
        query = query.where(Reservation.wa_id.in_(wa_ids))
    if dates := [parse_date(d, filters.hijri) for d in listed(filters.dates)]:
        query = query.where(Reservation.date.in_(dates))
    if filters.start_date:
        query = query.where(Reservation.date >= parse_date(filters.start_date, filters.hijri))
    if filters.end_date:
        query = query.where(Reservation.date <= parse_date(filters.end_date, filters.hijri))
    if slots := [parse_time(t) for t in listed(filters.time_slots)]:
        query = query.where(Reservation.time_slot.in_(slots))
    if types := [check_type(config, t) for t in listed(filters.reservation_types)]:
        query = query.where(Reservation.type.in_(types))
    return query.order_by(Reservation.date, Reservation.time_slot, Reservation.id)


async def find_by_filters(
    session: AsyncSession, ctx: RuleContext, filters: Filters, matched: list[str] | None
) -> tuple[list[Booking], dict[str, str | None]]:
    """The reservations the filters find, in calendar order, and their customers' names."""
    if not has_filter(filters):
        raise DomainError("invalid_batch", reason="filters must name at least one of wa_ids, dates, "
                          "start_date, end_date, time_slots, reservation_types or search_query.")
    found: list[Booking] = []
    names: dict[str, str | None] = {}
    shared: dict[Any, Any] = {}  # one object per distinct date, slot and status, not one per row
    for row in await session.execute(filter_query(ctx.config, ctx.now, filters, matched)):
        found.append(Booking(row[0], row[1], shared.setdefault(row[2], row[2]), shared.setdefault(row[3], row[3]),
                             row[4], shared.setdefault(row[5], row[5])))
        names[row[1]] = row[6]
    return found, names


def locate(ctx: RuleContext, state: CalendarState, wa_id: str | None, reservation_id: int | None,
           on_date: date | None = None) -> Booking:
    """By id, by the customer's active reservation on a date, or the customer's nearest upcoming."""
    if on_date is None or reservation_id is not None:
        return find_target(ctx, state, wa_id, reservation_id)
    found = [b for b in state.of_customer(wa_id or "") if b.date == on_date and b.status == ACTIVE]
    if not found:
        raise DomainError("reservation_not_found")
    return min(found, key=lambda b: (b.time_slot, b.id))
