"""The durable outbox of notices to customers: written in the transaction of the change that causes them, sent
once by a worker at the configured rate, settled by WhatsApp's answer and then by its delivery statuses.

A batch with `notify` plans its notices beside its changes (`domain.notice_plans`); the rows are inserted with
the batch's own rows (`queue_notices`), so a rolled-back batch queues nothing and a committed one loses nothing.

An agent's reply to a customer goes through the same outbox (`queue_reply`, in the transaction that stores
the reply): its send moves that message's delivery state instead of adding a copy.

Sending (`NoticeOutbox`): a worker claims queued rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL), marking them
`sending` under a lease. Before each request to WhatsApp leaves, it commits that the send began (`attempt`:
`attempted_at`, only while the row is still its own), then settles the notice with WhatsApp's answer: `sent`
(with WhatsApp's id, and the notice in the customer's conversation), back to `queued` after a backoff when
WhatsApp refused it for now, or `failed`. The Cloud API has no idempotency key, so a crash is judged by that
record, not by time: a notice whose dead holder never began its send is claimed again once its lease ends; one
whose send began is `unsure` (WhatsApp may have it) and is never sent again by itself. Every send carries the
notice's id as `biz_opaque_callback_data`, which WhatsApp returns in the message's statuses: the first status
naming a `sending` or `unsure` notice settles it. What no status settles, an operator decides (`resend`,
`dismiss`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.clock import Clock, system_clock
from domain.config import ClinicConfig
from domain.delivery import delivery_moves_forward
from domain.database import Database
from domain.models import ConversationMessage, Customer, DeliveryStatus, MessageRole, Notice
from domain.notice_plans import NoticePlan
from domain.errors import DomainError
from domain.notices import NoticeConfig, NoticePurpose, language_of
from domain.reminders import stale_reminders
from domain.views import MessageView, message_view

CALLBACK_PREFIX = "notice:"
# `unsure`: a send began (`attempted_at`) and no answer says whether WhatsApp took it; nothing sends it again by
# itself. `dismissed`: an operator chose not to send an unsure notice again.
STATUSES = ("queued", "sending", "unsure", "sent", "delivered", "read", "failed", "skipped", "dismissed")
OUT = ("sending", "unsure")  # may be with WhatsApp without our knowing its id: a status naming it settles it
FINAL = ("sent", "delivered", "read", "failed", "skipped", "dismissed")
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


async def queue_reply(session: AsyncSession, message: ConversationMessage, now: datetime) -> int:
    """Queue the WhatsApp send of `message`, an answer to the customer stored in the caller's transaction, and
    mark it pending; the outbox row's id. It goes as free text (it answers the customer's own message, so
    neither the notices' opt-out nor the 24-hour template applies), once however often it is queued."""
    if message.id is None:
        await session.flush()
    key = f"reply:{message.id}"
    queued = await session.scalar(select(Notice.id).where(Notice.dedupe_key == key))
    if queued is not None:
        return queued
    message.delivery_status = DeliveryStatus.PENDING
    notice = Notice(batch_id=None, wa_id=message.wa_id, purpose=NoticePurpose.REPLY.value, template=None,
                    language=language_of((message.text,), ""), parameters=[], text=message.text, dedupe_key=key,
                    status="queued", attempts=0, available_at=now, message_id=message.id, created_at=now,
                    updated_at=now)
    session.add(notice)
    await session.flush()
    return notice.id


@dataclass(frozen=True)
class ClaimedNotice:
    """A notice a worker holds until its lease ends, with what WhatsApp is sent; `attempts` counts this one."""

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
    """A notice's new state after an attempt or a status, and its message in the conversation (to broadcast)."""

    notice_id: int
    status: str
    message: MessageView | None = None
    batch_id: str | None = None


