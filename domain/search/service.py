"""PhoneSearchService: the phone selector's fuzzy search over customers' names and numbers."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from functools import cache
from collections.abc import Mapping
from typing import Any, Unpack

from sqlalchemy import Connection, Row, Select, bindparam, func, select

from domain.config import ClinicConfig
from domain.storage.database import Changes, Database
from domain.errors import DomainError
from domain.rules.identities import display_wa_id
from domain.storage.models import ConversationMessage, Customer, Reservation
from domain.rules.planning import ACTIVE, CANCELLED, ReservationStatus
from domain.search.index import CustomerSearchIndex, SearchHit, written_form
from domain.storage.store import CUSTOMER_GONE, CUSTOMER_NAMED
from domain.clock import local_iso
from domain.views import View

MAX_LIMIT = 200
MAX_QUERY = 200  # characters of a search query
# Customers written by this process reach the index as their transaction commits. Other processes'
# (another instance, an import) are noticed by comparing the customer count, at most this often.
RECOUNT_SECONDS = 2.0
_EARLIEST = datetime.min.replace(tzinfo=UTC)


class NameMatch(View):
    """A customer a name or number matched: who, how similar, and the name word found through its transliteration
    ("فهد" for "Fahad"), if so."""

    wa_id: str
    name: str | None
    similarity: float
    matched: str | None = None


class CustomerHit(NameMatch):
    """A customer the phone selector found, with what the selector shows beside the name."""

    display: str
    last_message_at: str | None
    last_reservation: str | None
    is_favorite: bool
    is_blocked: bool
    no_shows: int = 0  # bookings the customer did not come to
    late_cancels: int = 0  # cancellations inside the late window before the slot


class PhoneSearchService:
    """Matches a query against every customer through an in-memory index kept in step with the table."""

    def __init__(self, db: Database, config: ClinicConfig) -> None:
        self.db = db
        self.config = config
        self.index: CustomerSearchIndex | None = None
        self._lock = asyncio.Lock()
        self._counted_at = float("-inf")
        self._held: list[Changes] | None = None  # changes committed while an index is being built
        db.commit_listeners.append(self.apply)

    INDEXED = (CUSTOMER_GONE, CUSTOMER_NAMED)

    def apply(self, changes: Changes) -> None:
        """Customers a committed transaction created, renamed or renumbered: of this process (a commit
        listener), or of another instance on the database (`chat_bridge.instances`). While an index is being
        built they are held, and applied to it once it is."""
        if self._held is not None:
            self._held.append(changes)
        if self.index is None:
            return
        for wa_id in changes.get(CUSTOMER_GONE, {}):
            self.index.remove(wa_id)
        for wa_id, name in changes.get(CUSTOMER_NAMED, {}).items():
            self.index.upsert(wa_id, name)

    @property
    def ready(self) -> bool:
        """Whether the index is built: a search now answers from memory (the readiness check)."""
        return self.index is not None

    async def warm(self) -> None:
        """Build the index now, as `serve` and `mcp` do when they start, so that no search waits for it."""
        await self._current_index()

    async def refresh(self) -> None:
        """Rebuild the index from the customers table. The building runs in a thread, so the process keeps
        answering meanwhile (1 to 2 seconds for 100,000 customers); what commits meanwhile is applied after."""
        held: list[Changes] = []
        self._held = held
        try:
            rows = await self.db.read(lambda connection: connection.execute(
                select(Customer.wa_id, Customer.name)).all())
            self.index = await asyncio.to_thread(CustomerSearchIndex, [(wa_id, name) for wa_id, name in rows])
        finally:
            self._held = None
        for changes in held:
            self.apply(changes)
        self._counted_at = time.monotonic()

    async def search(self, query: str, limit: int = 50, min_score: float = 0.3) -> list[CustomerHit]:
        """Hits ordered by similarity, then by the customer's last message, newest first; a query longer
        than MAX_QUERY characters is `query_too_long` (its cost grows with its length)."""
        hits = await self.hits(query, limit, min_score)
        if not hits:
            return []
        details = await self._details([h.wa_id for h in hits])
        found = [(details[h.wa_id], round(h.score, 3), h.matched) for h in hits if h.wa_id in details]
        found.sort(key=lambda f: f[0].last_message or _EARLIEST, reverse=True)
        found.sort(key=lambda f: f[1], reverse=True)
        return [self._hit(row, score, matched) for row, score, matched in found]

    async def match(self, query: str, limit: int = 50, min_score: float = 0.3) -> list[NameMatch]:
        """The customers `query` matches with their names only, by similarity (ties: the name with fewer other
        words, then the number): what a listing's or a batch's `search_query` needs, in one light statement where
        `search` reads each hit's last message and booking to order ties by recency."""
        hits = await self.hits(query, limit, min_score)
        return await self.db.read(lambda connection: named(connection, hits)) if hits else []

    async def hits(self, query: str, limit: int = 50, min_score: float = 0.3) -> list[SearchHit]:
        """The index's hits for `query`, to be named by `named` in the caller's read (`match` in one step); a query
        longer than MAX_QUERY characters is `query_too_long`."""
        if len(query) > MAX_QUERY:
            raise DomainError("query_too_long", max=MAX_QUERY)
        index = await self._current_index()
        return index.search(query, limit=max(1, min(limit, MAX_LIMIT)), min_score=min_score)

    async def _current_index(self) -> CustomerSearchIndex:
        async with self._lock:
            if self.index is None:
                await self.refresh()
            elif time.monotonic() - self._counted_at >= RECOUNT_SECONDS:
                self._counted_at = time.monotonic()
                if len(self.index) != await self.db.read(_count):
                    await self.refresh()
            assert self.index is not None
            return self.index

    async def _details(self, wa_ids: list[str]) -> dict[str, Row[Any]]:
        """Each customer's row with their last message time and latest booking, in one statement."""
        rows = await self.db.read(lambda connection: connection.execute(_details_statement(), {"wa_ids": wa_ids}).all())
        return {row.wa_id: row for row in rows}

    def _hit(self, row: Row[Any], similarity: float, matched: str | None = None) -> CustomerHit:
        booking = f"{row.day.isoformat()} {row.slot}" if row.day is not None else None
        return CustomerHit(
            wa_id=row.wa_id, display=display_wa_id(row.wa_id), name=row.name,
            last_message_at=local_iso(self.config, row.last_message), last_reservation=booking,
            is_favorite=row.is_favorite, is_blocked=row.is_blocked, similarity=similarity,
            no_shows=int(row.no_shows or 0), late_cancels=int(row.late_cancels or 0),
            matched=written_form(row.name or "", matched) if matched else None,
        )


