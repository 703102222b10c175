"""Freed places: finding a slot with room that waiting entries match, and offering it to them in waves.

A place is found from the days a change touched (the calendar's day events) and by a periodic sweep of every day
the waiting entries cover, so a crash between a change and its reaction loses nothing. A place is created, a wave
started or ended, only under the slot's write lock (PostgreSQL's advisory lock, SQLite's serialised writers) and
after reading again that the slot has room and no place is offering in it: two instances sweeping at once create
one place. Room is counted as for an AI agent's booking, since the system books the winner for the customer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock, system_clock
from domain.config import BookingSource, ClinicConfig
from domain.notices.templates import NoticeConfig, NoticePurpose
from domain.rules.capacity import slot_room
from domain.rules.planning import SlotKey
from domain.rules.schedule import clinic_today, open_slots
from domain.storage.database import Database
from domain.storage.models import Customer, WaitlistEntry, WaitlistOffer, WaitlistPlace
from domain.storage.store import load_state, load_vacations, lock_calendar
from domain.waitlist.offers import OfferNotices, Told, sent_at
from domain.waitlist.rules import (EXPIRED, GONE, LAPSED, OFFERING, OPEN, WAITING, Waiting, WaitlistConfig, matching,
                                   next_wave)


@dataclass
class Offerable:
    """What a set of days offers: per slot with room, the entries it may go to (longest waiting first), and the
    slots that already have a place offering."""

    candidates: dict[SlotKey, list[Waiting]] = field(default_factory=dict)
    offering: set[SlotKey] = field(default_factory=set)

    def new_places(self) -> list[SlotKey]:
        return sorted(key for key, entries in self.candidates.items() if entries and key not in self.offering)


class WaitlistPlaces:
    """Creates places for freed room and moves their waves on."""

    def __init__(self, db: Database, config: ClinicConfig, notices: NoticeConfig, limits: WaitlistConfig,
                 clock: Clock = system_clock) -> None:
        self.db, self.config, self.notices, self.limits, self.clock = db, config, notices, limits, clock

    async def offer_freed(self, days: Iterable[date]) -> int:
        """Offer the room of these days' slots that waiting entries match and no place offers yet; how many
        places were created."""
        async with self.db.reading() as session:
            found = await self.offerable(session, set(days), self.clock())
        created = 0
        for key in found.new_places():
            created += await self._create(key)
        return created

    async def sweep(self) -> int:
        """Expire the entries whose range is over, then offer the room of every day a waiting entry covers."""
        now = self.clock()
        today = clinic_today(self.config, now)
        async with self.db.unit_of_work() as session:
            await session.execute(update(WaitlistEntry).where(WaitlistEntry.status == WAITING,
                                                              WaitlistEntry.end_date < today)
                                  .values(status=EXPIRED, updated_at=now).execution_options(synchronize_session=False))
        async with self.db.reading() as session:
            days = await self._covered_days(session, today)
        return await self.offer_freed(days)

    async def expire_holds(self) -> int:
        """End each wave whose hold is over: its open offers are gone (and told), and the next wave starts, or the
        place lapses when nobody is left. How many waves ended."""
        now = self.clock()
        async with self.db.reading() as session:
            due = (await session.execute(select(WaitlistPlace.id, WaitlistPlace.slot_date, WaitlistPlace.slot_time)
                                         .where(WaitlistPlace.status == OFFERING, WaitlistPlace.hold_until <= now)
                                         .order_by(WaitlistPlace.hold_until))).all()
        ended = 0
        for place_id, day, slot in due:
            async with self.db.unit_of_work() as session:
                await lock_calendar(session, [], [(day, slot)])
                place = await self._offering(session, place_id)
                if place is None or place.hold_until is None or place.hold_until > now:
                    continue
                await self.end_wave(session, place, now)
                ended += 1
        return ended

    async def end_wave(self, session: AsyncSession, place: WaitlistPlace, now: datetime) -> None:
        """Under the slot's lock: the wave's open offers are gone and told; the next wave starts, or the place
        lapses."""
        await self.withdraw(session, place, now)
        found = await self.offerable(session, {place.slot_date}, now)
        await self.start_wave(session, place, found.candidates.get((place.slot_date, place.slot_time), []), now)

    async def withdraw(self, session: AsyncSession, place: WaitlistPlace, now: datetime) -> None:
        """The place's open offers become gone, and each customer is told."""
        rows = (await session.execute(
            update(WaitlistOffer).where(WaitlistOffer.place_id == place.id, WaitlistOffer.status == OPEN)
            .values(status=GONE, answered_at=now).returning(WaitlistOffer.id, WaitlistOffer.wa_id)
            .execution_options(synchronize_session=False))).all()
        told = [Told(offer_id, wa_id) for offer_id, wa_id in rows]
        await OfferNotices(session, self.notices, now).queue(NoticePurpose.OFFER_GONE, told, place.slot_date,
                                                             place.slot_time)

    async def start_wave(self, session: AsyncSession, place: WaitlistPlace, candidates: list[Waiting],
                         now: datetime) -> int:
        """Offer `place` to the next wave of `candidates`, held for the hold; with nobody left it lapses."""
        chosen = next_wave(candidates, self.limits.wave_size)
        place.updated_at = now
        if not chosen:
            place.status, place.hold_until = LAPSED, None
            return 0
        # The hold runs from when the offers go out (the morning, when made in quiet hours).
        sent = sent_at(self.notices, now, place.slot_date, place.slot_time)
        place.wave, place.hold_until = place.wave + 1, sent + self.limits.hold
        offers = [WaitlistOffer(place_id=place.id, entry_id=e.id, wa_id=e.wa_id, wave=place.wave, status=OPEN,
                                offered_at=now) for e in chosen]
        session.add_all(offers)
        await session.flush()
        told = [Told(offer.id, offer.wa_id) for offer in offers]
        notices = await OfferNotices(session, self.notices, now).queue(NoticePurpose.OFFER, told, place.slot_date,
                                                                        place.slot_time)
        for offer in offers:
            offer.notice_id = notices.get(offer.id)
        return len(offers)

    async def _create(self, key: SlotKey) -> int:
        """Under the slot's lock, read again; create the place and its first wave if still wanted."""
        now = self.clock()
        async with self.db.unit_of_work() as session:
            await lock_calendar(session, [], [key])
            found = await self.offerable(session, {key[0]}, now)
            if key not in found.new_places():
                return 0
            place = WaitlistPlace(slot_date=key[0], slot_time=key[1], status=OFFERING, wave=0, created_at=now,
                                  updated_at=now)
            session.add(place)
            await session.flush()
            await self.start_wave(session, place, found.candidates[key], now)
        return 1

    async def _offering(self, session: AsyncSession, place_id: int) -> WaitlistPlace | None:
        place = await session.get(WaitlistPlace, place_id, populate_existing=True)
        return place if place is not None and place.status == OFFERING else None

    async def offerable(self, session: AsyncSession, days: set[date], now: datetime) -> Offerable:
        """For each bookable slot of `days`: its room (an agent's), the waiting entries that match it and were
        never offered it, that may be messaged and hold no booking in it; and which slots have a place
        offering."""
        found = Offerable()
        entries = await self._waiting(session, days)
        vacations = await load_vacations(session)
        slots = {(day, slot) for day in days for slot in open_slots(self.config, day, vacations, now)
                 if any(e.covers(day, slot) for e in entries)}
        if not slots:
            return found
        state = await load_state(session, clinic_today(self.config, now), slots=slots)
        passed = await self._passed_over(session, slots)
        found.offering = await self._offering_slots(session, slots)
        for key in sorted(slots):
            room = slot_room(self.config, state.occupancy(key), BookingSource.AGENT)
            booked = {b.wa_id for b in state.in_slot(key) if b.status == "active"}
            if room.remaining > 0:
                found.candidates[key] = [e for e in matching(self.config, entries, key[0], key[1], room,
                                                             passed.get(key, set())) if e.wa_id not in booked]
        return found

    async def _waiting(self, session: AsyncSession, days: set[date]) -> list[Waiting]:
        """The waiting entries covering any of `days`, of customers who may be messaged."""
        if not days:
            return []
        rows = (await session.scalars(
            select(WaitlistEntry).join(Customer, Customer.wa_id == WaitlistEntry.wa_id)
            .where(WaitlistEntry.status == WAITING, WaitlistEntry.start_date <= max(days),
                   WaitlistEntry.end_date >= min(days), Customer.is_blocked.is_(False),
                   Customer.notices_opt_out.is_(False)))).all()
        return [Waiting(r.id, r.wa_id, r.start_date, r.end_date, tuple(r.times) if r.times else None, r.type,
                        r.created_at) for r in rows]

    async def _passed_over(self, session: AsyncSession, slots: set[SlotKey]) -> dict[SlotKey, set[int]]:
        """Per slot, the entries already offered a place in it (in any wave of any place there)."""
        days = {day for day, _ in slots}
        rows = (await session.execute(
            select(WaitlistPlace.slot_date, WaitlistPlace.slot_time, WaitlistOffer.entry_id)
            .join(WaitlistOffer, WaitlistOffer.place_id == WaitlistPlace.id)
            .where(WaitlistPlace.slot_date.in_(sorted(days))))).all()
        passed: dict[SlotKey, set[int]] = {}
        for day, slot, entry_id in rows:
            passed.setdefault((day, slot), set()).add(entry_id)
        return passed

    async def _offering_slots(self, session: AsyncSession, slots: set[SlotKey]) -> set[SlotKey]:
        days = {day for day, _ in slots}
        rows = (await session.execute(select(WaitlistPlace.slot_date, WaitlistPlace.slot_time).where(
            and_(WaitlistPlace.status == OFFERING, WaitlistPlace.slot_date.in_(sorted(days)))))).all()
        return {(day, slot) for day, slot in rows}

    async def _covered_days(self, session: AsyncSession, today: date) -> set[date]:
        """Every day from today on that a waiting entry covers."""
        rows = (await session.execute(select(WaitlistEntry.start_date, WaitlistEntry.end_date)
                                      .where(WaitlistEntry.status == WAITING, WaitlistEntry.end_date >= today))).all()
        days: set[date] = set()
        for start, end in rows:
            first = max(start, today)
            days.update(first + timedelta(days=n) for n in range((end - first).days + 1))
        return days
