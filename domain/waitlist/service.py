"""`WaitlistService`: the waitlist's verbs as the adapters call them (tools, endpoints, the bridge's worker, the
webhook's button router)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from domain.calendar.reservations import ReservationService
from domain.clock import Clock, system_clock
from domain.config import ClinicConfig
from domain.notices.buttons import ButtonAnswer, Press
from domain.notices.templates import NoticeConfig
from domain.staff.roles import Role, Signature
from domain.storage.database import Database
from domain.waitlist.answers import WaitlistAnswers
from domain.waitlist.entries import WaitlistEntries
from domain.waitlist.places import WaitlistPlaces
from domain.waitlist.rules import WAITING, WaitlistConfig
from domain.waitlist.views import JoinResult, WaitlistEntryView, WaitlistListing


class WaitlistService:
    """Entries, freed places and the answers to offers, over one database."""

    def __init__(self, db: Database, config: ClinicConfig, notices: NoticeConfig, limits: WaitlistConfig,
                 reservations: ReservationService, clock: Clock = system_clock) -> None:
        self.limits = limits
        self.entries = WaitlistEntries(db, config, limits, clock)
        self.places = WaitlistPlaces(db, config, notices, limits, clock)
        self.answers = WaitlistAnswers(db, config, notices, self.places, reservations, clock)

    async def join(self, wa_id: str, start_date: str | date, end_date: str | date, times: Sequence[str] | None = None,
                   type_id: int | str | None = None, *, author: str, customer_name: str | None = None,
                   role: Role | None = None) -> JoinResult:
        """Put a customer on the waitlist (or update their overlapping entry); `author`: who signs it
        (`customer:<wa_id>`, `operator:<username>`, `agent:<username>`...), with their `role` when known."""
        return await self.entries.join(wa_id, start_date, end_date, times, type_id, author=author,
                                       customer_name=customer_name, role=role)

    async def leave(self, wa_id: str, entry_id: int | None = None) -> list[WaitlistEntryView]:
        """A customer's own entries off the waitlist (one, or all waiting)."""
        return await self.entries.leave(wa_id, entry_id)

    async def remove(self, entry_id: int, by: Signature = Signature("operator")) -> WaitlistEntryView:
        """An entry off the waitlist by id (an operator's or the agent's act, signed `by`)."""
        return await self.entries.remove(entry_id, by)

    async def listing(self, wa_id: str | None = None, status: str | None = WAITING) -> WaitlistListing:
        """Entries and open offers, of one customer or all."""
        return await self.entries.listing(wa_id, status)

    async def days_changed(self, days: set[date]) -> int:
        """The calendar changed on these days: offer any room there to the waitlist; how many places opened."""
        return await self.places.offer_freed(days)

    async def sweep(self) -> int:
        """Expire finished entries and offer the room of every day an entry waits for (the durable path)."""
        return await self.places.sweep()

    async def expire_holds(self) -> int:
        """Move on the waves whose hold has ended."""
        return await self.places.expire_holds()

    async def answer_press(self, wa_id: str, press: Press) -> ButtonAnswer:
        """A customer's Accept or Decline of an offer (the `ButtonHandler` of kind `w`)."""
        return await self.answers(wa_id, press)
