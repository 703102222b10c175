"""The system agent's read side: filtered reservation listings in pages, wa_ids, chat statistics, snapshots.

Totals are SQL counts and listings use keyset paging, so a year of reservations is never loaded to be
counted. Every date is a clinic date and every timestamp is shown in the clinic's zone.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.capacity import check_type
from domain.clock import Clock
from domain.config import ClinicConfig
from domain.database import Database
from domain.errors import DomainError
from domain.identities import normalize_wa_id
from domain.models import Customer, Reservation
from domain.phone_search import PhoneSearchService
from domain.planning import ACTIVE, Booking
from domain.schedule import (
    parse_date,
)
from domain.system_agent.statistics import CalendarStatistics, date_range, upcoming_condition
from domain.views import reservation_view

SECTIONS = ("reservations", "wa_ids", "customers")
# wa_ids and customers list the same people in wa_id order, so they page together.
KEYSETS = {"reservations": "reservations", "wa_ids": "people", "customers": "people"}
DEFAULT_MAX_RESULTS, MAX_RESULTS = 200, 500
DEFAULT_FUZZY_LIMIT, MAX_FUZZY_LIMIT = 50, 200
CURSOR_VERSION = 1


@dataclass(frozen=True)
class ReservationQuery:
    """The parsed filters of `get_reservations`; every filter given narrows the result."""

    search_query: str | None = None
    fuzzy_limit: int = DEFAULT_FUZZY_LIMIT
    wa_ids: tuple[str, ...] | None = None
    dates: tuple[date, ...] | None = None
    start: date | None = None
    end: date | None = None
    include_cancelled: bool = False
    types: tuple[int, ...] | None = None
    include: tuple[str, ...] = SECTIONS

    @property
    def by_customer_only(self) -> bool:
        """A customer filter without date or type filters lists customers even with no reservation."""
        by_customer = self.search_query is not None or self.wa_ids is not None
        return by_customer and not (self.dates or self.start or self.end or self.types)

    def view(self) -> dict[str, Any]:
        return {
            "search_query": self.search_query, "fuzzy_limit": self.fuzzy_limit,
            "wa_ids": list(self.wa_ids) if self.wa_ids else None,
            "dates": [d.isoformat() for d in self.dates] if self.dates else None,
            "start_date": _iso(self.start), "end_date": _iso(self.end),
            "include_cancelled": self.include_cancelled,
            "reservation_types": list(self.types) if self.types else None, "include": list(self.include),
        }

    def fingerprint(self) -> str:
        """A short hash of the filters: a cursor is only valid for the query that produced it."""
        return hashlib.sha256(json.dumps(self.view(), sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class PagePosition:
    """Where the previous pages stopped, per keyset; `next_cursor` is this, encoded."""

    after: dict[str, Any] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)

    def encode(self, fingerprint: str) -> str:
        data = {"v": CURSOR_VERSION, "f": fingerprint, "after": self.after, "seen": self.seen,
                "done": sorted(self.done)}
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()

    def following(self, pages: dict[str, tuple[list[Any], bool]]) -> PagePosition | None:
        """The position after these pages (keyset -> rows, more follow), or None when nothing is left."""
        if not any(more for _, more in pages.values()):
            return None
        position = PagePosition(dict(self.after), dict(self.seen), set(self.done))
        for keyset, (rows, more) in pages.items():
            position.seen[keyset] = self.seen.get(keyset, 0) + len(rows)
            if more:
                position.after[keyset] = _last_key(keyset, rows[-1])
            else:
                position.done.add(keyset)
        return position

    @classmethod
    def decode(cls, cursor: str, fingerprint: str) -> PagePosition:
        """The position in `cursor`; refused when unreadable or made for other filters."""
        try:
            data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            if data["v"] != CURSOR_VERSION:
                raise ValueError("cursor version")
            position = cls(dict(data["after"]), {k: int(v) for k, v in data["seen"].items()}, set(data["done"]))
            _after_slot(position.after.get("reservations"))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise _cursor_error("unreadable") from None
        if data.get("f") != fingerprint:
            raise _cursor_error("filters_changed")
        return position


def _cursor_error(reason: str) -> DomainError:
    why = "it was made for other filters" if reason == "filters_changed" else "it is not a cursor this tool returned"
    return DomainError("invalid_request", field="cursor", problem=reason, reason=(
        f"the cursor cannot be used: {why}. Pass next_cursor back with exactly the same filters, or no cursor."))


def parse_reservation_query(
    config: ClinicConfig, *, search_query: str | None, wa_ids: list[str] | str | None, dates: list[str] | str | None,
    start_date: str | None, end_date: str | None, include_cancelled: bool, reservation_types: list[int] | None,
    include: list[str] | str | None, limit: int, hijri: bool,
) -> ReservationQuery:
    """Validate and normalise the filters; raises `invalid_wa_id`, `invalid_date`, `invalid_range`, `invalid_type`."""
    start = parse_date(start_date, hijri) if start_date else None
    end = parse_date(end_date, hijri) if end_date else None
    if start and end and end < start:
        raise DomainError("invalid_range", start=start.isoformat(), end=end.isoformat())
    return ReservationQuery(
        search_query=(search_query or "").strip() or None,
        fuzzy_limit=_clamp(limit, 1, MAX_FUZZY_LIMIT),
        wa_ids=tuple(dict.fromkeys(normalize_wa_id(w) for w in _as_list(wa_ids))) or None,
        dates=tuple(sorted({parse_date(d, hijri) for d in _as_list(dates)})) or None,
        start=start, end=end, include_cancelled=include_cancelled,
        types=tuple(sorted({check_type(config, t) for t in reservation_types or ()})) or None,
        include=_sections(include),
    )


def _sections(include: list[str] | str | None) -> tuple[str, ...]:
    wanted = {s.strip().lower() for s in _as_list(include)}
    unknown = sorted(wanted - set(SECTIONS))
    if unknown:
        raise DomainError("invalid_request", field="include", value=unknown,
                          reason=f"include takes {', '.join(SECTIONS)} (none means all); got {', '.join(unknown)}.")
    return tuple(s for s in SECTIONS if s in wanted) or SECTIONS


def _as_list(value: Iterable[Any] | str | None) -> list[Any]:
    """One value or many; a string may hold several, separated by commas."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    return [v for v in value if v is not None and str(v).strip()]


