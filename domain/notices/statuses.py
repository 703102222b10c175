"""How a sent notice is settled after its send: WhatsApp's delivery statuses, and an operator's decision on one whose
send may or may not have reached WhatsApp (`unsure`).

Every send carries the notice's id as `biz_opaque_callback_data`, which WhatsApp returns in the message's statuses:
the first status naming a `sending` or `unsure` notice settles it. What no status settles, an operator decides
(`resend`, `dismiss`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock, system_clock
from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.notices.outbox import OUT, Settled, callback_id, delivery_of, mark_sent, requeue
from domain.rules.delivery import DeliveryStatus, delivery_moves_forward
from domain.staff.audit import AuditEvent, AuditLog
from domain.staff.roles import Signature
from domain.storage.database import Database
from domain.storage.models import ConversationMessage, Notice
from domain.views import message_view


class NoticeStatuses:
    """Settles stored notices by WhatsApp's statuses and by operators' decisions."""

    def __init__(self, db: Database, clinic: ClinicConfig, clock: Clock = system_clock) -> None:
        self.db, self.clinic, self.clock = db, clinic, clock
        self.audit = AuditLog(db, clinic, clock)

    async def resend(self, notice_id: int, by: Signature = Signature("operator")) -> Settled:
        """An operator's decision on an `unsure` notice: send it again now (the customer may get it twice)."""
        return await self._decide(notice_id, "queued", by)

    async def dismiss(self, notice_id: int, by: Signature = Signature("operator")) -> Settled:
        """An operator's decision on an `unsure` notice: send it no more (`dismissed`; it may or may not have
        arrived)."""
        return await self._decide(notice_id, "dismissed", by)

    async def _decide(self, notice_id: int, status: str, by: Signature) -> Settled:
        now = self.clock()
        async with self.db.unit_of_work() as session:
            notice = await session.get(Notice, notice_id, with_for_update=True) if 0 < notice_id < 2**31 else None
            if notice is None:
                raise DomainError("notice_not_found", id=notice_id)
            if notice.status != "unsure":
                raise DomainError("notice_not_unsure", id=notice_id, status=notice.status)
            if status == "queued":
                requeue(notice, now)
                notice.attempts = 0  # the operator's send starts afresh, whatever the unsure one had used
            else:
                notice.status, notice.error = status, "an operator chose not to send it again"
            notice.updated_at = now
            self.audit.add(session, AuditEvent(actor=by.actor, role=by.role, target=str(notice.id),
                                               action="notice resend" if status == "queued" else "notice dismiss"))
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
            if notice is None and (notice_id := callback_id(callback_data)) is not None:
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
            if delivery_moves_forward(delivery_of(notice.status), DeliveryStatus(status)):
                notice.status, notice.updated_at = status, now
                if status == "failed":
                    notice.error, notice.error_code = (error or "WhatsApp could not deliver it")[:2000], code
                if notice.message_id is not None:  # its message in the conversation, in the same transaction
                    await session.execute(update(ConversationMessage).where(
                        ConversationMessage.id == notice.message_id).values(delivery_status=DeliveryStatus(status)))
            return Settled(notice.id, notice.status, copied.message if copied else None, notice.batch_id)

    async def _sent(self, session: AsyncSession, notice: Notice, external_id: str, now: datetime) -> Settled:
        message = await mark_sent(session, notice, external_id, now)
        await session.flush()
        notice.message_id = message.id
        return Settled(notice.id, "sent", message_view(self.clinic, message), notice.batch_id)