def _count(connection: Connection) -> int:
    return int(connection.scalar(select(func.count()).select_from(Customer)) or 0)


def named(connection: Connection, hits: list[SearchHit]) -> list[NameMatch]:
    """The index's `hits` with their customers' names as stored (a customer deleted meanwhile is left out)."""
    if not hits:
        return []
    wa_ids = [h.wa_id for h in hits]
    return name_hits(hits, {w: n for w, n in connection.execute(_names_statement(), {"wa_ids": wa_ids})})


def name_hits(hits: list[SearchHit], names: Mapping[str, str | None]) -> list[NameMatch]:
    """The `hits` whose customers `names` holds (wa_id → name as stored), with those names."""
    return [NameMatch(wa_id=h.wa_id, name=names[h.wa_id], similarity=round(h.score, 3),
                      matched=written_form(names[h.wa_id] or "", h.matched) if h.matched else None)
            for h in hits if h.wa_id in names]


@cache
def _names_statement() -> Select[Unpack[tuple[Any, ...]]]:
    return select(Customer.wa_id, Customer.name).where(Customer.wa_id.in_(bindparam("wa_ids", expanding=True)))


@cache
def _details_statement() -> Select[Unpack[tuple[Any, ...]]]:
    """The customers named by `wa_ids`, each with their last message time and latest active booking."""
    last_message = (select(func.max(ConversationMessage.timestamp))
                    .where(ConversationMessage.wa_id == Customer.wa_id).scalar_subquery())
    latest = (select(Reservation.date).where(Reservation.wa_id == Customer.wa_id, Reservation.status == ACTIVE)
              .order_by(Reservation.date.desc(), Reservation.time_slot.desc()).limit(1))
    latest_slot = latest.with_only_columns(Reservation.time_slot)
    mine = Reservation.wa_id == Customer.wa_id
    no_shows = select(func.count()).where(mine, Reservation.status == ReservationStatus.NO_SHOW).scalar_subquery()
    late = select(func.count()).where(mine, Reservation.status == CANCELLED, Reservation.late_cancel.is_(True))
    return (select(Customer.wa_id, Customer.name, Customer.is_favorite, Customer.is_blocked,
                   last_message.label("last_message"), latest.scalar_subquery().label("day"),
                   latest_slot.scalar_subquery().label("slot"), no_shows.label("no_shows"),
                   late.scalar_subquery().label("late_cancels"))
            .where(Customer.wa_id.in_(bindparam("wa_ids", expanding=True))))