def _clamp(value: int, lowest: int, highest: int) -> int:
    return max(lowest, min(int(value), highest))


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def customer_scope(query: ReservationQuery, hits: Sequence[dict[str, Any]]) -> list[str] | None:
    """The wa_ids the query is restricted to (fuzzy matches and given wa_ids), or None for everyone."""
    if query.search_query is None:
        return list(query.wa_ids) if query.wa_ids else None
    matched = [str(h["wa_id"]) for h in hits]
    given = set(query.wa_ids or ())
    return [w for w in matched if w in given] if given else matched


def reservation_conditions(query: ReservationQuery, customers: Sequence[str] | None) -> list[ColumnElement[bool]]:
    """SQL conditions selecting the reservations `query` matches among `customers` (None: all)."""
    conditions = [] if query.include_cancelled else [Reservation.status == ACTIVE]
    if customers is not None:
        conditions.append(Reservation.wa_id.in_(customers))
    if query.dates:
        conditions.append(Reservation.date.in_(query.dates))
    if query.start:
        conditions.append(Reservation.date >= query.start)
    if query.end:
        conditions.append(Reservation.date <= query.end)
    if query.types:
        conditions.append(Reservation.type.in_(query.types))
    return conditions


def _after_slot(after: Any) -> ColumnElement[bool] | None:
    """Keyset condition: reservations ordered after (date, time_slot, id)."""
    if after is None:
        return None
    day, slot, row_id = date.fromisoformat(after[0]), str(after[1]), int(after[2])
    same_day = and_(Reservation.date == day, or_(Reservation.time_slot > slot,
                                                 and_(Reservation.time_slot == slot, Reservation.id > row_id)))
    return or_(Reservation.date > day, same_day)


def _last_key(keyset: str, row: Any) -> Any:
    return [row.date.isoformat(), row.time_slot, row.id] if keyset == "reservations" else row


