"""PhoneSearchService: the phone selector's fuzzy search over customers' names and numbers."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from domain.config import ClinicConfig
from domain.database import Database
from domain.errors import DomainError
from domain.identities import display_wa_id
from domain.models import ConversationMessage, Customer, Reservation
from domain.search_index import CustomerSearchIndex
from domain.views import local_iso

MAX_LIMIT = 200
MAX_QUERY = 200  # characters of a search query


class PhoneSearchService:
    """Matches a query against every customer through an in-memory index kept in step with the table."""

    def __init__(self, db: Database, config: ClinicConfig) -> None:
        self.db = db
        self.config = config
        self.index: CustomerSearchIndex | None = None
        self._lock = asyncio.Lock()

    def remember(self, wa_id: str, name: str | None) -> None:
        """Keep the index fresh when a customer is created or renamed in this process."""
        if self.index is not None:
            self.index.upsert(wa_id, name)

    async def refresh(self) -> None:
        """Rebuild the index from the customers table."""
        async with self.db.unit_of_work() as session:
            rows = (await session.execute(select(Customer.wa_id, Customer.name))).all()
        self.index = CustomerSearchIndex(rows)

    async def search(self, query: str, limit: int = 50, min_score: float = 0.3) -> list[dict[str, Any]]:
        """Hits ordered by similarity, then by the customer's last message, newest first; a query longer
        than MAX_QUERY characters is `query_too_long` (its cost grows with its length)."""
        if len(query) > MAX_QUERY:
            raise DomainError("query_too_long", max=MAX_QUERY)
        index = await self._current_index()
        hits = index.search(query, limit=max(1, min(limit, MAX_LIMIT)), min_score=min_score)
        if not hits:
            return []
        details = await self._details([h.wa_id for h in hits])
        results = [dict(details[h.wa_id], similarity=round(h.score, 3)) for h in hits if h.wa_id in details]
        results.sort(key=lambda r: r["_last"] or datetime.min.isoformat(), reverse=True)
        results.sort(key=lambda r: r["similarity"], reverse=True)
        for result in results:
            result.pop("_last")
        return results

    async def _current_index(self) -> CustomerSearchIndex:
        async with self._lock:
            if self.index is None or len(self.index) != await self._count():
                await self.refresh()
            assert self.index is not None
            return self.index

    async def _count(self) -> int:
        async with self.db.unit_of_work() as session:
            return int(await session.scalar(select(func.count()).select_from(Customer)) or 0)

    async def _details(self, wa_ids: list[str]) -> dict[str, dict[str, Any]]:
        last_message = (
            select(ConversationMessage.wa_id, func.max(ConversationMessage.timestamp))
            .where(ConversationMessage.wa_id.in_(wa_ids)).group_by(ConversationMessage.wa_id)
        )
        last_booking = select(Reservation.wa_id, Reservation.date, Reservation.time_slot).where(
            Reservation.wa_id.in_(wa_ids), Reservation.status == "active"
        )
        async with self.db.unit_of_work() as session:
            customers = await session.scalars(select(Customer).where(Customer.wa_id.in_(wa_ids)))
            messages = dict((await session.execute(last_message)).all())
            bookings: dict[str, tuple[Any, str]] = {}
            for wa_id, day, slot in (await session.execute(last_booking)):
                bookings[wa_id] = max(bookings.get(wa_id, (day, slot)), (day, slot))
        return {c.wa_id: self._hit(c, messages.get(c.wa_id), bookings.get(c.wa_id)) for c in customers}

    def _hit(self, customer: Customer, last_message: datetime | None, booking: Any) -> dict[str, Any]:
        return {
            "wa_id": customer.wa_id, "display": display_wa_id(customer.wa_id), "name": customer.name,
            "last_message_at": local_iso(self.config, last_message), "_last": last_message.isoformat() if last_message else None,
            "last_reservation": f"{booking[0].isoformat()} {booking[1]}" if booking else None,
            "is_favorite": customer.is_favorite, "is_blocked": customer.is_blocked,
        }
