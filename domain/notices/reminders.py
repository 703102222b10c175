"""The day-before reminders: once the local reminder time has passed, each of tomorrow's active reservations gets
one reminder in the outbox. The evening's run is recorded (`scheduler_runs`) in the transaction that queues them,
so a restart or a second instance queues nothing more; a reminder whose reservation moved or was cancelled before
its send, or whose day has come, is stale and never sent."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock, system_clock
from domain.config import ClinicConfig
from domain.storage.database import Database
from domain.storage.models import Notice, Reservation, SchedulerRun
from domain.notices.plans import notice_values, recipients
from domain.notices.templates import NoticeConfig, NoticePurpose
from domain.rules.planning import ACTIVE, Booking

_CHUNK = 500


class DayBeforeReminders:
    """Queues the evening's reminders, once."""

    def __init__(self, db: Database, clinic: ClinicConfig, config: NoticeConfig, clock: Clock = system_clock) -> None:
        self.db, self.clinic, self.config, self.clock = db, clinic, config, clock

    async def queue(self) -> int:
        """Once the local reminder time has passed, the day-before reminders of tomorrow's active reservations,
        queued once (a second instance or a restart finds the day's run recorded and queues nothing)."""
        if self.config.reminder_time is None:
            return 0
        now = self.clock()
        local = now.astimezone(self.clinic.zone)
        if local.time() < self.config.reminder_time:
            return 0
        tomorrow = local.date() + timedelta(days=1)
        run = f"reminders:{tomorrow.isoformat()}"
        async with self.db.reading() as session:
            if await session.get(SchedulerRun, run) is not None:
                return 0
        try:
            async with self.db.unit_of_work() as session:
                session.add(SchedulerRun(name=run, ran_at=now))
                await session.flush()  # a second instance stops here: the day's run is taken
                return await self._queue(session, tomorrow, now)
        except IntegrityError:
            return 0

    async def _queue(self, session: AsyncSession, day: date, now: datetime) -> int:
        bookings = [Booking(r.id, r.wa_id, r.date, r.time_slot, r.type, r.status) for r in (await session.execute(
            select(Reservation.id, Reservation.wa_id, Reservation.date, Reservation.time_slot, Reservation.type,
                   Reservation.status).where(Reservation.date == day, Reservation.status == ACTIVE)
            .order_by(Reservation.time_slot, Reservation.id))).all()]
        people = await recipients(session, self.config, {b.wa_id for b in bookings})
        template = self.config.templates[NoticePurpose.REMINDER]
        rows = []
        for booking in bookings:
            person = people.get(booking.wa_id)
            if person is None or person.excluded:
                continue
            language = person.language if person.language in template.bodies else self.config.default_language
            values = notice_values(self.config, language, person.name, None, booking)
            rows.append({"batch_id": None, "wa_id": booking.wa_id, "purpose": NoticePurpose.REMINDER.value,
                         "reservation_id": booking.id, "slot_date": booking.date, "slot_time": booking.time_slot,
                         "template": template.name, "language": language,
                         "parameters": list(template.parameters(values)), "text": template.render(language, values),
                         "dedupe_key": f"reminder:{booking.id}:{booking.date.isoformat()}:{booking.time_slot}",
                         "status": "queued", "attempts": 0, "available_at": now, "created_at": now,
                         "updated_at": now})
        for start in range(0, len(rows), _CHUNK):
            await session.execute(insert(Notice), rows[start:start + _CHUNK])
        return len(rows)


async def stale_reminders(session: AsyncSession, reminders: list[Notice], today: date) -> set[int]:
    """The reminders whose reservation is no longer active at the date and time they speak of, or whose day has
    come (a reminder is for the day before)."""
    if not reminders:
        return set()
    ids = sorted({n.reservation_id for n in reminders if n.reservation_id is not None})
    current = {r.id: (r.date, r.time_slot, r.status) for r in (await session.execute(
        select(Reservation.id, Reservation.date, Reservation.time_slot, Reservation.status)
        .where(Reservation.id.in_(ids)))).all()}
    return {n.id for n in reminders if current.get(n.reservation_id or 0) != (n.slot_date, n.slot_time, ACTIVE)
            or n.slot_date is None or n.slot_date <= today}
