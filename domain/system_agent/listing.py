"""Reservation listings: counts, keyset pages and section rows, read with prepared statements.

Each combination of filters gets its statements built once, with bound parameters: building a
SQLAlchemy statement and hashing it for the compiled cache costs more than SQLite takes to run it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Unpack

from sqlalchemy import (
    Boolean, ColumnElement, Connection, Date, Integer, Select, String, and_, bindparam, func, literal_column, or_,
    select,
)

from domain.config import ClinicConfig
from domain.storage.models import Customer, Reservation
from domain.rules.attendance import Attendance, PublicStatus, public_status
from domain.rules.planning import ACTIVE, CANCELLED, Booking, ReservationStatus
from domain.rules.schedule import upcoming_after
from domain.storage.store import started_after
from domain.system_agent.paging import HOLDING, KEYSETS, PagePosition, ReservationQuery, reservation_key
from domain.views import ReservationView, View, reservation_view

Pages = dict[str, tuple[list[Any], bool]]
Statement = Select[Unpack[tuple[Any, ...]]]


@dataclass(frozen=True)
class Shape:
    """Which filters a listing has, so which statements it runs; the values are bound at execution. `statuses`:
    the public statuses it selects (None: every one)."""

    statuses: frozenset[str] | None
    customers: bool
    dates: bool
    start: bool
    end: bool
    types: bool
    by_customer_only: bool
    wide: bool = False  # SQLite only: see `_nudged`
    slots: bool = False

    @classmethod
    def of(cls, query: ReservationQuery, customers: list[str] | None, sqlite: bool = False) -> Shape:
        span = (query.end - query.start).days if query.start and query.end else None
        wide = sqlite and customers is None and not query.dates and (span is None or span > WIDE_DAYS)
        return cls(query.statuses, customers is not None, bool(query.dates), query.start is not None,
                   query.end is not None, bool(query.types), query.by_customer_only, wide, bool(query.time_slots))


def parameters(query: ReservationQuery, customers: list[str] | None) -> dict[str, Any]:
    """The values of a listing's bound parameters."""
    return {"customers": customers or [], "dates": list(query.dates or ()), "start": query.start, "end": query.end,
            "types": list(query.types or ()), "slots": list(query.time_slots or ())}


def matching(shape: Shape, by_customer: bool = False) -> list[ColumnElement[bool]]:
    """The conditions selecting the reservations a listing of this shape matches; `by_customer` when the
    statement reads them in customer order (the people page, the totals)."""
    conditions = status_terms(shape.statuses)
    if shape.customers:
        conditions.append(Reservation.wa_id.in_(bindparam("customers", expanding=True)))
    if shape.dates:
        conditions.append(Reservation.date.in_(bindparam("dates", expanding=True)))
    if shape.start:
        conditions.append(_nudged(shape, by_customer, Reservation.date >= bindparam("start")))
    if shape.end:
        conditions.append(_nudged(shape, by_customer, Reservation.date <= bindparam("end")))
    if shape.types:
        conditions.append(Reservation.type.in_(bindparam("types", expanding=True)))
    if shape.slots:
        conditions.append(Reservation.time_slot.in_(bindparam("slots", expanding=True)))
    return conditions


def status_terms(statuses: frozenset[str] | None) -> list[ColumnElement[bool]]:
    """The condition selecting reservations by their public status (`rules.attendance.public_status` as SQL): none
    for every status, the stored status alone for the bookings holding a place (the status indexes serve it)."""
    if statuses is None:
        return []
    if statuses == HOLDING:
        return [Reservation.status == ACTIVE]
    return [or_(*(_PUBLIC_TERMS[PublicStatus(s)] for s in sorted(statuses)))]


_PUBLIC_TERMS: dict[PublicStatus, ColumnElement[bool]] = {
    # An attendance not known is read as booked, as `public_status` reads it.
    PublicStatus.BOOKED: and_(Reservation.status == ACTIVE, Reservation.attendance.not_in(
        (Attendance.CONFIRMED.value, Attendance.ARRIVED.value))),
    PublicStatus.CONFIRMED: and_(Reservation.status == ACTIVE, Reservation.attendance == Attendance.CONFIRMED.value),
    PublicStatus.ARRIVED: and_(Reservation.status == ACTIVE, Reservation.attendance == Attendance.ARRIVED.value),
    PublicStatus.NO_SHOW: Reservation.status == ReservationStatus.NO_SHOW,
    PublicStatus.CANCELLED: and_(Reservation.status == CANCELLED, Reservation.late_cancel.is_(False)),
    PublicStatus.LATE_CANCELLED: and_(Reservation.status == CANCELLED, Reservation.late_cancel.is_(True)),
}


