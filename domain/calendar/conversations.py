"""ConversationService: the stored chat of each contact and the history a model sees."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Row, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.clock import Clock, system_clock
from domain.config import ClinicConfig
from domain.storage.database import Database, lock_exclusively, lock_key
from domain.storage.group_commit import GroupCommit
from domain.rules.delivery import DELIVERY_STATES, delivery_moves_forward
from domain.workers.jobs import job_row
from domain.rules.delivery import DeliveryStatus
from domain.storage.models import AgentJob, ConversationMessage, MessageRole, Notice
from domain.notices.outbox import queue_reply, reply_notice
from domain.calendar.pending_confirmations import Question, add_question
from domain.views import MessageView, message_row_view, message_view

ROLES = tuple(MessageRole)
Audience = Literal["system", "customer"]
# Whose messages each agent answers: the operators' (system agent) or the customer's (their assistant).
PROMPT_ROLE: dict[Audience, MessageRole] = {"system": MessageRole.SECRETARY, "customer": MessageRole.USER}
ANSWERS_KEPT = 100  # the ids a reply lists in its meta (for the console); `answers_through` bounds them all


@dataclass(frozen=True)
class _Append:
    """A message to store, and what is queued with it (see `ConversationService.append`)."""

    wa_id: str
    role: MessageRole
    text: str
    timestamp: datetime
    delivery_status: DeliveryStatus | None
    external_id: str | None
    meta: dict[str, Any] | None
    turn: str | None
    send: bool
    question: Question | None


_INSERT_MESSAGES = insert(ConversationMessage).returning(ConversationMessage.id, sort_by_parameter_order=True)


async def _store(session: AsyncSession, appends: Sequence[_Append]) -> list[int]:
    """The messages `appends`, each with its job, send and question, in the caller's transaction: their ids.
    Rows, not objects: a group of fifty is a few statements."""
    rows = [{"wa_id": a.wa_id, "role": a.role, "text": a.text, "timestamp": a.timestamp, "meta": a.meta,
             "delivery_status": DeliveryStatus.PENDING if a.send else a.delivery_status, "external_id": a.external_id}
            for a in appends]
    ids = list((await session.scalars(_INSERT_MESSAGES, rows)).all())
    if jobs := [job_row(a.wa_id, a.turn, id_, a.timestamp) for a, id_ in zip(appends, ids, strict=True)
                if a.turn is not None]:
        await session.execute(insert(AgentJob), jobs)
    if sends := [reply_notice(a.wa_id, id_, a.text, a.timestamp) for a, id_ in zip(appends, ids, strict=True)
                 if a.send]:
        await session.execute(insert(Notice), sends)
    for append, id_ in zip(appends, ids, strict=True):
        if append.question is not None:
            add_question(session, append.question, append.wa_id, id_, append.timestamp)
    return ids


class ConversationService:
    """Append, page and replay conversation messages."""

    def __init__(self, db: Database, config: ClinicConfig, clock: Clock = system_clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        # Messages stored at once (a burst of operators or customers) commit together.
        self._appends = GroupCommit(db, _store)

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
        send: bool = False,
        question: Question | None = None,
    ) -> MessageView | None:
        """Store a message; returns None when `external_id` was stored before (a redelivery). `role` and
        `delivery_status` may be given as their values. With `turn` (a job kind), the job that answers the
        message is queued in the same transaction (`domain.workers.jobs`); with `send`, its WhatsApp send is queued in
        the outbox in the same transaction (`domain.notices.outbox.queue_reply`); with `question`, the message asks that
        confirmation, pending from the same transaction on (`domain.calendar.pending_confirmations`)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        delivery = None if delivery_status is None else DeliveryStatus(delivery_status)
        message = _Append(wa_id, MessageRole(role), text, self.clock(), delivery, external_id, meta, turn, send,
                          question)
        try:
            id_ = await self._appends(message)
        except IntegrityError:
            if external_id is None:
                raise
            return None
        return message_row_view(self.config, id_, wa_id, message.role, text, message.timestamp,
                                DeliveryStatus.PENDING if send else delivery, meta)

    async def reply(self, wa_id: str, role: MessageRole | str, text: str, answers: Sequence[int], *,
                    delivery_status: DeliveryStatus | str | None = None, meta: dict[str, Any] | None = None,
                    send: bool = False) -> MessageView | None:
        """Store a reply to the messages `answers` (ids of one audience's prompts, as `turn_context` gave them);
        None when another reply answered any of them first (a turn run twice after a lost lease, or an operator
        who answered meanwhile): a message is answered once. Replies of one conversation are stored one at a
        time (SQLite's write lock; a conversation's advisory lock on PostgreSQL). `send`: its WhatsApp send is
        queued in the outbox in the same transaction (pending until sent), so a crash neither loses nor
        repeats it."""
        if not answers:
            raise ValueError("a reply answers at least one message")
        delivery = None if delivery_status is None else DeliveryStatus(delivery_status)
        now = self.clock()
        async with self.db.unit_of_work() as session:
            await lock_exclusively(session, lock_key("conversation", wa_id))
            prompt_role = await session.scalar(select(ConversationMessage.role).where(
                ConversationMessage.id == max(answers), ConversationMessage.wa_id == wa_id))
            if prompt_role is None or await _answered_through(session, wa_id, prompt_role) >= min(answers):
                return None
            message = ConversationMessage(
                wa_id=wa_id, role=MessageRole(role), text=text, timestamp=now, delivery_status=delivery,
                meta=dict(meta or {}, answers=sorted(answers)[-ANSWERS_KEPT:]), answers_through=max(answers))
            session.add(message)
            await session.flush()
            if send:
                await queue_reply(session, message, now)
        return message_view(self.config, message)

    async def open_prompts(self, wa_id: str, audience: Audience | None = None) -> list[int]:
        """The ids of `audience`'s messages in this conversation that no reply has answered yet, oldest first."""
        prompt = PROMPT_ROLE[self._audience(wa_id, audience)]
        async with self.db.reading() as session:
            return await _open_prompts(session, wa_id, prompt)

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

    async def received(self, external_id: str) -> bool:
        """Whether a message WhatsApp knows as `external_id` is stored (a redelivery is handled once)."""
        async with self.db.reading() as session:
            found = await session.scalar(select(ConversationMessage.id)
                                         .where(ConversationMessage.external_id == external_id))
        return found is not None

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
        m = ConversationMessage
        query = select(m.id, m.wa_id, m.role, m.text, m.timestamp, m.delivery_status, m.meta).where(m.wa_id == wa_id)
        if before_id is not None:
            query = query.where(m.id < before_id)
        query = query.order_by(m.id.desc()).limit(max(1, min(limit, 500)))
        # One short read on a plain connection: a sidebar (or a client polling) reads pages often.
        rows = await self.db.read(lambda connection: connection.execute(query).all())
        return [message_row_view(self.config, *row) for row in reversed(rows)]

    async def history_for_model(self, wa_id: str, audience: Audience | None = None) -> list[dict[str, str]]:
        """The model turns of `turn_context`."""
        return (await self.turn_context(wa_id, audience)).history

    async def turn_context(self, wa_id: str, audience: Audience | None = None) -> TurnContext:
        """What a turn of `audience`'s agent answers: the messages no reply has answered yet, and the last
        messages as model turns, oldest first, `tool` rows and confirmation questions skipped (the model saw a
        question's outcome as its tool's result), same roles merged. A reply stands right after the newest
        message it answered, so messages written while it was being made come after it, still to answer.

        `audience` is the agent that reads them: by default the system agent for its own contact and
        the customer assistant for everyone else.
        """
        audience = self._audience(wa_id, audience)
        query = (
            select(ConversationMessage.id, ConversationMessage.role, ConversationMessage.text,
                   ConversationMessage.delivery_status, ConversationMessage.answers_through)
            .where(ConversationMessage.wa_id == wa_id, ConversationMessage.role != MessageRole.TOOL, not_a_question())
            .order_by(ConversationMessage.id.desc()).limit(self.config.history_limit)
        )
        async with self.db.reading() as session:
            rows = list((await session.execute(query)))
            open_ids = await _open_prompts(session, wa_id, PROMPT_ROLE[audience])
        rows.sort(key=lambda row: (row.id, 0) if row.answers_through is None else (row.answers_through, 1))
        shared = audience == "customer" and wa_id == self.config.system_agent_wa_id
        return TurnContext(_model_turns(rows, audience, shared), tuple(open_ids))

    def _audience(self, wa_id: str, audience: Audience | None) -> Audience:
        if audience is not None:
            return audience
        return "system" if wa_id == self.config.system_agent_wa_id else "customer"


