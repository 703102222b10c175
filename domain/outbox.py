"""The durable outbox of notices to customers: written in the transaction of the change that causes them, sent
once by a worker at the configured rate, settled by WhatsApp's answer and then by its delivery statuses.

A batch with `notify` plans its notices beside its changes (`domain.notice_plans`); the rows are inserted with
the batch's own rows (`queue_notices`), so a rolled-back batch queues nothing and a committed one loses nothing.

Sending (`NoticeOutbox`): a worker claims queued rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL), marking them
`sending` under a lease, and settles each with WhatsApp's answer: `sent` (with WhatsApp's id, and the notice
copied into the customer's conversation), back to `queued` after a backoff when trying later helps, or
`failed`. Every send carries the notice's id as `biz_opaque_callback_data`, which WhatsApp returns in the
message's statuses: a notice whose sender died between WhatsApp's acceptance and the settling is settled by
its first status, and sent again only when none has come `settle_seconds` after its lease ended.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock, system_clock
from domain.config import ClinicConfig
from domain.conversations import delivery_moves_forward
from domain.database import Database
from domain.models import ConversationMessage, Customer, DeliveryStatus, MessageRole, Notice, Reservation, SchedulerRun
from domain.notice_plans import NoticePlan, notice_values, recipients
from domain.notices import NoticeConfig, NoticePurpose
from domain.planning import ACTIVE, Booking
from domain.views import MessageView, message_view

CALLBACK_PREFIX = "notice:"
SETTLED = ("sent", "delivered", "read")
FINAL = ("sent", "delivered", "read", "failed", "skipped")
STATUSES = ("queued", "sending", "sent", "delivered", "read", "failed", "skipped")
_CHUNK = 500
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0


async def queue_notices(session: AsyncSession, config: NoticeConfig, plan: NoticePlan, batch_id: str | None,
                        now: datetime) -> int:
    """Insert the planned notices in the caller's transaction; how many."""
    rows = [{"batch_id": batch_id, "wa_id": n.wa_id, "purpose": n.purpose.value,
             "reservation_id": getattr(n.item, "reservation_id", None),
             "slot_date": n.slot[0] if n.slot else None, "slot_time": n.slot[1] if n.slot else None,
             "template": n.template, "language": n.language, "parameters": list(n.parameters),
             "text": n.text, "dedupe_key": None, "status": "queued", "attempts": 0, "available_at": now,
             "created_at": now, "updated_at": now} for n in plan.notices]
    for start in range(0, len(rows), _CHUNK):
        await session.execute(insert(Notice), rows[start:start + _CHUNK])
    return len(rows)


@dataclass(frozen=True)
class ClaimedNotice:
    """A notice a worker holds until its lease ends, with what WhatsApp is sent."""

    id: int
    wa_id: str
    template: str | None
    language: str
    parameters: tuple[str, ...]
    text: str
    attempts: int

    @property
    def callback_data(self) -> str:
        return f"{CALLBACK_PREFIX}{self.id}"


@dataclass(frozen=True)
class Settled:
    """A notice's new state after an attempt or a status, and its copy in the conversation (to broadcast)."""

    notice_id: int
    status: str
    message: MessageView | None = None
    batch_id: str | None = None