WIDE_DAYS = 92


def _nudged(shape: Shape, by_customer: bool, term: ColumnElement[bool]) -> ColumnElement[bool]:
    """SQLite picks the date index for any date range, then sorts every match to find distinct customers.
    Over a wide window (more than WIDE_DAYS, or open-ended) most reservations match, and walking
    `ix_reservations_status_customer_date` in customer order is faster: the first page's customers
    come after a few hundred entries and the count needs no sort. `likelihood(term, 0.9)` (SQLite's
    planner hint: this term is usually true) lets the planner see that. PostgreSQL plans by its own
    statistics and is never nudged."""
    return func.likelihood(term, literal_column("0.9"), type_=Boolean) if shape.wide and by_customer else term


@cache
def reservation_page(shape: Shape, after: bool) -> Statement:
    """Reservations in (date, time_slot, id) order, `count` of them, after a key when `after`."""
    statement = (
        select(Reservation.id, Reservation.wa_id, Reservation.date, Reservation.time_slot, Reservation.type,
               Reservation.status, Customer.name, Reservation.attendance, Reservation.late_cancel)
        .outerjoin(Customer, Customer.wa_id == Reservation.wa_id).where(*matching(shape))
        .order_by(Reservation.date, Reservation.time_slot, Reservation.id).limit(bindparam("count"))
    )
    if not after:
        return statement
    day, slot = bindparam("after_date", type_=Date), bindparam("after_slot", type_=String)
    row_id = bindparam("after_id", type_=Integer)
    same_day = and_(Reservation.date == day, or_(Reservation.time_slot > slot,
                                                 and_(Reservation.time_slot == slot, Reservation.id > row_id)))
    return statement.where(or_(Reservation.date > day, same_day))


def _people(shape: Shape) -> Statement:
    """The wa_ids a listing is about: the customers asked for, or those holding a matching reservation."""
    if shape.by_customer_only:
        return select(Customer.wa_id).where(Customer.wa_id.in_(bindparam("customers", expanding=True)))
    return select(Reservation.wa_id).where(*matching(shape, by_customer=True)).distinct()


@cache
def people_page(shape: Shape, after: bool) -> Statement:
    """`count` wa_ids in order, after a wa_id when `after`."""
    column = Customer.wa_id if shape.by_customer_only else Reservation.wa_id
    statement = _people(shape).order_by(column).limit(bindparam("count"))
    return statement.where(column > bindparam("after_wa_id")) if after else statement


@cache
def totals(shape: Shape) -> Statement:
    """Every matching reservation and person, counted in one statement (one pass over the matches, grouped
    by customer, unless the people are the customers asked for)."""
    if shape.by_customer_only:
        reservations = select(func.count()).select_from(Reservation).where(*matching(shape)).scalar_subquery()
        people = select(func.count()).select_from(_people(shape).subquery()).scalar_subquery()
        return select(reservations, people)
    per_customer = (select(func.count().label("n")).select_from(Reservation).where(*matching(shape, by_customer=True))
                    .group_by(Reservation.wa_id).subquery())
    return select(func.coalesce(func.sum(per_customer.c.n), 0), func.count()).select_from(per_customer)


