"""The reminders, each with Confirm / Reschedule / Cancel buttons: the day before (once the local reminder time has
passed, each of tomorrow's active reservations gets one), and optionally the same day, some hours before the slot.

Each run is recorded (`scheduler_runs`: the evening's, or one slot's same-day run) in the transaction that queues
its reminders, so a restart or a second instance queues nothing more. A reminder's buttons name its own notice
(`r:<notice id>:<action>`), so they are set once its row is inserted, in the same transaction. A reminder whose
reservation moved or was cancelled before its send, or whose moment has passed (the day has come for the
day-before one, the slot has begun for the same-day one), is stale and never sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock, system_clock
from domain.config import ClinicConfig
from domain.notices.buttons import REMINDER, Button, payload
from domain.notices.plans import notice_values, recipients
from domain.notices.quiet import send_after
from domain.notices.templates import NoticeConfig, NoticePurpose, NoticeTemplate
from domain.rules.schedule import slot_start
from domain.rules.planning import ACTIVE, Booking
from domain.storage.database import Database
from domain.storage.models import Notice, Reservation, SchedulerRun

_CHUNK = 500
REMINDER_PURPOSES = (NoticePurpose.REMINDER.value, NoticePurpose.SAME_DAY.value)
_INSERT = insert(Notice).returning(Notice.id, sort_by_parameter_order=True)


def reminder_buttons(template: NoticeTemplate, language: str, notice_id: int) -> list[Button]:
    """The reminder's Confirm / Reschedule / Cancel, in `language`, naming the notice `notice_id`."""
    return [Button(payload(REMINDER, notice_id, action), title) for action, title in template.button_titles(language)]


class DayBeforeReminders:
    """Queues the reminders, once each: the evening's for tomorrow, and the same-day ones when configured."""

    def __init__(self, db: Database, clinic: ClinicConfig, config: NoticeConfig, clock: Clock = system_clock) -> None:
        self.db, self.clinic, self.config, self.clock = db, clinic, config, clock

    async def queue(self) -> int:
        """The reminders whose time has come, queued once (a second instance or a restart finds the run recorded
        and queues nothing); how many."""
        return await self._day_before() + await self._same_day()

    async def _day_before(self) -> int:
        if self.config.reminder_time is None:
            return 0
        local = self.clock().astimezone(self.clinic.zone)
        if local.time() < self.config.reminder_time:
            return 0
        tomorrow = local.date() + timedelta(days=1)
        return await self._run(f"reminders:{tomorrow.isoformat()}", NoticePurpose.REMINDER, tomorrow, None)

    async def _same_day(self) -> int:
        """Each of today's slots whose reminder time (`same_day_hours` before it) has come and which has not begun."""
        if self.config.same_day_hours is None:
            return 0
        local = self.clock().astimezone(self.clinic.zone)
        ahead = timedelta(hours=self.config.same_day_hours)
        queued = 0
        for slot in await self._slots_of(local.date()):
            start = slot_start(self.clinic, local.date(), slot)
            if start - ahead <= local < start:
                queued += await self._run(f"same_day:{local.date().isoformat()}:{slot}", NoticePurpose.SAME_DAY,
                                          local.date(), slot)
        return queued

    async def _slots_of(self, day: date) -> list[str]:
        async with self.db.reading() as session:
            return list(await session.scalars(select(Reservation.time_slot).distinct()
                                              .where(Reservation.date == day, Reservation.status == ACTIVE)))

    async def _run(self, run: str, purpose: NoticePurpose, day: date, slot: str | None) -> int:
        """The run `run`'s reminders, queued with its record: none if it is recorded already."""
        async with self.db.reading() as session:
            if await session.get(SchedulerRun, run) is not None:
                return 0
        now = self.clock()
        try:
            async with self.db.unit_of_work() as session:
                session.add(SchedulerRun(name=run, ran_at=now))
                await session.flush()  # a second instance stops here: the run is taken
                return await self._queue(session, purpose, await _bookings(session, day, slot), now)
        except IntegrityError:
            return 0

    async def _queue(self, session: AsyncSession, purpose: NoticePurpose, bookings: list[Booking],
                     now: datetime) -> int:
        people = await recipients(session, self.config, {b.wa_id for b in bookings})
        template = self.config.templates[purpose]
        rows = []
        for booking in bookings:
            person = people.get(booking.wa_id)
            if person is None or person.excluded:
                continue
            language = person.language if person.language in template.bodies else self.config.default_language
            rows.append(self._row(purpose, template, booking, language, person.name, now))
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start:start + _CHUNK]
            ids = list((await session.scalars(_INSERT, chunk)).all())
            await _set_buttons(session, template, chunk, ids)
        return len(rows)

    def _row(self, purpose: NoticePurpose, template: NoticeTemplate, booking: Booking, language: str,
             name: str | None, now: datetime) -> dict[str, Any]:
        values = notice_values(self.config, language, name, None, booking)
        return {"batch_id": None, "wa_id": booking.wa_id, "purpose": purpose.value, "reservation_id": booking.id,
                "slot_date": booking.date, "slot_time": booking.time_slot, "template": template.name,
                "language": language, "parameters": list(template.parameters(values)),
                "text": template.render(language, values),
                "dedupe_key": f"{purpose.value}:{booking.id}:{booking.date.isoformat()}:{booking.time_slot}",
                "status": "queued", "attempts": 0, "available_at": self._available_at(purpose, booking, now),
                "created_at": now, "updated_at": now}

    def _available_at(self, purpose: NoticePurpose, booking: Booking, now: datetime) -> datetime:
        """After the quiet hours, unless waiting for their end would make the reminder stale (a reminder time
        set inside them): then at once."""
        held = send_after(self.config, self.clinic.zone, now, urgent=False)
        local = held.astimezone(self.clinic.zone)
        if purpose is NoticePurpose.SAME_DAY:
            late = held >= slot_start(self.clinic, booking.date, booking.time_slot)
        else:
            late = local.date() >= booking.date
        return now if late else held