class ReservationListing:
    """Counts, keyset pages and section rows of one `ReservationQuery` inside one session."""

    def __init__(self, session: AsyncSession, config: ClinicConfig, now: datetime, query: ReservationQuery,
                 customers: list[str] | None) -> None:
        self.session, self.config, self.now = session, config, now
        self.conditions = reservation_conditions(query, customers)
        if query.by_customer_only:
            self.people: Select[str] = select(Customer.wa_id).where(Customer.wa_id.in_(customers or []))
        else:
            self.people = select(Reservation.wa_id).where(*self.conditions).distinct()

    async def totals(self) -> dict[str, int]:
        """Every match, counted by the database whatever the page."""
        reservations = select(func.count()).select_from(Reservation).where(*self.conditions)
        people = int(await self.session.scalar(select(func.count()).select_from(self.people.subquery())) or 0)
        return {"total_reservations": int(await self.session.scalar(reservations) or 0),
                "total_wa_ids": people, "total_customers": people}

    async def page(self, keyset: str, position: PagePosition, size: int) -> tuple[list[Any], bool]:
        """Up to `size` rows after the position, and whether more follow."""
        if keyset in position.done:
            return [], False
        fetch = self._reservation_rows if keyset == "reservations" else self._people_rows
        rows = await fetch(position.after.get(keyset), size + 1)
        return rows[:size], len(rows) > size

    async def section(self, section: str, rows: list[Any]) -> list[Any]:
        """The rows of a page as the caller sees them."""
        if section == "reservations":
            return [reservation_view(self.config, _booking(row), row.name) for row in rows]
        return list(rows) if section == "wa_ids" else await self._customers(rows)

    async def _reservation_rows(self, after: Any, count: int) -> list[Any]:
        statement = (
            select(Reservation.id, Reservation.wa_id, Reservation.date, Reservation.time_slot, Reservation.type,
                   Reservation.status, Customer.name)
            .outerjoin(Customer, Customer.wa_id == Reservation.wa_id).where(*self.conditions)
            .order_by(Reservation.date, Reservation.time_slot, Reservation.id).limit(count)
        )
        keyset = _after_slot(after)
        return list((await self.session.execute(statement if keyset is None else statement.where(keyset))).all())

    async def _people_rows(self, after: Any, count: int) -> list[Any]:
        people = self.people.subquery()
        statement = select(people.c.wa_id).order_by(people.c.wa_id).limit(count)
        if after is not None:
            statement = statement.where(people.c.wa_id > str(after))
        return list(await self.session.scalars(statement))

    async def _customers(self, wa_ids: list[str]) -> list[dict[str, Any]]:
        """Each customer's flags, matching reservation count and nearest upcoming reservation."""
        rows = await self.session.scalars(select(Customer).where(Customer.wa_id.in_(wa_ids)))
        customers = {c.wa_id: c for c in rows}
        counts = select(Reservation.wa_id, func.count()).where(*self.conditions, Reservation.wa_id.in_(wa_ids))
        matching = dict((await self.session.execute(counts.group_by(Reservation.wa_id))).all())
        upcoming = await self._next_reservations(wa_ids)
        return [{"wa_id": w, "name": c.name, "is_favorite": c.is_favorite, "is_blocked": c.is_blocked,
                 "reservation_count": int(matching.get(w, 0)), "next_reservation": upcoming.get(w)}
                for w in wa_ids if (c := customers.get(w)) is not None]

    async def _next_reservations(self, wa_ids: list[str]) -> dict[str, dict[str, Any]]:
        upcoming = upcoming_condition(self.config, self.now)
        statement = (select(Reservation).where(Reservation.wa_id.in_(wa_ids), upcoming)
                     .order_by(Reservation.date, Reservation.time_slot, Reservation.id))
        nearest: dict[str, dict[str, Any]] = {}
        for row in await self.session.scalars(statement):
            nearest.setdefault(row.wa_id, reservation_view(self.config, _booking(row)))
        return nearest


def page_summary(
    query: ReservationQuery, sections: dict[str, list[Any]], pages: dict[str, tuple[list[Any], bool]],
    position: PagePosition,
) -> dict[str, Any]:
    """Per section: rows returned, whether more exist, and how many earlier pages returned."""
    more = any(truncated for _, truncated in pages.values())
    summary = {"returned": {s: len(sections[s]) for s in query.include},
               "truncated": {s: pages[KEYSETS[s]][1] for s in query.include},
               "offset": {s: position.seen.get(KEYSETS[s], 0) for s in query.include}, "has_more": more}
    if more:
        summary["how_to_continue"] = "Call again with the same filters and cursor=next_cursor for the next page."
    return summary


def _booking(row: Any) -> Booking:
    return Booking(row.id, row.wa_id, row.date, row.time_slot, row.type, row.status)