class NoticeOutbox:
    """Claims and settles the stored notices."""

    def __init__(self, db: Database, clinic: ClinicConfig, config: NoticeConfig, clock: Clock = system_clock) -> None:
        self.db, self.clinic, self.config, self.clock = db, clinic, config, clock

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.config.lease_seconds)

    async def claim(self, worker: str, limit: int) -> tuple[list[ClaimedNotice], list[Settled]]:
        """Up to `limit` notices ready to send, leased to `worker`; and those settled on the way without a send:
        a reminder gone stale, a customer who opted out or was blocked since, attempts spent, and a send whose
        sender died after it began (`unsure`). A notice whose dead holder never began its send is taken again."""
        now = self.clock()
        ready = or_(and_(Notice.status == "queued", Notice.available_at <= now),
                    and_(Notice.status == "sending", Notice.lease_until <= now))
        # A customer reads an assistant's replies in the order they were written: a reply waits while an earlier
        # reply to them is still to be sent (queued, backing off, or held by a sender, even a dead one whose lease
        # has not ended), so one claim holds at most one reply per customer.
        earlier = aliased(Notice)
        reply = NoticePurpose.REPLY.value
        waiting = exists().where(earlier.wa_id == Notice.wa_id, earlier.purpose == reply, earlier.id < Notice.id,
                                 earlier.status.in_(("queued", "sending")))
        query = (select(Notice).where(ready, or_(Notice.purpose != reply, ~waiting))
                 .order_by(Notice.id).limit(limit))
        async with self.db.reading() as session:  # an idle poll takes no write lock
            if (await session.scalars(query.with_only_columns(Notice.id))).first() is None:
                return [], []
        claimed: list[ClaimedNotice] = []
        settled: list[Settled] = []
        async with self.db.unit_of_work() as session:
            notices = list(await session.scalars(query.with_for_update(skip_locked=True)))
            reasons = await self._unsendable(session, notices, now)
            for notice in notices:
                if (reason := reasons.get(notice.id)) is not None:
                    _settle_unsent(notice, now, reason)
                    settled.append(Settled(notice.id, notice.status, batch_id=notice.batch_id))
                else:
                    claimed.append(self._lease_to(notice, worker, now))
            await _fail_replies(session, [n for n in notices if n.status in ("skipped", "failed")])
        return claimed, settled

    async def _unsendable(self, session: AsyncSession, notices: list[Notice], now: datetime) -> dict[int, str]:
        """Why each notice that must not be sent now is not (unsure, blocked, opted_out, stale, attempts)."""
        excluded = await _excluded(session, {n.wa_id for n in notices})
        stale = await stale_reminders(session, [n for n in notices if n.purpose == NoticePurpose.REMINDER],
                                       now.astimezone(self.clinic.zone).date())
        reasons: dict[int, str] = {}
        for notice in notices:
            barred = excluded.get(notice.wa_id)
            if notice.purpose == NoticePurpose.REPLY and barred == "opted_out":
                barred = None  # a reply answers the customer's own message: the opt-out is from notices
            # A send that began may have reached WhatsApp: never begun again by itself, whatever else holds.
            reason = ("unsure" if notice.attempted_at is not None else barred
                      or ("stale" if notice.id in stale else None)
                      or ("attempts" if notice.attempts >= self.config.max_attempts else None))
            if reason is not None:
                reasons[notice.id] = reason
        return reasons

    def _lease_to(self, notice: Notice, worker: str, now: datetime) -> ClaimedNotice:
        notice.status, notice.worker, notice.lease_until, notice.updated_at = "sending", worker, now + self.lease, now
        return ClaimedNotice(notice.id, notice.wa_id, notice.template, notice.language, tuple(notice.parameters),
                             notice.text, notice.attempts + 1)

    async def attempt(self, notice_id: int, worker: str) -> bool:
        """Record (committed) that `worker` begins sending the notice, before the request to WhatsApp leaves;
        False when it is no longer `worker`'s (its lease ran out and another took it): then it must not be
        sent. From here a crash leaves it `unsure`, never sent again by itself. The send gets a fresh lease."""
        now = self.clock()
        async with self.db.unit_of_work() as session:
            result = await session.execute(
                update(Notice).where(Notice.id == notice_id, Notice.status == "sending", Notice.worker == worker,
                                     Notice.attempted_at.is_(None))
                .values(attempted_at=now, attempts=Notice.attempts + 1, lease_until=now + self.lease, updated_at=now))
            return _count(result) == 1

    async def sent_many(self, taken: Sequence[tuple[int, str]]) -> list[Settled]:
        """Several notices WhatsApp took (notice id, WhatsApp's id), settled in one transaction; one a status
        settled first is left as it is."""
        now = self.clock()
        async with self.db.unit_of_work() as session:
            found = {n.id: n for n in await session.scalars(
                select(Notice).where(Notice.id.in_([i for i, _ in taken])).with_for_update())}
            await _load_replies(session, list(found.values()))
            settled: list[Settled] = []
            marked: list[tuple[Notice, ConversationMessage]] = []
            for notice_id, external_id in taken:
                notice = found.get(notice_id)
                if notice is None or notice.status in FINAL:
                    settled.append(Settled(notice_id, notice.status if notice else "missing"))
                else:
                    marked.append((notice, await self._mark_sent(session, notice, external_id, now)))
            await session.flush()  # one round trip for every copy
            for notice, message in marked:
                notice.message_id = message.id
                settled.append(Settled(notice.id, "sent", message_view(self.clinic, message), notice.batch_id))
            return settled

    async def retry(self, notice_id: int, worker: str, error: str, code: int | None, delay: float,
                    counts: bool = True) -> Settled:
        """WhatsApp did not take the notice from `worker`: queue it again after `delay` seconds; a refusal that
        only says "slow down" (`counts` False) does not use up an attempt."""
        now = self.clock()
        async with self.db.unit_of_work() as session:
            notice = await session.get(Notice, notice_id, with_for_update=True)
            if not _held_by(notice, worker):
                return Settled(notice_id, notice.status if notice else "missing")
            assert notice is not None
            _requeue(notice, now + timedelta(seconds=delay))
            notice.error, notice.error_code, notice.updated_at = error[:2000], code, now
            if not counts:
                notice.attempts -= 1
            return Settled(notice.id, notice.status, batch_id=notice.batch_id)

    async def failed(self, notice_id: int, worker: str, error: str, code: int | None) -> Settled:
        """WhatsApp refused the notice from `worker` for good: `failed`, shown failed in the conversation."""
        now = self.clock()
        async with self.db.unit_of_work() as session:
            notice = await session.get(Notice, notice_id, with_for_update=True)
            if not _held_by(notice, worker):
                return Settled(notice_id, notice.status if notice else "missing")
            assert notice is not None
            notice.status, notice.lease_until, notice.error, notice.error_code = "failed", None, error[:2000], code
            notice.updated_at = now
            message = await self._conversation_copy(session, notice, now, DeliveryStatus.FAILED, None)
            await session.flush()
            notice.message_id = message.id
            return Settled(notice.id, "failed", message_view(self.clinic, message), notice.batch_id)

    async def unsure(self, notice_id: int, worker: str, error: str) -> Settled:
        """The request left `worker` and no answer says whether WhatsApp took it: `unsure` until a status naming
        it settles it or an operator decides."""
        now = self.clock()
        async with self.db.unit_of_work() as session:
            notice = await session.get(Notice, notice_id, with_for_update=True)
            if not _held_by(notice, worker):
                return Settled(notice_id, notice.status if notice else "missing")
            assert notice is not None
            notice.status, notice.lease_until, notice.error, notice.updated_at = "unsure", None, error[:2000], now
            return Settled(notice.id, "unsure", batch_id=notice.batch_id)

    async def release(self, worker: str) -> int:
        """Give back the notices `worker` claimed and never began to send (at shutdown). One whose send began
        stays out: its status settles it, else it becomes `unsure`."""
        async with self.db.unit_of_work() as session:
            result = await session.execute(
                update(Notice).where(Notice.worker == worker, Notice.status == "sending",
                                     Notice.attempted_at.is_(None))
                .values(status="queued", lease_until=None, worker=None, available_at=self.clock()))
            return _count(result)

    async def resend(self, notice_id: int) -> Settled:
        """An operator's decision on an `unsure` notice: send it again now (the customer may get it twice)."""
        return await self._decide(notice_id, "queued")

    async def dismiss(self, notice_id: int) -> Settled:
        """An operator's decision on an `unsure` notice: send it no more (`dismissed`; it may or may not have
        arrived)."""
        return await self._decide(notice_id, "dismissed")

    async def _decide(self, notice_id: int, status: str) -> Settled:
        now = self.clock()
        async with self.db.unit_of_work() as session:
            notice = await session.get(Notice, notice_id, with_for_update=True) if 0 < notice_id < 2**31 else None
            if notice is None:
                raise DomainError("notice_not_found", id=notice_id)
            if notice.status != "unsure":
                raise DomainError("notice_not_unsure", id=notice_id, status=notice.status)
            if status == "queued":
                _requeue(notice, now)
                notice.attempts = 0  # the operator's send starts afresh, whatever the unsure one had used
            else:
                notice.status, notice.error = status, "an operator chose not to send it again"
            notice.updated_at = now
            return Settled(notice.id, notice.status, batch_id=notice.batch_id)

    async def record_status(self, external_id: str, status: str, callback_data: str | None = None,
                            error: str | None = None, code: int | None = None) -> Settled | None:
        """A delivery status from WhatsApp's webhook: moves the notice forward (failed always wins). A status
        naming a notice that is out (`sending` or `unsure`: its sender did not learn WhatsApp's answer) settles
        it as sent."""
        if status not in ("sent", "delivered", "read", "failed"):
            return None
        now = self.clock()
        async with self.db.unit_of_work() as session:
            notice = await session.scalar(select(Notice).where(Notice.external_id == external_id).with_for_update())
            if notice is None and (notice_id := _callback_id(callback_data)) is not None:
                notice = await session.get(Notice, notice_id, with_for_update=True)
                # Only a notice out for sending can have been sent without our knowing its id: a status naming
                # one never sent, or one sent as another message, is not about it.
                if notice is not None and (notice.external_id is not None or notice.status not in OUT):
                    return None
            if notice is None:
                return None
            copied = None
            if notice.status in OUT:
                copied = await self._sent(session, notice, external_id, now)
            if delivery_moves_forward(_delivery(notice.status), DeliveryStatus(status)):
                notice.status, notice.updated_at = status, now
                if status == "failed":
                    notice.error, notice.error_code = (error or "WhatsApp could not deliver it")[:2000], code
                if notice.message_id is not None:  # its message in the conversation, in the same transaction
                    await session.execute(update(ConversationMessage).where(
                        ConversationMessage.id == notice.message_id).values(delivery_status=DeliveryStatus(status)))
            return Settled(notice.id, notice.status, copied.message if copied else None, notice.batch_id)

    async def _sent(self, session: AsyncSession, notice: Notice, external_id: str, now: datetime) -> Settled:
        message = await self._mark_sent(session, notice, external_id, now)
        await session.flush()
        notice.message_id = message.id
        return Settled(notice.id, "sent", message_view(self.clinic, message), notice.batch_id)

    async def _mark_sent(self, session: AsyncSession, notice: Notice, external_id: str,
                         now: datetime) -> ConversationMessage:
        notice.status, notice.external_id, notice.sent_at, notice.lease_until = "sent", external_id, now, None
        notice.updated_at = now
        return await self._conversation_copy(session, notice, now, DeliveryStatus.SENT, external_id)

    async def _conversation_copy(self, session: AsyncSession, notice: Notice, now: datetime, status: DeliveryStatus,
                                 external_id: str | None) -> ConversationMessage:
        """The notice as the customer's conversation shows it: a reply is its own message, whose delivery moves;
        any other notice gets a copy."""
        if notice.purpose == NoticePurpose.REPLY and notice.message_id is not None:
            message = await session.get(ConversationMessage, notice.message_id)
            if message is not None:
                message.delivery_status = status
                message.external_id = external_id or message.external_id
                return message
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


