"""What a reservation listing or a filtered batch asks for, and where a listing's pages stop: the one parsed filter
(`ReservationQuery`, from `parse_reservation_query`) and cursors.

The reads (`system_get_reservations`) and the writes (a batch's `filters`, the customers a message goes to) parse
their filters here, into one model, and select with one SQL builder (`listing.matching`).

A cursor carries the keyset position of every section and a fingerprint of the filters, so a page
is never continued with other filters than the ones that produced it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.rules.attendance import PublicStatus
from domain.rules.capacity import check_type
from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.rules.identities import normalize_wa_id
from domain.search.service import NameMatch
from domain.rules.schedule import parse_date, parse_time

SECTIONS = ("reservations", "wa_ids", "customers")
# wa_ids and customers list the same people in wa_id order, so they page together.
KEYSETS = {"reservations": "reservations", "wa_ids": "people", "customers": "people"}
DEFAULT_MAX_RESULTS, MAX_RESULTS = 200, 500
# How many customers a fuzzy `search_query` may reach: a listing asks for up to MAX (50 unless it says), a batch's
# filters always take MAX (and ask a person about whom the search chose).
DEFAULT_FUZZY_LIMIT, MAX_FUZZY_LIMIT = 50, 200
CURSOR_VERSION = 1
# The public statuses (`rules.attendance.PublicStatus`) a listing shows unless asked: the bookings holding a place.
HOLDING = frozenset({PublicStatus.BOOKED.value, PublicStatus.CONFIRMED.value, PublicStatus.ARRIVED.value})


@dataclass(frozen=True)
class ReservationQuery:
    """The parsed filters of a listing or a batch; every filter given narrows the result."""

    search_query: str | None = None
    fuzzy_limit: int = DEFAULT_FUZZY_LIMIT
    wa_ids: tuple[str, ...] | None = None
    dates: tuple[date, ...] | None = None
    start: date | None = None
    end: date | None = None
    include_cancelled: bool = False
    types: tuple[int, ...] | None = None
    include: tuple[str, ...] = SECTIONS
    time_slots: tuple[str, ...] | None = None  # a batch's filters only: a listing has no time filter
    attendance: tuple[str, ...] | None = None  # a listing's only: the public statuses it shows

    @property
    def statuses(self) -> frozenset[str] | None:
        """The public statuses the query selects (None: every one): those `attendance` names, else the bookings
        holding a place, or every reservation with `include_cancelled`."""
        if self.attendance:
            return frozenset(self.attendance)
        return None if self.include_cancelled else HOLDING

    @property
    def by_customer_only(self) -> bool:
        """A customer filter without date or type filters lists customers even with no reservation."""
        by_customer = self.search_query is not None or self.wa_ids is not None
        return by_customer and not (self.dates or self.start or self.end or self.types or self.time_slots)

    @property
    def narrows(self) -> bool:
        """Whether any filter is given (a batch over every reservation is refused)."""
        return any([self.search_query, self.wa_ids, self.dates, self.start, self.end, self.types, self.time_slots])

    def view(self) -> dict[str, Any]:
        return {
            "search_query": self.search_query, "fuzzy_limit": self.fuzzy_limit,
            "wa_ids": list(self.wa_ids) if self.wa_ids else None,
            "dates": [d.isoformat() for d in self.dates] if self.dates else None,
            "start_date": _iso(self.start), "end_date": _iso(self.end),
            "include_cancelled": self.include_cancelled,
            "reservation_types": list(self.types) if self.types else None, "include": list(self.include),
            **({"time_slots": list(self.time_slots)} if self.time_slots else {}),
            **({"attendance": list(self.attendance)} if self.attendance else {}),
        }

    def given(self) -> dict[str, Any]:
        """The filters the caller set (the sections always): what a summary repeats back."""
        view = self.view()
        given = {k: v for k, v in view.items() if v not in (None, False) and k not in ("fuzzy_limit", "include")}
        fuzzy = {"fuzzy_limit": self.fuzzy_limit} if self.search_query is not None else {}
        return given | fuzzy | {"include": view["include"]}

    def fingerprint(self) -> str:
        """A short hash of the filters: a cursor is only valid for the query that produced it."""
        return hashlib.sha256(json.dumps(self.view(), sort_keys=True).encode()).hexdigest()[:16]


TOTALS = ("total_reservations", "total_wa_ids", "total_customers")


@dataclass
class PagePosition:
    """Where the previous pages stopped, per keyset, and the listing's totals as its first page counted
    them (so later pages do not count again); `next_cursor` is this, encoded."""

    after: dict[str, Any] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def counted(self) -> bool:
        """Whether the cursor carries the totals (every page after the first)."""
        return set(self.totals) == set(TOTALS)

    def encode(self, fingerprint: str) -> str:
        data = {"v": CURSOR_VERSION, "f": fingerprint, "after": self.after, "seen": self.seen,
                "done": sorted(self.done), "t": self.totals}
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()

    def following(self, pages: dict[str, tuple[list[Any], bool]], totals: dict[str, int]) -> PagePosition | None:
        """The position after these pages (keyset -> rows, more follow), or None when nothing is left.
        A reservation row's key is (date, time_slot, id); a person's is the wa_id."""
        if not any(more for _, more in pages.values()):
            return None
        position = PagePosition(dict(self.after), dict(self.seen), set(self.done), dict(totals))
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
            totals = {k: int(v) for k, v in data.get("t", {}).items()}
            if set(totals) - set(TOTALS) or any(n < 0 for n in totals.values()):
                raise ValueError("totals")
            position = cls(dict(data["after"]), {k: int(v) for k, v in data["seen"].items()}, set(data["done"]),
                           totals)
            if "reservations" in position.after:
                reservation_key(position.after["reservations"])
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
    start_date: str | None, end_date: str | None, include_cancelled: bool = False,
    reservation_types: Sequence[int | str] | int | str | None, include: list[str] | str | None = None,
    limit: int = MAX_FUZZY_LIMIT, hijri: bool = False, time_slots: list[str] | str | None = None,
    attendance: list[str] | str | None = None,
) -> ReservationQuery:
    """Validate and normalise the filters; raises `invalid_wa_id`, `invalid_date`, `invalid_time`, `invalid_range`,
    `invalid_type`, and `invalid_request` for an unknown section or public status."""
    start = parse_date(start_date, hijri) if start_date else None
    end = parse_date(end_date, hijri) if end_date else None
    if start and end and end < start:
        raise DomainError("invalid_range", start=start.isoformat(), end=end.isoformat())
    return ReservationQuery(
        search_query=(search_query or "").strip() or None,
        fuzzy_limit=clamp(limit, 1, MAX_FUZZY_LIMIT),
        wa_ids=tuple(dict.fromkeys(normalize_wa_id(w) for w in _as_list(wa_ids))) or None,
        dates=tuple(sorted({parse_date(d, hijri) for d in _as_list(dates)})) or None,
        start=start, end=end, include_cancelled=include_cancelled,
        types=tuple(sorted({check_type(config, t) for t in _as_list(reservation_types)})) or None,
        include=_sections(include),
        time_slots=tuple(sorted({parse_time(s) for s in _as_list(time_slots)})) or None,
        attendance=_public_statuses(attendance),
    )


def _sections(include: list[str] | str | None) -> tuple[str, ...]:
    wanted = {s.strip().lower() for s in _as_list(include)}
    unknown = sorted(wanted - set(SECTIONS))
    if unknown:
        raise DomainError("invalid_request", field="include", value=unknown,
                          reason=f"include takes {', '.join(SECTIONS)} (none means all); got {', '.join(unknown)}.")
    return tuple(s for s in SECTIONS if s in wanted) or SECTIONS


def _public_statuses(attendance: list[str] | str | None) -> tuple[str, ...] | None:
    """The public statuses asked for, in `PublicStatus` order (None: none asked)."""
    wanted = {s.strip().lower() for s in _as_list(attendance)}
    known = [s.value for s in PublicStatus]
    if unknown := sorted(wanted - set(known)):
        raise DomainError("invalid_request", field="attendance", value=unknown,
                          reason=f"attendance takes {', '.join(known)}; got {', '.join(unknown)}.")
    return tuple(s for s in known if s in wanted) or None


def _as_list(value: Iterable[Any] | str | int | None) -> list[Any]:
    """One value or many; a string may hold several, separated by commas."""
    if value is None:
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    return [v for v in value if v is not None and str(v).strip()]


def clamp(value: int, lowest: int, highest: int) -> int:
    return max(lowest, min(int(value), highest))


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def customer_scope(query: ReservationQuery, hits: Sequence[NameMatch]) -> list[str] | None:
    """The wa_ids the query is restricted to (fuzzy matches and given wa_ids), or None for everyone."""
    if query.search_query is None:
        return list(query.wa_ids) if query.wa_ids else None
    matched = [h.wa_id for h in hits]
    given = set(query.wa_ids or ())
    return [w for w in matched if w in given] if given else matched


def reservation_key(after: Any) -> tuple[date, str, int]:
    """The (date, time_slot, id) a reservations page continues after; raises ValueError when malformed."""
    day, slot, row_id = after
    return date.fromisoformat(day), str(slot), int(row_id)


def _last_key(keyset: str, row: Any) -> Any:
    return [row.date.isoformat(), row.time_slot, row.id] if keyset == "reservations" else row
