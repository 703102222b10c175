"""ConversationService: the stored chat of each contact and the history a model sees."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError

from domain.clock import Clock, system_clock
from domain.config import ClinicConfig
from domain.database import Database
from domain.jobs import enqueue
from domain.models import ConversationMessage, DeliveryStatus, MessageRole
from domain.views import MessageView, message_view

ROLES = tuple(MessageRole)
# WhatsApp reports a sent message's progress; a late report never moves it back (failed always wins).
DELIVERY_RANK = {DeliveryStatus.PENDING: 0, DeliveryStatus.SENT: 1, DeliveryStatus.DELIVERED: 2, DeliveryStatus.READ: 3}
DELIVERY_STATES = frozenset(s.value for s in DeliveryStatus)
Audience = Literal["system", "customer"]


class ConversationService:
    """Append, page and replay conversation messages."""

    def __init__(self, db: Database, config: ClinicConfig, clock: Clock = system_clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock

    async def append(
        self,
        wa_id: str,
        role: MessageRole | str,
        text: str,
        *,
        delivery_status: DeliveryStatus | str | None = None,
        external_id: str | None = None,
        meta: dict[str, Any] | None = None,
        turn: str | None = None,
    ) -> MessageView | None:
        """Store a message; returns None when `external_id` was stored before (a redelivery). `role` and
        `delivery_status` may be given as their values. With `turn` (a job kind), the job that answers the
        message is queued in the same transaction (`domain.jobs`)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        delivery = None if delivery_status is None else DeliveryStatus(delivery_status)
        message = ConversationMessage(wa_id=wa_id, role=MessageRole(role), text=text, timestamp=self.clock(),
                                      delivery_status=delivery, external_id=external_id, meta=meta)
        try:
            async with self.db.unit_of_work() as session:
                session.add(message)
                await session.flush()
                if turn is not None:
                    enqueue(session, wa_id, turn, message.id, message.timestamp)
        except IntegrityError:
            if external_id is None:
                raise
            return None
        return message_view(self.config, message)

    async def answered_after(self, wa_id: str, message_id: int) -> bool:
        """Whether an assistant reply was stored after `message_id`: a turn run again after its process died
        has nothing to answer when the first attempt stored its reply. A confirmation the turn asked is a
        question, not a reply: the turn it belongs to was still running."""
        later = select(ConversationMessage.id).where(ConversationMessage.wa_id == wa_id,
                                                     ConversationMessage.role == MessageRole.ASSISTANT,
                                                     ConversationMessage.id > message_id, not_a_question()).limit(1)
        async with self.db.reading() as session:
            return await session.scalar(later) is not None

    async def set_delivery(self, message_id: int, status: DeliveryStatus,
                           external_id: str | None = None) -> MessageView:
        async with self.db.unit_of_work() as session:
            message = await session.get(ConversationMessage, message_id)
            if message is None:
                raise LookupError(f"no message {message_id}")
            message.delivery_status = status
            if external_id is not None:
                message.external_id = external_id
            return message_view(self.config, message)

    async def update_meta(self, message_id: int, changes: dict[str, Any]) -> MessageView:
        """Set keys of a stored message's meta (a confirmation's state, for example), keeping the others."""
        async with self.db.unit_of_work() as session:
            message = await session.get(ConversationMessage, message_id)
            if message is None:
                raise LookupError(f"no message {message_id}")
            message.meta = dict(message.meta or {}, **changes)
            return message_view(self.config, message)

    async def record_delivery(self, external_id: str, status: str) -> None:
        """WhatsApp's delivery report for the message it knows as `external_id`, if we sent it; a state this
        service does not track is ignored."""
        if status not in DELIVERY_STATES:
            return
        query = select(ConversationMessage).where(ConversationMessage.external_id == external_id)
        async with self.db.unit_of_work() as session:
            message = (await session.scalars(query)).first()
            if message is not None and delivery_moves_forward(message.delivery_status, DeliveryStatus(status)):
                message.delivery_status = DeliveryStatus(status)

    async def page(self, wa_id: str, *, before_id: int | None = None, limit: int = 50) -> list[MessageView]:
        """Up to `limit` messages older than `before_id` (newest page by default), oldest first."""
        query = select(ConversationMessage).where(ConversationMessage.wa_id == wa_id)
        if before_id is not None:
            query = query.where(ConversationMessage.id < before_id)
        query = query.order_by(ConversationMessage.id.desc()).limit(max(1, min(limit, 500)))
        async with self.db.reading() as session:
            rows = list(await session.scalars(query))
        return [message_view(self.config, m) for m in reversed(rows)]

    async def history_for_model(self, wa_id: str, audience: Audience | None = None) -> list[dict[str, str]]:
        """The last messages as model turns, oldest first, `tool` rows and confirmation questions skipped (the
        model saw a question's outcome as its tool's result), same roles merged.

        `audience` is the agent that reads them: by default the system agent for its own contact and
        the customer assistant for everyone else.
        """
        if audience is None:
            audience = "system" if wa_id == self.config.system_agent_wa_id else "customer"
        shared = audience == "customer" and wa_id == self.config.system_agent_wa_id
        query = (
            select(ConversationMessage.role, ConversationMessage.text, ConversationMessage.delivery_status)
            .where(ConversationMessage.wa_id == wa_id, ConversationMessage.role != MessageRole.TOOL, not_a_question())
            .order_by(ConversationMessage.id.desc()).limit(self.config.history_limit)
        )
        async with self.db.reading() as session:
            rows = list((await session.execute(query)))
        turns: list[dict[str, str]] = []
        for role, text, delivery in reversed(rows):
            # Someone writing on WhatsApp from the agent's own number shares its contact: that customer's
            # assistant sees only their messages and its own WhatsApp replies, never the operators' chat.
            if shared and role != MessageRole.USER and not (role == MessageRole.ASSISTANT and delivery is not None):
                continue
            if audience == "system" and delivery is not None:
                continue  # sent to WhatsApp: a customer assistant's reply, not the system agent's
            mapped = model_role(role, audience == "system")
            if mapped is None:
                continue
            if turns and turns[-1]["role"] == mapped:
                turns[-1]["content"] += "\n\n" + text
            else:
                turns.append({"role": mapped, "content": text})
        return turns


def not_a_question() -> ColumnElement[bool]:
    """A message that is not a confirmation question asked by a tool (`chat_bridge.confirmations`)."""
    kind = ConversationMessage.meta["kind"].as_string()
    return func.coalesce(kind, "") != "confirmation"


def model_role(role: MessageRole, system_chat: bool) -> str | None:
    """Customer chat: `user` is the user, the rest the assistant. System chat: the operator is the user,
    and a customer's WhatsApp message from the agent's number is none of the system agent's business."""
    if role == MessageRole.TOOL:
        return None
    if system_chat:
        return {MessageRole.SECRETARY: "user", MessageRole.ASSISTANT: "assistant"}.get(role)
    return "user" if role == MessageRole.USER else "assistant"


def delivery_moves_forward(current: DeliveryStatus | None, new: DeliveryStatus) -> bool:
    if new == DeliveryStatus.FAILED or current is None:
        return True
    return DELIVERY_RANK.get(new, -1) > DELIVERY_RANK.get(current, -1)
