"""The worker that sends the outbox's notices (`domain.notices.outbox`) to WhatsApp, once, at the configured rate.

A worker claims queued rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL), marking them `sending` under a lease. Before
each request to WhatsApp leaves, it commits that the send began (`attempt`: `attempted_at`, only while the row is
still its own), then settles the notice with WhatsApp's answer: `sent` (with WhatsApp's id, and the notice in the
customer's conversation), back to `queued` after a backoff when WhatsApp refused it for now, or `failed`. The Cloud
API has no idempotency key, so a crash is judged by that record, not by time: a notice whose dead holder never
began its send is claimed again once its lease ends; one whose send began is `unsure` (WhatsApp may have it) and
is never sent again by itself; its status or an operator settles it (`domain.notices.statuses`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.clock import Clock, system_clock
from domain.config import ClinicConfig
from domain.notices.outbox import CALLBACK_PREFIX, FINAL, OUT, Settled, conversation_copy, mark_sent, requeue
from domain.notices.buttons import Button
from domain.notices.plans import last_messages, window_closes
from domain.notices.reminders import REMINDER_PURPOSES, stale_reminders
from domain.notices.templates import NoticeConfig, NoticePurpose
from domain.rules.delivery import DeliveryStatus
from domain.storage.database import Database
from domain.storage.models import ConversationMessage, Customer, Notice
from domain.views import message_view

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0


@dataclass(frozen=True)
class ClaimedNotice:
    """A notice a worker holds until its lease ends, with what WhatsApp is sent; `attempts` counts this one.
    `template` is None when the notice goes as free text (or an interactive message, with `buttons`): the
    customer wrote within WhatsApp's 24-hour window, as it stands at the claim."""

    id: int
    wa_id: str
    template: str | None
    language: str
    parameters: tuple[str, ...]
    text: str
    attempts: int
    buttons: tuple[Button, ...] = ()  # quick replies: a template's, or an interactive message's without one

    @property
    def callback_data(self) -> str:
        return f"{CALLBACK_PREFIX}{self.id}"


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
            last = await last_messages(session, {n.wa_id for n in notices if n.template is not None})
            for notice in notices:
                if (reason := reasons.get(notice.id)) is not None:
                    _settle_unsent(notice, now, reason)
                    settled.append(Settled(notice.id, notice.status, batch_id=notice.batch_id))
                else:
                    claimed.append(self._lease_to(notice, worker, now, window_closes(last.get(notice.wa_id), now)))
            await _fail_replies(session, [n for n in notices if n.status in ("skipped", "failed")])
        return claimed, settled

    async def _unsendable(self, session: AsyncSession, notices: list[Notice], now: datetime) -> dict[int, str]:
        """Why each notice that must not be sent now is not (unsure, blocked, opted_out, stale, attempts)."""
        excluded = await _excluded(session, {n.wa_id for n in notices})
        stale = await stale_reminders(session, [n for n in notices if n.purpose in REMINDER_PURPOSES],
                                       now.astimezone(self.clinic.zone))
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

    def _lease_to(self, notice: Notice, worker: str, now: datetime, window: datetime | None) -> ClaimedNotice:
        """The notice leased to `worker`; inside the customer's 24-hour window (open until `window`) it goes as free
        text or interactive, whatever its template."""
        notice.status, notice.worker, notice.lease_until, notice.updated_at = "sending", worker, now + self.lease, now
        buttons = tuple(Button(b["id"], b["title"]) for b in notice.buttons or [])
        return ClaimedNotice(notice.id, notice.wa_id, None if window else notice.template, notice.language,
                             tuple(notice.parameters), notice.text, notice.attempts + 1, buttons)

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
                    marked.append((notice, await mark_sent(session, notice, external_id, now)))
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
            notice = await _held(session, notice_id, worker)
            if isinstance(notice, Settled):
                return notice
            requeue(notice, now + timedelta(seconds=delay))
            notice.error, notice.error_code, notice.updated_at = error[:2000], code, now
            if not counts:
                notice.attempts -= 1
            return Settled(notice.id, notice.status, batch_id=notice.batch_id)

    async def failed(self, notice_id: int, worker: str, error: str, code: int | None) -> Settled:
        """WhatsApp refused the notice from `worker` for good: `failed`, shown failed in the conversation."""
        now = self.clock()
        async with self.db.unit_of_work() as session:
            notice = await _held(session, notice_id, worker)
            if isinstance(notice, Settled):
                return notice
            notice.status, notice.lease_until, notice.error, notice.error_code = "failed", None, error[:2000], code
            notice.updated_at = now
            message = await conversation_copy(session, notice, now, DeliveryStatus.FAILED, None)
            await session.flush()
            notice.message_id = message.id
            return Settled(notice.id, "failed", message_view(self.clinic, message), notice.batch_id)

    async def unsure(self, notice_id: int, worker: str, error: str) -> Settled:
        """The request left `worker` and no answer says whether WhatsApp took it: `unsure` until a status naming
        it settles it or an operator decides."""
        now = self.clock()
        async with self.db.unit_of_work() as session:
            notice = await _held(session, notice_id, worker)
            if isinstance(notice, Settled):
                return notice
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


async def _held(session: AsyncSession, notice_id: int, worker: str) -> Notice | Settled:
    """The notice, locked, while it is still out for sending by `worker`; else how it stands (a lease another
    worker took over, a notice settled meanwhile, or none)."""
    notice = await session.get(Notice, notice_id, with_for_update=True)
    if notice is None:
        return Settled(notice_id, "missing")
    return notice if notice.status in OUT and notice.worker == worker else Settled(notice_id, notice.status)
