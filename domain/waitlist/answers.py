"""A customer's press of Accept or Decline on a waitlist offer (`w:<offer id>:accept|decline`).

Accepting takes the place with one conditional update (offering, this wave, within its hold → taken by this offer),
under the slot's and the customer's write locks, and books the customer in the same transaction through the
reservation service's own rules (an AI agent's capacity; an upcoming booking of theirs is moved): of any number of
customers accepting at once, on any number of instances, exactly one wins; the rest find the place taken. When the
rules refuse the booking (the slot filled meanwhile, say) nothing of it is kept: the offer is `failed`, the place
lapses, its other offers are gone and told, and the next sweep offers whatever room is left as a new place. The
winner's entry is `booked`; the place's other open offers are gone, each customer told.

A press that names no offer of the sender's, or one no longer open, changes nothing and is answered politely.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar.reservations import ReservationResult, ReservationService
from domain.clock import Clock, system_clock
from domain.config import BookingSource, ClinicConfig
from domain.errors import DomainError
from domain.notices.buttons import OFFER, ButtonAnswer, Press
from domain.notices.plans import recipients
from domain.notices.templates import NoticeConfig, weekday
from domain.rules.identities import normalize_wa_id
from domain.staff.roles import customer_signature
from domain.storage.database import Database
from domain.storage.models import WaitlistEntry, WaitlistOffer, WaitlistPlace
from domain.storage.store import lock_calendar
from domain.waitlist.offers import ACCEPT, DECLINE
from domain.waitlist.places import WaitlistPlaces
from domain.waitlist.rules import (ACCEPTED, BOOKED, DECLINED, FAILED, GONE, LAPSED, OFFERING, OPEN, TAKEN, WAITING,
                                   booking_type)
from domain.views import ReservationView

# What the customer is told, in English and Arabic.
ANSWERS: dict[str, tuple[str, str]] = {
    "booked": ("Booked: {weekday} {date} at {time}. See you then.",
               "تم الحجز: {weekday_ar} {date} الساعة {time}. نراك حينها."),
    "moved": ("Done: your appointment is moved to {weekday} {date} at {time}.",
              "تم: نُقل موعدك إلى {weekday_ar} {date} الساعة {time}."),
    "declined": ("Thank you; the place goes to the next person. You stay on the waitlist.",
                 "شكراً لك؛ سيُعرض المكان على الشخص التالي. ما زلت في قائمة الانتظار."),
    "gone": ("Sorry, this place has already gone. You are still on the waitlist.",
             "عذراً، لم يعد هذا المكان متاحاً. ما زلت في قائمة الانتظار."),
    "refused": ("Sorry, the place could not be booked: {reason} You are still on the waitlist.",
                "عذراً، تعذر حجز المكان: {reason} ما زلت في قائمة الانتظار."),
    "not_current": ("This offer is no longer current; nothing was changed.",
                    "هذا العرض لم يعد قائماً؛ لم يتغير شيء."),
    "unknown": ("Sorry, that answer could not be read; nothing was changed.",
                "عذراً، تعذرت قراءة هذا الرد؛ لم يتغير شيء."),
}


class _Refused(Exception):
    """Rolls the acceptance back; `answer` says why."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