@dataclass(frozen=True)
class TurnContext:
    """The history a model reads and the ids of the messages its reply will answer (none: nothing to answer)."""

    history: list[dict[str, str]]
    open_ids: tuple[int, ...]


def _model_turns(rows: Sequence[Row[int, MessageRole, str, DeliveryStatus | None, int | None]], audience: Audience, shared: bool) -> list[dict[str, str]]:
    turns: list[dict[str, str]] = []
    for row in rows:
        # Someone writing on WhatsApp from the agent's own number shares its contact: that customer's
        # assistant sees only their messages and its own WhatsApp replies, never the operators' chat.
        if shared and row.role != MessageRole.USER and not (row.role == MessageRole.ASSISTANT
                                                            and row.delivery_status is not None):
            continue
        if audience == "system" and row.delivery_status is not None:
            continue  # sent to WhatsApp: a customer assistant's reply, not the system agent's
        mapped = model_role(row.role, audience == "system")
        if mapped is None:
            continue
        if turns and turns[-1]["role"] == mapped:
            turns[-1]["content"] += "\n\n" + row.text
        else:
            turns.append({"role": mapped, "content": row.text})
    return turns


async def _answered_through(session: AsyncSession, wa_id: str, prompt: MessageRole) -> int:
    """The newest of the conversation's `prompt` messages that a reply answered (0: none)."""
    answered = aliased(ConversationMessage)
    newest = await session.scalar(
        select(func.max(ConversationMessage.answers_through))
        .join(answered, answered.id == ConversationMessage.answers_through)
        .where(ConversationMessage.wa_id == wa_id, answered.role == prompt))
    return int(newest or 0)


async def _open_prompts(session: AsyncSession, wa_id: str, prompt: MessageRole) -> list[int]:
    mark = await _answered_through(session, wa_id, prompt)
    return list(await session.scalars(
        select(ConversationMessage.id).where(ConversationMessage.wa_id == wa_id, ConversationMessage.role == prompt,
                                             ConversationMessage.id > mark).order_by(ConversationMessage.id)))


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