class NoticeOutbox:
    """Claims and settles the stored notices; queues the day-before reminders."""

    def __init__(self, db: Database, clinic: ClinicConfig, config: NoticeConfig, clock: Clock = system_clock) -> None:
        self.db, self.clinic, self.config, self.clock = db, clinic, config, clock

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.config.lease_seconds)

    async def claim(self, worker: str, limit: int) -> tuple[list[ClaimedNotice], list[Settled]]:
        """Up to `limit` notices ready to send, leased to `worker`; and those settled on the way without a send
        (a reminder gone stale, a customer who opted out or was blocked since, attempts spent)."""
        now = self.clock()
        unsure = now - timedelta(seconds=self.config.settle_seconds)
        ready = or_(and_(Notice.status == "queued", Notice.available_at <= now),
                    and_(Notice.status == "sending", Notice.lease_until <= unsure))
        query = select(Notice).where(ready).order_by(Notice.id).limit(limit)
        async with self.db.reading() as session:  # an idle poll takes no write lock
            if (await session.scalars(query.with_only_columns(Notice.id))).first() is None:
                return [], []
        claimed: list[ClaimedNotice] = []
        settled: list[Settled] = []
        async with self.db.unit_of_work() as session:
            notices = list(await session.scalars(query.with_for_update(skip_locked=True)))
            blocked = await _excluded(session, {n.wa_id for n in notices})
            today = now.astimezone(self.clinic.zone).date()
            stale = await _stale_reminders(session, [n for n in notices if n.purpose == NoticePurpose.REMINDER],
                                           today)
            for notice in notices:
                reason = blocked.get(notice.wa_id) or ("stale" if notice.id in stale else None)
                if reason is None and notice.attempts >= self.config.max_attempts:
                    reason = "attempts"
                if reason is not None:
                    _settle_unsent(notice, now, reason)
                    settled.append(Settled(notice.id, notice.status, batch_id=notice.batch_id))
                    continue
                notice.status, notice.worker, notice.lease_until = "sending", worker, now + self.lease
                notice.attempts += 1
                notice.updated_at = now
                claimed.append(ClaimedNotice(notice.id, notice.wa_id, notice.template, notice.language,
                                             tuple(notice.parameters), notice.text, notice.attempts))
        return claimed, settled

    async def sent_many(self, taken: Sequence[tuple[int, str]]) -> list[Settled]:
        """Several notices WhatsApp took (notice id, WhatsApp's id), settled in one transaction; one a status
        settled first is left as it is."""
        now = self.clock()
        async with self.db.unit_of_work() as session:
            found = {n.id: n for n in await session.scalars(
                select(Notice).where(Notice.id.in_([i for i, _ in taken])).with_for_update())}
            copies: list[tuple[Notice, ConversationMessage] | Settled] = []
            for notice_id, external_id in taken:
                notice = found.get(notice_id)
                if notice is None or notice.status in FINAL:
                    copies.append(Settled(notice_id, notice.status if notice else "missing"))
                else:
                    copies.append((notice, self._mark_sent(session, notice, external_id, now)))
            await session.flush()  # one round trip for every copy
            settled = []
            for copy in copies:
                if isinstance(copy, Settled):
                    settled.append(copy)
                    continue
                notice, message = copy
                notice.message_id = message.id
                settled.append(Settled(notice.id, "sent", message_view(self.clinic, message), notice.batch_id))
            return settled

    async def retry(self, notice_id: int, error: str, code: int | None, delay: float, counts: bool = True) -> Settled:
        """Queue the notice again after `delay` seconds; a refusal that only says "slow down" (`counts` False)
        does not use up an attempt."""
        now = self.clock()
        async with self.db.unit_of_work() as session:
            notice = await session.get(Notice, notice_id, with_for_update=True)
            if notice is None or notice.status != "sending":
                return Settled(notice_id, notice.status if notice else "missing")
            notice.status, notice.lease_until, notice.worker = "queued", None, None
            notice.available_at = now + timedelta(seconds=delay)
            notice.error, notice.error_code, notice.updated_at = error[:2000], code, now
            if not counts:
                notice.attempts -= 1
            return Settled(notice.id, notice.status, batch_id=notice.batch_id)

    async def failed(self, notice_id: int, error: str, code: int | None) -> Settled:
        """WhatsApp refused the notice for good: `failed`, shown failed in the customer's conversation."""
        now = self.clock()
        async with self.db.unit_of_work() as session:
            notice = await session.get(Notice, notice_id, with_for_update=True)
            if notice is None or notice.status in FINAL:
                return Settled(notice_id, notice.status if notice else "missing")
            notice.status, notice.lease_until, notice.error, notice.error_code = "failed", None, error[:2000], code
            notice.updated_at = now
            message = self._copy(session, notice, now, DeliveryStatus.FAILED, None)
            await session.flush()
            notice.message_id = message.id
            return Settled(notice.id, "failed", message_view(self.clinic, message), notice.batch_id)

    async def release(self, worker: str) -> int:
        """Give back the notices `worker` claimed and has not sent (at shutdown); the attempt does not count."""
        async with self.db.unit_of_work() as session:
            result = await session.execute(
                update(Notice).where(Notice.worker == worker, Notice.status == "sending")
                .values(status="queued", lease_until=None, worker=None, available_at=self.clock(),
                        attempts=Notice.attempts - 1))
            return int(getattr(result, "rowcount", 0) or 0)

    async def record_status(self, external_id: str, status: str, callback_data: str | None = None,
                            error: str | None = None, code: int | None = None) -> Settled | None:
        """A delivery status from WhatsApp's webhook: moves the notice forward (failed always wins). A status
        naming a notice that is still `sending` (its sender died before settling it) settles it as sent."""
        if status not in ("sent", "delivered", "read", "failed"):
            return None
        now = self.clock()
        async with self.db.unit_of_work() as session:
            notice = await session.scalar(select(Notice).where(Notice.external_id == external_id).with_for_update())
            if notice is None and (notice_id := _callback_id(callback_data)) is not None:
                notice = await session.get(Notice, notice_id, with_for_update=True)
                # Only a notice out for sending can have been sent without our knowing its id: a status naming
                # one never sent, or one sent as another message, is not about it.
                if notice is not None and (notice.external_id is not None or notice.status != "sending"):
                    return None
            if notice is None:
                return None
            copied = None
            if notice.status == "sending":
                copied = await self._sent(session, notice, external_id, now)
            if delivery_moves_forward(_delivery(notice.status), DeliveryStatus(status)):
                notice.status, notice.updated_at = status, now
                if status == "failed":
                    notice.error, notice.error_code = (error or "WhatsApp could not deliver it")[:2000], code
                if notice.message_id is not None:  # its copy in the conversation, in the same transaction
                    await session.execute(update(ConversationMessage).where(
                        ConversationMessage.id == notice.message_id).values(delivery_status=DeliveryStatus(status)))
            return Settled(notice.id, notice.status, copied.message if copied else None, notice.batch_id)

    async def _sent(self, session: AsyncSession, notice: Notice, external_id: str, now: datetime) -> Settled:
        message = self._mark_sent(session, notice, external_id, now)
        await session.flush()
        notice.message_id = message.id
        return Settled(notice.id, "sent", message_view(self.clinic, message), notice.batch_id)

    def _mark_sent(self, session: AsyncSession, notice: Notice, external_id: str, now: datetime) -> ConversationMessage:
        notice.status, notice.external_id, notice.sent_at, notice.lease_until = "sent", external_id, now, None
        notice.updated_at = now
        return self._copy(session, notice, now, DeliveryStatus.SENT, external_id)

    def _copy(self, session: AsyncSession, notice: Notice, now: datetime, status: DeliveryStatus,
              external_id: str | None) -> ConversationMessage:
        message = ConversationMessage(
            wa_id=notice.wa_id, role=MessageRole.SECRETARY, text=notice.text, timestamp=now, delivery_status=status,
            external_id=external_id, meta={"notice": {"id": notice.id, "purpose": notice.purpose,
                                                      "batch_id": notice.batch_id, "template": notice.template}})
        session.add(message)
        return message

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        """Seconds before trying again: what WhatsApp asked for, else exponential with jitter, capped."""
        if retry_after is not None:
            return retry_after
        delay: float = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** max(0, attempts - 1))
        return delay * random.uniform(0.5, 1.0)

    async def queue_reminders(self) -> int:
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
                return await self._queue_reminders(session, tomorrow, now)
        except IntegrityError:
            return 0

    async def _queue_reminders(self, session: AsyncSession, day: date, now: datetime) -> int:
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