@cache
def customer_page(shape: Shape, after: bool) -> Statement:
    """The people page (`people_page`: `count` of them, after `after_wa_id` when `after`) as customers, in wa_id
    order, each with how many matching reservations they have, their no-shows and late cancellations (all of
    theirs, whatever the filters) and their nearest upcoming reservation (`next_*`, None when they have none): the
    page and its rows in one statement, a round trip each less on PostgreSQL."""
    page = people_page(shape, after).cte("page")
    in_page = select(page.c.wa_id)
    matching_count = (select(func.count()).select_from(Reservation)
                      .where(*matching(shape), Reservation.wa_id == Customer.wa_id).scalar_subquery())
    nearest = (select(Reservation.id, Reservation.wa_id, Reservation.date, Reservation.time_slot, Reservation.type,
                      Reservation.status, func.row_number().over(
                          partition_by=Reservation.wa_id,
                          order_by=(Reservation.date, Reservation.time_slot, Reservation.id)).label("rank"))
               .where(Reservation.wa_id.in_(in_page), started_after(bindparam("from_date"), bindparam("from_slot")))
               .subquery())
    return (select(Customer.wa_id, Customer.name, Customer.is_favorite, Customer.is_blocked,
                   matching_count.label("matching"), _held([_PUBLIC_TERMS[PublicStatus.NO_SHOW]]).label("no_shows"),
                   _held([_PUBLIC_TERMS[PublicStatus.LATE_CANCELLED]]).label("late_cancels"),
                   nearest.c.id.label("next_id"), nearest.c.date.label("next_date"),
                   nearest.c.time_slot.label("next_slot"), nearest.c.type.label("next_type"),
                   nearest.c.status.label("next_status"))
            .outerjoin(nearest, and_(nearest.c.wa_id == Customer.wa_id, nearest.c.rank == 1))
            .where(Customer.wa_id.in_(in_page)).order_by(Customer.wa_id))


def _held(conditions: list[ColumnElement[bool]]) -> Any:
    """How many reservations of the customer of the row meet `conditions` (a correlated count)."""
    return (select(func.count()).select_from(Reservation)
            .where(Reservation.wa_id == Customer.wa_id, *conditions).scalar_subquery())


@cache
def counted_names(statuses: frozenset[str] | None) -> Statement:
    """The customers of `wa_ids` with their names and how many reservations each holds (of these public
    `statuses`; None: all): a customer-only listing's fuzzy matches named and its totals counted in one statement."""
    return (select(Customer.wa_id, Customer.name, _held(status_terms(statuses)).label("held"))
            .where(Customer.wa_id.in_(bindparam("wa_ids", expanding=True))))


class CustomerRow(View):
    """A customer of a listing: their flags, how many reservations match, how often they did not come and cancelled
    late (ever), and their nearest upcoming reservation."""

    wa_id: str
    name: str | None
    is_favorite: bool
    is_blocked: bool
    reservation_count: int
    no_shows: int = 0
    late_cancels: int = 0
    next_reservation: ReservationView | None


class ListedReservation(ReservationView):
    """A reservation of a listing: also its status as a person reads it (`rules.attendance.PublicStatus`: booked,
    confirmed, arrived, no_show, cancelled, late_cancelled)."""

    attendance: str


@dataclass(frozen=True)
class Listed:
    """One page of a listing: the totals, each keyset's rows (and whether more follow), the sections
    (`ReservationView`s, wa_ids, `CustomerRow`s)."""

    totals: dict[str, int]
    pages: Pages
    sections: dict[str, list[Any]]

    @property
    def more(self) -> bool:
        """Whether any section has rows after this page."""
        return any(more for _, more in self.pages.values())

    def first(self, count: int) -> Listed:
        """The same page cut to its first `count` rows per section; what is cut off comes next."""
        pages = {k: (rows[:count], more or len(rows) > count) for k, (rows, more) in self.pages.items()}
        people = set(pages["people"][0]) if "people" in pages else set()
        sections = {s: [c for c in rows if c.wa_id in people] if s == "customers" else rows[:count]
                    for s, rows in self.sections.items()}
        return Listed(self.totals, pages, sections)