class SystemAgentQueryService:
    """Read-only queries over the whole calendar for the privileged system agent."""

    def __init__(self, db: Database, config: ClinicConfig, clock: Clock, search: PhoneSearchService) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.search = search
        self.statistics = CalendarStatistics(db, config, clock)

    async def get_reservations(
        self, *, search_query: str | None = None, wa_ids: list[str] | str | None = None,
        dates: list[str] | str | None = None, start_date: str | None = None, end_date: str | None = None,
        include_cancelled: bool = False, reservation_types: list[int] | None = None, include: list[str] | None = None,
        limit: int = DEFAULT_FUZZY_LIMIT, max_results: int = DEFAULT_MAX_RESULTS, cursor: str | None = None,
        hijri: bool = False,
    ) -> dict[str, Any]:
        """Reservations, wa_ids and customers matching every filter given, `max_results` per section.

        The summary always holds the totals; while `next_cursor` is not None, pass it back for the next page.
        """
        query = parse_reservation_query(
            self.config, search_query=search_query, wa_ids=wa_ids, dates=dates, start_date=start_date,
            end_date=end_date, include_cancelled=include_cancelled, reservation_types=reservation_types,
            include=include, limit=limit, hijri=hijri)
        position = PagePosition.decode(cursor, query.fingerprint()) if cursor else PagePosition()
        hits = await self.search.search(query.search_query, limit=query.fuzzy_limit) if query.search_query else []
        size = _clamp(max_results, 1, MAX_RESULTS)
        async with self.db.unit_of_work() as session:
            listing = ReservationListing(session, self.config, self.clock(), query, customer_scope(query, hits))
            keysets = dict.fromkeys(KEYSETS[s] for s in query.include)
            pages = {k: await listing.page(k, position, size) for k in keysets}
            sections = {s: await listing.section(s, pages[KEYSETS[s]][0]) for s in query.include}
            totals = await listing.totals()
        clamped = {"max_results": (max_results, size), "limit": (limit, query.fuzzy_limit)}
        summary = {**totals, **page_summary(query, sections, pages, position),
                   **self._query_context(query, hits, clamped)}
        following = position.following(pages)
        next_cursor = following.encode(query.fingerprint()) if following else None
        return {"summary": summary, **sections, "next_cursor": next_cursor}

    def _query_context(
        self, query: ReservationQuery, hits: list[dict[str, Any]], clamped: dict[str, tuple[int, int]]
    ) -> dict[str, Any]:
        """What the summary says about the query itself: filters, zone, clamped limits, fuzzy matches."""
        context: dict[str, Any] = {
            "max_results": clamped["max_results"][1], "filters": query.view(), "timezone": self.config.timezone,
            "notes": [f"{name} {asked} is out of range; {used} was used." for name, (asked, used) in clamped.items()
                      if asked != used],
            "customers_scope": "customers matching search_query/wa_ids" if query.by_customer_only
            else "customers with a matching reservation",
        }
        if query.search_query is not None:
            context["fuzzy_matches"] = [{k: h.get(k) for k in ("wa_id", "name", "similarity")} for h in hits]
        if len(hits) >= query.fuzzy_limit:
            context["notes"].append(f"search_query reached its limit of {query.fuzzy_limit} customers; more may match "
                                    f"(raise limit up to {MAX_FUZZY_LIMIT} or refine the query).")
        return context

    async def wa_ids_by_date_range(
        self, start_date: str, end_date: str, *, include_cancelled: bool = False,
        reservation_types: list[int] | None = None,
    ) -> dict[str, Any]:
        """The distinct wa_ids holding a reservation from start to end (inclusive), and how many per date."""
        first, last = date_range(start_date, end_date)
        types = tuple(sorted({check_type(self.config, t) for t in reservation_types or ()})) or None
        query = ReservationQuery(start=first, end=last, include_cancelled=include_cancelled, types=types)
        conditions = reservation_conditions(query, None)
        customers = select(Reservation.wa_id).where(*conditions).distinct().order_by(Reservation.wa_id)
        per_date = (select(Reservation.date, func.count(distinct(Reservation.wa_id))).where(*conditions)
                    .group_by(Reservation.date))
        async with self.db.unit_of_work() as session:
            wa_ids = list(await session.scalars(customers))
            by_date = {day.isoformat(): int(n) for day, n in sorted((await session.execute(per_date)).all())}
        return {"start_date": first.isoformat(), "end_date": last.isoformat(), "timezone": self.config.timezone,
                "wa_ids": wa_ids, "count": len(wa_ids), "by_date": by_date}

    async def conversation_analysis(self, start_date: str, end_date: str) -> dict[str, Any]:
        """Message statistics of the customers' chats over clinic days start to end (inclusive)."""
        return await self.statistics.conversation_analysis(start_date, end_date)

    async def reservation_snapshot(self, start_date: str, end_date: str | None = None) -> dict[str, Any]:
        """Each day from start to end (at most 92): its status and, per slot, who is booked and the room left."""
        return await self.statistics.reservation_snapshot(start_date, end_date)