class WaitlistAnswers:
    """Answers the presses of waitlist offers (a `ButtonHandler` for kind `w`)."""

    def __init__(self, db: Database, config: ClinicConfig, notices: NoticeConfig, places: WaitlistPlaces,
                 reservations: ReservationService, clock: Clock = system_clock) -> None:
        self.db, self.config, self.notices, self.places = db, config, notices, places
        self.reservations, self.clock = reservations, clock

    async def __call__(self, wa_id: str, press: Press) -> ButtonAnswer:
        """Accept or decline the offer `press` names, if it is the sender's and current; else change nothing."""
        try:
            wa_id = normalize_wa_id(wa_id)
        except DomainError:
            return ButtonAnswer(ANSWERS["unknown"][0])
        ar = await self._arabic(wa_id)
        if press.kind != OFFER or press.action not in (ACCEPT, DECLINE):
            return self._say("unknown", ar)
        offer = await self._offer(wa_id, press.target)
        if offer is None or offer[0].status != OPEN:
            # Another took the place (or its hold ended) before this press was read: it has gone.
            return self._say("gone" if offer is not None and offer[0].status == GONE else "not_current", ar)
        if press.action == DECLINE:
            return self._say(await self._decline(offer), ar)
        return await self._accept(offer, ar)

    async def _offer(self, wa_id: str, offer_id: int) -> tuple[WaitlistOffer, WaitlistPlace] | None:
        """The offer and its place, when the offer is the sender's (another customer's is never revealed)."""
        async with self.db.reading() as session:
            row = (await session.execute(select(WaitlistOffer, WaitlistPlace)
                                         .join(WaitlistPlace, WaitlistPlace.id == WaitlistOffer.place_id)
                                         .where(WaitlistOffer.id == offer_id))).first()
        if row is None or row[0].wa_id != wa_id:
            return None
        return row[0], row[1]

    async def _decline(self, found: tuple[WaitlistOffer, WaitlistPlace]) -> str:
        offer, place = found
        now = self.clock()
        async with self.db.unit_of_work() as session:
            await lock_calendar(session, [], [(place.slot_date, place.slot_time)])
            if not await self._settle(session, offer, DECLINED, now):
                return "not_current"
            current = await session.get(WaitlistPlace, place.id, populate_existing=True)
            if current is not None and current.status == OFFERING and current.wave == offer.wave \
                    and not await self._still_open(session, current):
                await self.places.end_wave(session, current, now)
        return "declined"

    async def _accept(self, found: tuple[WaitlistOffer, WaitlistPlace], ar: bool) -> ButtonAnswer:
        offer, place = found
        try:
            result = await self._take(offer, place, self.clock())
        except _Refused as refused:
            return self._say(refused.answer, ar)
        except DomainError as refused:
            await self._failed(offer, place)
            return self._say("refused", ar, reason=refused.message(ar))
        view = result.reservation
        assert view is not None
        return self._say("moved" if result.action == "moved" else "booked", ar, **_when(view))

    async def _take(self, offer: WaitlistOffer, place: WaitlistPlace, now: datetime) -> ReservationResult:
        """One transaction: the place taken by this offer (the one conditional update that decides), the booking
        made, the entry booked, the place's other offers gone and told."""
        key = (place.slot_date, place.slot_time)
        async with self.db.together() as session:
            await lock_calendar(session, [offer.wa_id], [key])
            taken = await session.scalar(
                update(WaitlistPlace).where(WaitlistPlace.id == place.id, WaitlistPlace.status == OFFERING,
                                            WaitlistPlace.wave == offer.wave, WaitlistPlace.hold_until > now)
                .values(status=TAKEN, offer_id=offer.id, updated_at=now).returning(WaitlistPlace.id)
                .execution_options(synchronize_session=False))
            if taken is None:
                raise _Refused("gone")
            if not await self._settle(session, offer, ACCEPTED, now):
                raise _Refused("not_current")
            entry = await session.get(WaitlistEntry, offer.entry_id, populate_existing=True)
            if entry is None or entry.status != WAITING:
                raise _Refused("not_current")
            result = await self.reservations.reserve(offer.wa_id, key[0], key[1], booking_type(self.config, entry.type),
                                                     source=BookingSource.AGENT, by=customer_signature(offer.wa_id))
            assert result.reservation is not None
            entry.status, entry.reservation_id, entry.updated_at = BOOKED, result.reservation.id, now
            current = await session.get(WaitlistPlace, place.id, populate_existing=True)
            assert current is not None
            await self.places.withdraw(session, current, now)
        return result

    async def _failed(self, offer: WaitlistOffer, place: WaitlistPlace) -> None:
        """The rules refused the booking: the offer failed, the place lapses, its other offers are gone and told."""
        now = self.clock()
        async with self.db.unit_of_work() as session:
            await lock_calendar(session, [], [(place.slot_date, place.slot_time)])
            await self._settle(session, offer, FAILED, now)
            current = await session.get(WaitlistPlace, place.id, populate_existing=True)
            if current is not None and current.status == OFFERING:
                await self.places.withdraw(session, current, now)
                current.status, current.hold_until, current.updated_at = LAPSED, None, now

    async def _settle(self, session: AsyncSession, offer: WaitlistOffer, status: str, now: datetime) -> bool:
        """The offer's answer, if it is still open: whether it was."""
        settled = await session.scalar(
            update(WaitlistOffer).where(WaitlistOffer.id == offer.id, WaitlistOffer.status == OPEN)
            .values(status=status, answered_at=now).returning(WaitlistOffer.id)
            .execution_options(synchronize_session=False))
        return settled is not None

    async def _still_open(self, session: AsyncSession, place: WaitlistPlace) -> bool:
        return await session.scalar(select(WaitlistOffer.id).where(
            WaitlistOffer.place_id == place.id, WaitlistOffer.wave == place.wave, WaitlistOffer.status == OPEN)
            .limit(1)) is not None

    async def _arabic(self, wa_id: str) -> bool:
        async with self.db.reading() as session:
            person = (await recipients(session, self.notices, [wa_id])).get(wa_id)
        return (person.language if person else self.notices.default_language) == "ar"

    def _say(self, key: str, ar: bool, **values: str) -> ButtonAnswer:
        return ButtonAnswer(ANSWERS[key][1 if ar else 0].format(**values))


def _when(view: ReservationView) -> dict[str, str]:
    return {"weekday": view.weekday, "weekday_ar": weekday(date.fromisoformat(view.date), "ar"), "date": view.date,
            "time": f"{view.time_slot} ({view.time_label})"}
