"""The system agent's read side: filtered reservation listings in pages, wa_ids, chat statistics, snapshots.

Totals are SQL counts and listings use keyset paging, so a year of reservations is never loaded to be
counted. Every date is a clinic date and every timestamp is shown in the clinic's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, distinct, func, select

from domain.rules.capacity import check_type
from domain.clock import Clock
from domain.config import ClinicConfig
from domain.storage.database import Database
from domain.storage.models import Reservation
from domain.search.index import SearchHit
from domain.search.service import NameMatch, PhoneSearchService, name_hits, named
from domain.system_agent.listing import (
    CustomerRow, Listed, ListedReservation, ReservationListing, Shape, counted_names, matching, page_summary,
    parameters,
)
from domain.system_agent.paging import (
    DEFAULT_FUZZY_LIMIT,
    DEFAULT_MAX_RESULTS,
    MAX_FUZZY_LIMIT,
    MAX_RESULTS,
    PagePosition,
    ReservationQuery,
    clamp,
    customer_scope,
    parse_reservation_query,
)
from domain.system_agent.reservation_history import ReservationHistory, reservation_history
from domain.system_agent.snapshots import MAX_SNAPSHOT_DAYS, CalendarSnapshot, CalendarSnapshots
from domain.system_agent.statistics import CalendarStatistics, date_range
from domain.views import View


class ReservationPageView(View):
    """A page as callers see it: the summary (totals, what was returned, the query: a JSON record), the
    sections asked for, and `next_cursor`. Dump it with `exclude_unset=True`: sections not asked for are absent."""

    summary: dict[str, Any]
    reservations: list[ListedReservation] | None = None
    wa_ids: list[str] | None = None
    customers: list[CustomerRow] | None = None
    next_cursor: str | None = None


class WaIdsByDate(View):
    """The distinct customers booked from start to end (inclusive), and how many per date."""

    start_date: str
    end_date: str
    timezone: str
    wa_ids: list[str]
    count: int
    by_date: dict[str, int]


@dataclass(frozen=True)
class ReservationPage:
    """One page of `get_reservations`: `view()` is what callers see; `first(n)` is a shorter page
    of the same read, with its own cursor, for callers that keep answers small."""

    query: ReservationQuery
    position: PagePosition
    listed: Listed
    size: int
    context: dict[str, Any]

    def first(self, count: int) -> ReservationPage:
        return replace(self, listed=self.listed.first(count), size=min(count, self.size))

    def view(self) -> ReservationPageView:
        """The summary (totals, what was returned, the query), the sections, and `next_cursor`."""
        summary = {**self.listed.totals, **page_summary(self.query, self.listed, self.position),
                   "max_results": self.size, **self.context}
        following = self.position.following(self.listed.pages, self.listed.totals)
        next_cursor = following.encode(self.query.fingerprint()) if following else None
        shown = {"summary": summary, **self.listed.sections, "next_cursor": next_cursor}
        return ReservationPageView.model_validate(shown)


def counted_matches(connection: Connection, query: ReservationQuery,
                    found: list[SearchHit]) -> tuple[list[NameMatch], list[str], dict[str, int]]:
    """A customer-only search's matches named, the customers it lists, and its totals, in one statement: such a
    listing's reservations are its customers' (of the statuses it selects), its people the customers."""
    rows = connection.execute(counted_names(query.statuses), {"wa_ids": [h.wa_id for h in found]}).all()
    hits = name_hits(found, {row.wa_id: row.name for row in rows})
    customers = customer_scope(query, hits) or []
    listed = set(customers)
    held = [int(row.held) for row in rows if row.wa_id in listed]
    return hits, customers, {"total_reservations": sum(held), "total_wa_ids": len(held), "total_customers": len(held)}


class SystemAgentQueryService:
    """Read-only queries over the whole calendar for the privileged system agent."""

    def __init__(self, db: Database, config: ClinicConfig, clock: Clock, search: PhoneSearchService) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.search = search
        self.statistics = CalendarStatistics(db, config, clock)
        self.snapshots = CalendarSnapshots(db, config, clock)

    async def reservation_page(
        self, *, search_query: str | None = None, wa_ids: list[str] | str | None = None,
        dates: list[str] | str | None = None, start_date: str | None = None, end_date: str | None = None,
        include_cancelled: bool = False, reservation_types: list[int] | None = None, include: list[str] | None = None,
        limit: int = DEFAULT_FUZZY_LIMIT, max_results: int = DEFAULT_MAX_RESULTS, cursor: str | None = None,
        hijri: bool = False, attendance: list[str] | None = None,
    ) -> ReservationPage:
        """Reservations, wa_ids and customers matching every filter given, `max_results` per section. Without
        `attendance` (public statuses), the bookings holding a place are listed, every one with `include_cancelled`.

        The summary always holds the totals; while `next_cursor` is not None, pass it back for the next page.
        """
        query = parse_reservation_query(
            self.config, search_query=search_query, wa_ids=wa_ids, dates=dates, start_date=start_date,
            end_date=end_date, include_cancelled=include_cancelled, reservation_types=reservation_types,
            include=include, limit=limit, hijri=hijri, attendance=attendance)
        position = PagePosition.decode(cursor, query.fingerprint()) if cursor else PagePosition()
        found = await self.search.hits(query.search_query, limit=query.fuzzy_limit) if query.search_query else []
        size = clamp(max_results, 1, MAX_RESULTS)
        now = self.clock()

        def read(connection: Connection) -> tuple[list[NameMatch], Listed]:  # the matches named in the same read
            if query.search_query is None or not query.by_customer_only or position.counted:
                hits = named(connection, found)
                customers, counted = customer_scope(query, hits), None
            else:  # the first page of a customer-only search: the totals come with the matches' names
                hits, customers, counted = counted_matches(connection, query, found)
            listing = ReservationListing(connection, self.config, now, query, customers)
            return hits, listing.read(position, size, counted)
        hits, listed = await self.db.read(read)
        clamped = {"max_results": (max_results, size), "limit": (limit, query.fuzzy_limit)}
        return ReservationPage(query, position, listed, size, self._query_context(query, hits, clamped))

    def _query_context(
        self, query: ReservationQuery, hits: list[NameMatch], clamped: dict[str, tuple[int, int]]
    ) -> dict[str, Any]:
        """What the summary says about the query itself: the filters given, zone, clamped limits, fuzzy
        matches, and whom the customer sections list. Empty parts are left out."""
        notes = [f"{name} {asked} is out of range; {used} was used." for name, (asked, used) in clamped.items()
                 if asked != used]
        if len(hits) >= query.fuzzy_limit:
            notes.append(f"search_query reached its limit of {query.fuzzy_limit} customers; more may match "
                         f"(raise limit up to {MAX_FUZZY_LIMIT} or refine the query).")
        context: dict[str, Any] = {"filters": query.given(), "timezone": self.config.timezone}
        if query.search_query is not None:
            context["fuzzy_matches"] = [h.model_dump(include={"wa_id", "name", "similarity", "matched"}) for h in hits]
        if {"wa_ids", "customers"} & set(query.include):
            context["customers_scope"] = ("customers matching search_query/wa_ids" if query.by_customer_only
                                          else "customers with a matching reservation")
        return context | ({"notes": notes} if notes else {})

    async def wa_ids_by_date_range(
        self, start_date: str, end_date: str, *, include_cancelled: bool = False,
        reservation_types: list[int] | None = None,
    ) -> WaIdsByDate:
        """The distinct wa_ids holding a reservation from start to end (inclusive), and how many per date."""
        first, last = date_range(start_date, end_date)
        types = tuple(sorted({check_type(self.config, t) for t in reservation_types or ()})) or None
        query = ReservationQuery(start=first, end=last, include_cancelled=include_cancelled, types=types)
        conditions, values = matching(Shape.of(query, None)), parameters(query, None)
        customers = select(Reservation.wa_id).where(*conditions).distinct().order_by(Reservation.wa_id)
        per_date = (select(Reservation.date, func.count(distinct(Reservation.wa_id))).where(*conditions)
                    .group_by(Reservation.date))

        def read(connection: Connection) -> tuple[list[str], dict[str, int]]:
            by_date = sorted(connection.execute(per_date, values))
            return list(connection.scalars(customers, values)), {day.isoformat(): int(n) for day, n in by_date}
        wa_ids, by_date = await self.db.read(read)
        return WaIdsByDate(start_date=first.isoformat(), end_date=last.isoformat(), timezone=self.config.timezone,
                           wa_ids=wa_ids, count=len(wa_ids), by_date=by_date)

    async def conversation_analysis(self, start_date: str, end_date: str) -> dict[str, Any]:
        """Message statistics of the customers' chats over clinic days start to end (inclusive)."""
        return await self.statistics.conversation_analysis(start_date, end_date)

    async def reservation_snapshot(self, start_date: str, end_date: str | None = None) -> CalendarSnapshot:
        """Each day from start to end (at most 92): its status and, per slot, who is booked and the room left."""
        first, last = date_range(start_date, end_date or start_date, MAX_SNAPSHOT_DAYS)
        return await self.snapshots.snapshot(first, last)

    async def reservation_history(self, reservation_id: int) -> ReservationHistory:
        """When a reservation was made and by whom, and every change since, each with when and who signed it."""
        return await reservation_history(self.db, self.config, reservation_id)
