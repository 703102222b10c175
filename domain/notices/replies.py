"""A customer's press of a reminder's button (`r:<notice id>:confirm|reschedule|cancel`), answered.

The payload comes back as the customer's own message, so it is checked like one: the notice must exist, be a
reminder, and have been sent to the sender; another customer's reminder is "not found", never described. A
reminder whose booking moved, was cancelled or is over is outdated: the customer is told what they have now.
Confirm marks the booking confirmed, Cancel goes through the customer's own cancel (its rules, the late-cancel
mark), Reschedule hands the conversation to the customer's assistant with the booking named. Every answer is in
the customer's language; a press that cannot act changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock, system_clock
from domain.config import BookingSource, ClinicConfig
from domain.errors import DomainError
from domain.notices.buttons import ButtonAnswer, Press
from domain.notices.plans import recipients
from domain.notices.reminders import REMINDER_PURPOSES
from domain.notices.templates import REMINDER_ACTIONS, NoticeConfig, weekday
from domain.rules.identities import same_wa_id
from domain.rules.planning import ACTIVE
from domain.rules.schedule import is_upcoming
from domain.staff.roles import Signature, customer_signature
from domain.storage.database import Database
from domain.storage.models import Notice, Reservation

ANSWERS: dict[str, dict[str, str]] = {
    "not_found": {
        "en": "I could not find that reminder. If you have a question about your appointment, write to us here.",
        "ar": "لم أجد هذا التذكير. إن كان لديك سؤال عن موعدك فاكتب لنا هنا."},
    "garbled": {
        "en": "Sorry, I did not understand that button. Please write your request as a message.",
        "ar": "عذرًا، لم أفهم هذا الزر. من فضلك اكتب طلبك في رسالة."},
    "outdated": {
        "en": "This reminder is out of date: your appointment is now on {weekday} {date} at {time}.",
        "ar": "هذا التذكير لم يعد ساريًا: موعدك الآن يوم {weekday} {date} الساعة {time}."},
    "outdated_none": {
        "en": "This reminder is out of date: you have no upcoming appointment. Write to us here to book one.",
        "ar": "هذا التذكير لم يعد ساريًا: ليس لديك موعد قادم. اكتب لنا هنا لحجز موعد."},
    "confirmed": {
        "en": "Thank you, your appointment on {weekday} {date} at {time} is confirmed.",
        "ar": "شكرًا لك، تم تأكيد موعدك يوم {weekday} {date} الساعة {time}."},
    "cancelled": {
        "en": "Your appointment on {weekday} {date} at {time} is cancelled. Write to us here to book another time.",
        "ar": "تم إلغاء موعدك يوم {weekday} {date} الساعة {time}. اكتب لنا هنا لحجز موعد آخر."},
    "refused": {
        "en": "I could not do that: {reason}",
        "ar": "تعذّر ذلك: {reason}"},
    # Not sent: kept with the press, so that the customer's assistant reads which booking is to be moved.
    "reschedule": {
        "en": "I would like to reschedule my appointment on {weekday} {date} at {time} (booking #{id}).",
        "ar": "أرغب في تغيير موعدي يوم {weekday} {date} الساعة {time} (الحجز رقم {id})."},
}


class CancelsReservations(Protocol):
    async def cancel(self, wa_id: str | None = None, reservation_id: int | None = None, *,
                     source: BookingSource = BookingSource.AGENT, by: Signature | None = None) -> object: ...


class ConfirmsAttendance(Protocol):
    async def confirm_by_customer(self, wa_id: str, reservation_id: int) -> bool: ...


class ReminderReplies:
    """The `r` kind's `ButtonHandler`, and the polite answer to a press that is not one of ours."""

    def __init__(self, db: Database, clinic: ClinicConfig, config: NoticeConfig, reservations: CancelsReservations,
                 attendance: ConfirmsAttendance, clock: Clock = system_clock) -> None:
        self.db, self.clinic, self.config, self.clock = db, clinic, config, clock
        self.reservations, self.attendance = reservations, attendance

    async def __call__(self, wa_id: str, press: Press) -> ButtonAnswer:
        async with self.db.reading() as session:
            language = await self._language(session, wa_id)
            notice = await session.get(Notice, press.target)
            if notice is None or notice.purpose not in REMINDER_PURPOSES or not same_wa_id(notice.wa_id, wa_id):
                return ButtonAnswer(ANSWERS["not_found"][language])
            if press.action not in REMINDER_ACTIONS:
                return ButtonAnswer(ANSWERS["garbled"][language])
            booking = await self._current(session, notice, wa_id)
            if booking is None:
                return ButtonAnswer(await self._outdated(session, wa_id, language))
        return await self._act(wa_id, press.action, booking, language)

    async def garbled(self, wa_id: str) -> ButtonAnswer:
        """The answer to a press whose payload is not one of ours (or of a kind nobody handles)."""
        async with self.db.reading() as session:
            return ButtonAnswer(ANSWERS["garbled"][await self._language(session, wa_id)])

    async def _act(self, wa_id: str, action: str, booking: Reservation, language: str) -> ButtonAnswer:
        said = self._slot(booking.date, booking.time_slot, language) | {"id": str(booking.id)}
        if action == "reschedule":
            return ButtonAnswer(ANSWERS["reschedule"][language].format_map(said), start_turn=True)
        if action == "confirm":
            done = await self.attendance.confirm_by_customer(wa_id, booking.id)
            return ButtonAnswer(ANSWERS["confirmed" if done else "outdated_none"][language].format_map(said))
        try:
            await self.reservations.cancel(wa_id, booking.id, source=BookingSource.AGENT,
                                           by=customer_signature(booking.wa_id))
        except DomainError as error:
            return ButtonAnswer(ANSWERS["refused"][language].format(reason=error.message(ar=language == "ar")))
        return ButtonAnswer(ANSWERS["cancelled"][language].format_map(said))

    async def _current(self, session: AsyncSession, notice: Notice, wa_id: str) -> Reservation | None:
        """The reservation the reminder speaks of, if it is still the sender's, active at the reminder's date and
        time, and not over."""
        booking = await session.get(Reservation, notice.reservation_id) if notice.reservation_id else None
        if booking is None or not same_wa_id(booking.wa_id, wa_id) or booking.status != ACTIVE:
            return None
        if (booking.date, booking.time_slot) != (notice.slot_date, notice.slot_time):
            return None
        return booking if is_upcoming(self.clinic, booking.date, booking.time_slot, self.clock()) else None

    async def _outdated(self, session: AsyncSession, wa_id: str, language: str) -> str:
        """What the customer has now, in place of an outdated reminder's booking."""
        rows = await session.scalars(select(Reservation).where(Reservation.wa_id == wa_id, Reservation.status == ACTIVE)
                                     .order_by(Reservation.date, Reservation.time_slot))
        now = self.clock()
        upcoming = next((r for r in rows if is_upcoming(self.clinic, r.date, r.time_slot, now)), None)
        if upcoming is None:
            return ANSWERS["outdated_none"][language]
        return ANSWERS["outdated"][language].format_map(self._slot(upcoming.date, upcoming.time_slot, language))

    async def _language(self, session: AsyncSession, wa_id: str) -> str:
        person = (await recipients(session, self.config, [wa_id])).get(wa_id)
        return person.language if person is not None else self.config.default_language

    @staticmethod
    def _slot(day: date, slot: str, language: str) -> dict[str, str]:
        return {"weekday": weekday(day, language), "date": day.isoformat(), "time": slot}


__all__ = ["ANSWERS", "CancelsReservations", "ConfirmsAttendance", "ReminderReplies"]