async def _excluded(session: AsyncSession, wa_ids: set[str]) -> dict[str, str]:
    """The customers of `wa_ids` no notice may reach now, and why."""
    if not wa_ids:
        return {}
    rows = (await session.execute(select(Customer.wa_id, Customer.is_blocked, Customer.notices_opt_out)
                                  .where(Customer.wa_id.in_(sorted(wa_ids))))).all()
    return {w: "blocked" if b else "opted_out" for w, b, o in rows if b or o}


async def _stale_reminders(session: AsyncSession, reminders: list[Notice], today: date) -> set[int]:
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


def _settle_unsent(notice: Notice, now: datetime, reason: str) -> None:
    """A notice that will not be sent: skipped (blocked, opted out, stale) or failed (attempts spent, keeping
    the last refusal's words)."""
    words = {"blocked": "the customer is blocked", "opted_out": "the customer opted out of notices",
             "stale": "the reservation it spoke of was moved or cancelled, or its day has come"}
    if reason == "attempts":
        notice.status = "failed"
        notice.error = f"gave up after {notice.attempts} attempts: {notice.error or 'no answer from WhatsApp'}"
    else:
        notice.status, notice.error = "skipped", words[reason]
    notice.lease_until, notice.updated_at = None, now


def _callback_id(data: str | None) -> int | None:
    if not data or not data.startswith(CALLBACK_PREFIX):
        return None
    digits = data.removeprefix(CALLBACK_PREFIX)
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 12 else None


def _delivery(status: str) -> DeliveryStatus | None:
    return DeliveryStatus(status) if status in ("sent", "delivered", "read", "failed") else None


__all__ = ["ClaimedNotice", "NoticeOutbox", "Settled", "queue_notices"]