async def _excluded(session: AsyncSession, wa_ids: set[str]) -> dict[str, str]:
    """The customers of `wa_ids` no notice may reach now, and why."""
    if not wa_ids:
        return {}
    rows = (await session.execute(select(Customer.wa_id, Customer.is_blocked, Customer.notices_opt_out)
                                  .where(Customer.wa_id.in_(sorted(wa_ids))))).all()
    return {w: "blocked" if b else "opted_out" for w, b, o in rows if b or o}


def _settle_unsent(notice: Notice, now: datetime, reason: str) -> None:
    """A notice that will not be sent now: unsure (its dead sender had begun the send), skipped (blocked, opted
    out, stale) or failed (attempts spent, keeping the last refusal's words)."""
    words = {"blocked": "the customer is blocked", "opted_out": "the customer opted out of notices",
             "stale": "the reservation it spoke of was moved or cancelled, or its day has come",
             "unsure": "its sender stopped after the send began: WhatsApp may have it"}
    if reason == "attempts":
        notice.status = "failed"
        notice.error = f"gave up after {notice.attempts} attempts: {notice.error or 'no answer from WhatsApp'}"
    else:
        notice.status, notice.error = "unsure" if reason == "unsure" else "skipped", words[reason]
    notice.lease_until, notice.updated_at = None, now