async def _bookings(session: AsyncSession, day: date, slot: str | None) -> list[Booking]:
    """The active reservations of `day` (of its `slot` only, when given), in slot order."""
    query = (select(Reservation.id, Reservation.wa_id, Reservation.date, Reservation.time_slot, Reservation.type,
                    Reservation.status).where(Reservation.date == day, Reservation.status == ACTIVE)
             .order_by(Reservation.time_slot, Reservation.id))
    if slot is not None:
        query = query.where(Reservation.time_slot == slot)
    return [Booking(*row) for row in (await session.execute(query)).all()]


async def _set_buttons(session: AsyncSession, template: NoticeTemplate, rows: Sequence[dict[str, Any]],
                       ids: Sequence[int]) -> None:
    """Each new reminder's buttons, which name its id (known only once inserted)."""
    changes = [{"id": id_, "buttons": [b.stored() for b in reminder_buttons(template, row["language"], id_)]}
               for row, id_ in zip(rows, ids, strict=True)]
    if changes:
        await session.execute(update(Notice), changes)


async def stale_reminders(session: AsyncSession, reminders: list[Notice], local_now: datetime) -> set[int]:
    """The reminders whose reservation is no longer active at the date and time they speak of, or whose moment
    has passed: the day has come for a day-before reminder, the slot has begun for a same-day one (`local_now`
    is the clinic's wall clock)."""
    if not reminders:
        return set()
    ids = sorted({n.reservation_id for n in reminders if n.reservation_id is not None})
    current = {r.id: (r.date, r.time_slot, r.status) for r in (await session.execute(
        select(Reservation.id, Reservation.date, Reservation.time_slot, Reservation.status)
        .where(Reservation.id.in_(ids)))).all()}
    return {n.id for n in reminders if current.get(n.reservation_id or 0) != (n.slot_date, n.slot_time, ACTIVE)
            or _passed(n, local_now)}


def _passed(notice: Notice, local_now: datetime) -> bool:
    if notice.slot_date is None or notice.slot_time is None:
        return True
    if notice.purpose == NoticePurpose.SAME_DAY:
        return datetime.combine(notice.slot_date, time.fromisoformat(notice.slot_time)) <= local_now.replace(tzinfo=None)
    return notice.slot_date <= local_now.date()