class ReservationListing:
    """One `ReservationQuery` over the reservations of `customers` (None: everyone), read on one connection."""

    def __init__(self, connection: Connection, config: ClinicConfig, now: datetime, query: ReservationQuery,
                 customers: list[str] | None) -> None:
        self.connection, self.config, self.now, self.query = connection, config, now, query
        self.shape = Shape.of(query, customers, sqlite=connection.dialect.name == "sqlite")
        self.values = parameters(query, customers)

    def read(self, position: PagePosition, size: int, counted: dict[str, int] | None = None) -> Listed:
        """Up to `size` rows per section after `position`, and the totals (counted by the first page, or
        `counted` by the caller's read, and carried by the cursor after it). With the customers section, the
        people page is read as its customers."""
        include = self.query.include
        pages: Pages = {}
        customers: list[CustomerRow] = []
        for keyset in dict.fromkeys(KEYSETS[s] for s in include):
            if keyset == "people" and "customers" in include:
                pages[keyset], customers = self.customer_page(position, size)
            else:
                pages[keyset] = self.page(keyset, position, size)
        sections = {s: customers if s == "customers" else self.section(s, pages[KEYSETS[s]][0]) for s in include}
        if position.counted:
            counted = position.totals
        return Listed(self.totals() if counted is None else counted, pages, sections)

    def totals(self) -> dict[str, int]:
        """Every match, counted by the database whatever the page."""
        reservations, people = self.connection.execute(totals(self.shape), self.values).one()
        return {"total_reservations": int(reservations), "total_wa_ids": int(people), "total_customers": int(people)}

    def page(self, keyset: str, position: PagePosition, size: int) -> tuple[list[Any], bool]:
        """Up to `size` rows after the position, and whether more follow."""
        if keyset in position.done:
            return [], False
        after = position.after.get(keyset)
        values = {**self.values, "count": size + 1}
        if keyset == "reservations":
            if after is not None:
                values |= dict(zip(("after_date", "after_slot", "after_id"), reservation_key(after), strict=True))
            rows = list(self.connection.execute(reservation_page(self.shape, after is not None), values))
        else:
            rows = list(self.connection.scalars(people_page(self.shape, after is not None),
                                             values | {"after_wa_id": after}))
        return rows[:size], len(rows) > size

    def section(self, section: str, rows: list[Any]) -> list[Any]:
        """The rows of a page as the caller sees them (reservations, wa_ids)."""
        if section == "reservations":
            return [_listed(reservation_view(self.config, _booking(row), row.name), row) for row in rows]
        return list(rows)

    def customer_page(self, position: PagePosition, size: int) -> tuple[tuple[list[Any], bool], list[CustomerRow]]:
        """The people page (its wa_ids, and whether more follow) and its customers with their flags, matching
        reservation count and nearest upcoming reservation."""
        if "people" in position.done:
            return ([], False), []
        after = position.after.get("people")
        day, slot = upcoming_after(self.config, self.now)
        rows = list(self.connection.execute(customer_page(self.shape, after is not None), self.values | {
            "count": size + 1, "after_wa_id": after, "from_date": day, "from_slot": slot}))
        customers = [CustomerRow(wa_id=c.wa_id, name=c.name, is_favorite=c.is_favorite, is_blocked=c.is_blocked,
                                 reservation_count=int(c.matching), no_shows=int(c.no_shows or 0),
                                 late_cancels=int(c.late_cancels or 0), next_reservation=self._nearest(c))
                     for c in rows[:size]]
        return ([c.wa_id for c in customers], len(rows) > size), customers

    def _nearest(self, row: Any) -> ReservationView | None:
        if row.next_id is None:
            return None
        return reservation_view(self.config, Booking(row.next_id, row.wa_id, row.next_date, row.next_slot,
                                                     row.next_type, row.next_status))


def page_summary(query: ReservationQuery, listed: Listed, position: PagePosition) -> dict[str, Any]:
    """Per section: rows returned, whether more exist, and how many earlier pages returned."""
    more = any(truncated for _, truncated in listed.pages.values())
    summary = {"returned": {s: len(listed.sections[s]) for s in query.include},
               "truncated": {s: listed.pages[KEYSETS[s]][1] for s in query.include},
               "offset": {s: position.seen.get(KEYSETS[s], 0) for s in query.include}, "has_more": more}
    if more:
        summary["how_to_continue"] = "Call again with the same filters and cursor=next_cursor for the next page."
    return summary


def _booking(row: Any) -> Booking:
    return Booking(row.id, row.wa_id, row.date, row.time_slot, row.type, row.status)


def _listed(view: ReservationView, row: Any) -> ListedReservation:
    """The view with the row's public status; its fields were validated building `view`, so they are not again."""
    shown = public_status(str(row.status), row.attendance, bool(row.late_cancel)).value
    return ListedReservation.model_construct(**dict(view), attendance=shown)