def _requeue(notice: Notice, available_at: datetime) -> None:
    """Back to `queued`, held by nobody and with no send begun, so that the next claim sends it afresh."""
    notice.status, notice.available_at, notice.attempted_at = "queued", available_at, None
    notice.lease_until, notice.worker = None, None


async def _load_replies(session: AsyncSession, notices: list[Notice]) -> None:
    """The messages the replies among `notices` send, loaded into the session in one statement."""
    ids = [n.message_id for n in notices if n.purpose == NoticePurpose.REPLY and n.message_id is not None]
    if ids:
        await session.execute(select(ConversationMessage).where(ConversationMessage.id.in_(ids)))


async def _fail_replies(session: AsyncSession, notices: list[Notice]) -> None:
    """The messages of replies that will not be sent show as failed (the notice says why)."""
    ids = [n.message_id for n in notices if n.purpose == NoticePurpose.REPLY and n.message_id is not None]
    if ids:
        await session.execute(update(ConversationMessage).where(ConversationMessage.id.in_(ids))
                              .values(delivery_status=DeliveryStatus.FAILED))


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _held_by(notice: Notice | None, worker: str) -> bool:
    """Whether `notice` is still out for sending by `worker` (a lease another worker took over is not)."""
    return notice is not None and notice.status in OUT and notice.worker == worker


def _callback_id(data: str | None) -> int | None:
    if not data or not data.startswith(CALLBACK_PREFIX):
        return None
    digits = data.removeprefix(CALLBACK_PREFIX)
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 12 else None


def _delivery(status: str) -> DeliveryStatus | None:
    return DeliveryStatus(status) if status in ("sent", "delivered", "read", "failed") else None


__all__ = ["ClaimedNotice", "NoticeOutbox", "Settled", "queue_notices", "queue_reply"]
