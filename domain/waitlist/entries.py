"""Waitlist entries: join (or update the customer's overlapping entry), leave, remove, list.

A customer has at most one waiting entry whose range overlaps another's: joining again over an overlapping range
updates that entry (its days, times and type) and keeps its place in the line (its `created_at`); entries that the
new range joins together become one. The customer's write lock is held while this is decided, so two joins at once
still leave one entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar.customers import customer_names
from domain.clock import Clock, local_iso, system_clock
from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.rules.identities import normalize_wa_id
from domain.rules.schedule import clinic_today
from domain.staff.audit import AuditEvent, AuditLog
from domain.staff.roles import Role, Signature, customer_signature
from domain.storage.database import Database
from domain.storage.models import Customer, WaitlistEntry, WaitlistOffer, WaitlistPlace
from domain.storage.store import ensure_customers, load_vacations, lock_calendar
from domain.waitlist.rules import OPEN, REMOVED, WAITING, EntryRequest, WaitlistConfig, checked_entry
from domain.waitlist.views import (JoinResult, WaitlistEntryView, WaitlistListing, WaitlistOfferView, entry_view,
                                   offer_label)

MAX_LISTED = 500


class WaitlistEntries:
    """The entries' verbs, each one unit of work."""

    def __init__(self, db: Database, config: ClinicConfig, limits: WaitlistConfig, clock: Clock = system_clock) -> None:
        self.db, self.config, self.limits, self.clock = db, config, limits, clock
        self.audit = AuditLog(db, config, clock)

    async def join(self, wa_id: str, start_date: str | date, end_date: str | date, times: Sequence[str] | None = None,
                   type_id: int | str | None = None, *, author: str, customer_name: str | None = None,
                   role: Role | None = None) -> JoinResult:
        """Put the customer on the waitlist for these days (and start times, and type), or update their
        overlapping waiting entry to say so. A blocked customer is refused. `author`: the actor who signs it
        (`domain.staff.roles`), with their `role` when known."""
        wa_id = normalize_wa_id(wa_id)
        async with self.db.unit_of_work() as session:
            await lock_calendar(session, [wa_id], [])
            asked = checked_entry(self.config, self.limits, await load_vacations(session), self.clock(), start_date,
                                  end_date, times, type_id)
            customer = await session.get(Customer, wa_id)
            if customer is not None and customer.is_blocked:
                raise DomainError("waitlist_blocked")
            await ensure_customers(session, {wa_id: customer_name})
            action, entry = await self._write(session, wa_id, asked, author)
            self.audit.add(session, AuditEvent(actor=author, role=role, action=f"waitlist {action}",
                                               target=str(entry.id), detail={"wa_id": wa_id}))
            names = await customer_names(session, [wa_id])
            return JoinResult(action=action, entry=entry_view(self.config, entry, names.get(wa_id)))

    async def _write(self, session: AsyncSession, wa_id: str, asked: EntryRequest,
                     author: str) -> tuple[str, WaitlistEntry]:
        now = self.clock()
        overlapping = list(await session.scalars(
            select(WaitlistEntry).where(WaitlistEntry.wa_id == wa_id, WaitlistEntry.status == WAITING,
                                        WaitlistEntry.start_date <= asked.end, WaitlistEntry.end_date >= asked.start)
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)))
        times = list(asked.times) if asked.times else None
        if not overlapping:
            entry = WaitlistEntry(wa_id=wa_id, start_date=asked.start, end_date=asked.end, times=times,
                                  type=asked.type, author=author, status=WAITING, created_at=now, updated_at=now)
            session.add(entry)
            await session.flush()
            return "joined", entry
        entry, *merged = overlapping
        for other in merged:
            other.status, other.updated_at = REMOVED, now
        entry.start_date, entry.end_date, entry.times, entry.type = asked.start, asked.end, times, asked.type
        entry.author, entry.updated_at = author, now
        return "updated", entry

    async def leave(self, wa_id: str, entry_id: int | None = None) -> list[WaitlistEntryView]:
        """Take the customer off the waitlist: the entry `entry_id` if theirs, else every waiting entry of theirs.
        Refused (not found) when there is none; another customer's entry is never revealed."""
        wa_id = normalize_wa_id(wa_id)
        query = select(WaitlistEntry).where(WaitlistEntry.wa_id == wa_id, WaitlistEntry.status == WAITING)
        if entry_id is not None:
            query = query.where(WaitlistEntry.id == entry_id)
        return await self._remove(query, [wa_id], customer_signature(wa_id))

    async def remove(self, entry_id: int, by: Signature = Signature("operator")) -> WaitlistEntryView:
        """Remove a waiting entry by id (an operator's act, or the agent's for one); not found when none waits by
        that id."""
        query = select(WaitlistEntry).where(WaitlistEntry.id == entry_id, WaitlistEntry.status == WAITING)
        async with self.db.reading() as session:
            owner = await session.scalar(select(WaitlistEntry.wa_id).where(WaitlistEntry.id == entry_id))
        return (await self._remove(query, [owner] if owner else [], by))[0]

    async def _remove(self, query: Select[WaitlistEntry], wa_ids: list[str],
                      by: Signature) -> list[WaitlistEntryView]:
        now = self.clock()
        async with self.db.unit_of_work() as session:
            await lock_calendar(session, wa_ids, [])
            entries = list(await session.scalars(query))
            if not entries:
                raise DomainError("waitlist_entry_not_found")
            names = await customer_names(session, {e.wa_id for e in entries})
            for entry in entries:
                entry.status, entry.updated_at = REMOVED, now
                self.audit.add(session, AuditEvent(actor=by.actor, role=by.role, action="waitlist remove",
                                                   target=str(entry.id), detail={"wa_id": entry.wa_id}))
            return [entry_view(self.config, e, names.get(e.wa_id)) for e in entries]

    async def listing(self, wa_id: str | None = None, status: str | None = WAITING,
                      limit: int = MAX_LISTED) -> WaitlistListing:
        """Entries (one customer's, or everyone's; of one status, or all when None), newest first, and the open
        offers of those customers."""
        query = select(WaitlistEntry)
        offers = (select(WaitlistOffer, WaitlistPlace.slot_date, WaitlistPlace.slot_time, WaitlistPlace.hold_until)
                  .join(WaitlistPlace, WaitlistPlace.id == WaitlistOffer.place_id).where(WaitlistOffer.status == OPEN))
        if wa_id is not None:
            wa_id = normalize_wa_id(wa_id)
            query, offers = query.where(WaitlistEntry.wa_id == wa_id), offers.where(WaitlistOffer.wa_id == wa_id)
        if status is not None:
            query = query.where(WaitlistEntry.status == status)
        today = clinic_today(self.config, self.clock())
        async with self.db.reading() as session:
            entries = list(await session.scalars(query.order_by(WaitlistEntry.id.desc()).limit(limit)))
            opened = (await session.execute(offers.where(WaitlistPlace.slot_date >= today)
                                            .order_by(WaitlistPlace.hold_until, WaitlistOffer.id).limit(limit))).all()
            names = await customer_names(session, {e.wa_id for e in entries} | {o[0].wa_id for o in opened})
        return WaitlistListing(entries=[entry_view(self.config, e, names.get(e.wa_id)) for e in entries],
                               offers=[self._offer(o, d, s, h, names.get(o.wa_id)) for o, d, s, h in opened],
                               timezone=self.config.timezone)

    def _offer(self, offer: WaitlistOffer, day: date, slot: str, hold: datetime | None,
               name: str | None) -> WaitlistOfferView:
        return WaitlistOfferView(id=offer.id, entry_id=offer.entry_id, wa_id=offer.wa_id, customer_name=name,
                                 date=day.isoformat(), time_slot=slot, wave=offer.wave, status=offer.status,
                                 offered_at=local_iso(self.config, offer.offered_at),
                                 hold_until=local_iso(self.config, hold),
                                 timezone=self.config.timezone, **offer_label(day.isoformat(), slot))
