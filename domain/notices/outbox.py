"""The outbox's rows: notices to customers written in the transaction of the change that causes them, and how a
sent one shows in the customer's conversation.

A batch with `notify` plans its notices beside its changes (`domain.notices.plans`); the rows are inserted with
the batch's own rows (`queue_notices`), so a rolled-back batch queues nothing and a committed one loses nothing.

An agent's reply to a customer goes through the same outbox (`queue_reply`, in the transaction that stores
the reply): its send moves that message's delivery state instead of adding a copy. The worker that sends them is
`domain.workers.outbox`; WhatsApp's statuses and an operator's decisions settle them in `domain.notices.statuses`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.notices.plans import NoticePlan, PlannedNotice
from domain.notices.quiet import is_soon, send_after
from domain.notices.templates import NoticeConfig, NoticePurpose, language_of
from domain.rules.delivery import DeliveryStatus
from domain.storage.models import ConversationMessage, MessageRole, Notice
from domain.views import MessageView

CALLBACK_PREFIX = "notice:"
# `unsure`: a send began (`attempted_at`) and no answer says whether WhatsApp took it; nothing sends it again by
# itself. `dismissed`: an operator chose not to send an unsure notice again.
STATUSES = ("queued", "sending", "unsure", "sent", "delivered", "read", "failed", "skipped", "dismissed")
OUT = ("sending", "unsure")  # may be with WhatsApp without our knowing its id: a status naming it settles it
FINAL = ("sent", "delivered", "read", "failed", "skipped", "dismissed")
_CHUNK = 500


async def queue_notices(session: AsyncSession, config: NoticeConfig, plan: NoticePlan, batch_id: str | None,
                        now: datetime, zone: tzinfo | None = None) -> int:
    """Insert the planned notices in the caller's transaction; how many. Inside quiet hours (in the clinic's
    `zone`, by default the config's) a notice that is not urgent waits until they end (`domain.notices.quiet`)."""
    zone = zone or config.zone
    rows = [{"batch_id": batch_id, "wa_id": n.wa_id, "purpose": n.purpose.value,
             "reservation_id": getattr(n.item, "reservation_id", None),
             "slot_date": n.slot[0] if n.slot else None, "slot_time": n.slot[1] if n.slot else None,
             "template": n.template, "language": n.language, "parameters": list(n.parameters),
             "text": n.text, "dedupe_key": None, "status": "queued", "attempts": 0,
             "available_at": send_after(config, zone, now, is_urgent(config, zone, now, n)),
             "created_at": now, "updated_at": now} for n in plan.notices]
    for start in range(0, len(rows), _CHUNK):
        await session.execute(insert(Notice), rows[start:start + _CHUNK])
    return len(rows)


def is_urgent(config: NoticeConfig, zone: tzinfo, now: datetime, notice: PlannedNotice) -> bool:
    """A cancellation or move of a booking for today (or tomorrow before the quiet hours end): it cannot wait."""
    if notice.purpose not in (NoticePurpose.CANCELLED, NoticePurpose.MOVED):
        return False
    slots = [getattr(getattr(notice.item, side, None), "slot", None) for side in ("before", "after")]
    return any(is_soon(config, zone, now, slot) for slot in [notice.slot, *slots])


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
    notice = Notice(**reply_notice(message.wa_id, message.id, message.text, now))
    session.add(notice)
    await session.flush()
    return notice.id


def reply_notice(wa_id: str, message_id: int, text: str, now: datetime) -> dict[str, Any]:
    """The outbox row that sends the new message `message_id` (stored pending) to the customer `wa_id`."""
    return {"batch_id": None, "wa_id": wa_id, "purpose": NoticePurpose.REPLY.value, "template": None,
            "language": language_of((text,), ""), "parameters": [], "text": text, "dedupe_key": f"reply:{message_id}",
            "status": "queued", "attempts": 0, "available_at": now, "message_id": message_id, "created_at": now,
            "updated_at": now}


@dataclass(frozen=True)
class Settled:
    """A notice's new state after an attempt or a status, and its message in the conversation (to broadcast)."""

    notice_id: int
    status: str
    message: MessageView | None = None
    batch_id: str | None = None


async def mark_sent(session: AsyncSession, notice: Notice, external_id: str, now: datetime) -> ConversationMessage:
    """Settle `notice` as sent with WhatsApp's id; its message in the conversation."""
    notice.status, notice.external_id, notice.sent_at, notice.lease_until = "sent", external_id, now, None
    notice.updated_at = now
    return await conversation_copy(session, notice, now, DeliveryStatus.SENT, external_id)


async def conversation_copy(session: AsyncSession, notice: Notice, now: datetime, status: DeliveryStatus,
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


def requeue(notice: Notice, available_at: datetime) -> None:
    """Back to `queued`, held by nobody and with no send begun, so that the next claim sends it afresh."""
    notice.status, notice.available_at, notice.attempted_at = "queued", available_at, None
    notice.lease_until, notice.worker = None, None


def callback_id(data: str | None) -> int | None:
    """The notice id a status's callback data names, or None for anything else."""
    if not data or not data.startswith(CALLBACK_PREFIX):
        return None
    digits = data.removeprefix(CALLBACK_PREFIX)
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 12 else None


def delivery_of(status: str) -> DeliveryStatus | None:
    """The delivery state a notice's status stands for, if any."""
    return DeliveryStatus(status) if status in ("sent", "delivered", "read", "failed") else None
