"""Operators' messages (`POST /whatsapp/message` in `routes`): to the system agent in-house, to customers over
WhatsApp."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chat_bridge.events import new_message_event
from chat_bridge.ports import EventSink, TurnQueue
from chat_bridge.queue import AgentKind
from chat_bridge.whatsapp import WhatsAppClient, WhatsAppError
from domain.calendar.conversations import ConversationService
from domain.calendar.customers import CustomerService
from domain.rules.delivery import DeliveryStatus
from domain.storage.models import MessageRole
from domain.views import MessageView


@dataclass(frozen=True)
class Delivery:
    """A message sent to WhatsApp as stored after the attempt; `error` says why it failed, if it did."""

    message: MessageView
    error: str | None = None


class Outbox:
    """Sends to a customer on WhatsApp and keeps the message with its delivery state: never dropped, never
    marked sent unless WhatsApp took it."""

    def __init__(self, conversations: ConversationService, whatsapp: WhatsAppClient, events: EventSink,
                 queued: Callable[[int], None] = lambda count: None) -> None:
        self.conversations = conversations
        self.whatsapp = whatsapp
        self.events = events
        self.queued = queued  # told when replies were queued in the notices' outbox (its sender wakes)

    async def send(self, wa_id: str, text: str, role: MessageRole | str = MessageRole.SECRETARY,
                   meta: dict[str, Any] | None = None, answers: Sequence[int] = ()) -> Delivery:
        """Store `text` as pending, send it, record sent (with WhatsApp's id) or failed, then broadcast it. It
        answers the messages `answers` unless a reply answered them first (then it is sent all the same)."""
        stored = None
        if answers:
            stored = await self.conversations.reply(wa_id, role, text, answers, delivery_status=DeliveryStatus.PENDING,
                                                    meta=meta)
        if stored is None:
            stored = await self.conversations.append(wa_id, role, text, delivery_status=DeliveryStatus.PENDING,
                                                     meta=meta)
        assert stored is not None  # only a redelivered external id is refused
        return await self._send(stored)

    async def reply(self, wa_id: str, text: str, answers: Sequence[int]) -> MessageView | None:
        """The assistant's reply to the customer's messages `answers`, stored with its send queued in the durable
        outbox (one transaction: a crash neither loses nor repeats it), unless another reply answered them first
        (None, nothing queued)."""
        stored = await self.conversations.reply(wa_id, MessageRole.ASSISTANT, text, answers, send=True)
        if stored is not None:
            self.queued(1)
            await self.events.publish(new_message_event(stored))
        return stored

    async def queue(self, wa_id: str, text: str, meta: dict[str, Any] | None = None) -> MessageView:
        """An automatic answer (text only, notices stopped or started): stored with its send queued in the durable
        outbox, in one transaction."""
        stored = await self.conversations.append(wa_id, MessageRole.ASSISTANT, text, meta=meta, send=True)
        assert stored is not None  # only a redelivered external id is refused
        self.queued(1)
        await self.events.publish(new_message_event(stored))
        return stored

    async def _send(self, stored: MessageView) -> Delivery:
        delivery = await self._deliver(stored)
        await self.events.publish(new_message_event(delivery.message))
        return delivery

    async def _deliver(self, stored: MessageView) -> Delivery:
        try:
            ids = await self.whatsapp.send_text(stored.wa_id, stored.text)
        except WhatsAppError as error:
            return Delivery(await self.conversations.set_delivery(stored.id, DeliveryStatus.FAILED), str(error))
        return Delivery(await self.conversations.set_delivery(stored.id, DeliveryStatus.SENT, external_id=ids[0]))


@dataclass(frozen=True)
class OperatorMessage:
    """An operator's message; `meta` names its author when a staff member wrote it (`chat_bridge.agent.acting`)."""

    wa_id: str
    text: str
    meta: dict[str, Any] | None


class OperatorDesk:
    """Where an operator's message goes: the system agent's turn, or a customer's WhatsApp."""

    def __init__(self, customers: CustomerService, conversations: ConversationService, outbox: Outbox,
                 turns: TurnQueue, events: EventSink) -> None:
        self.customers = customers
        self.conversations = conversations
        self.outbox = outbox
        self.turns = turns
        self.events = events

    @property
    def system_wa_id(self) -> str:
        return self.conversations.config.system_agent_wa_id

    async def ask_system_agent(self, message: OperatorMessage) -> MessageView:
        """Store the operator's message, broadcast it and queue the system agent's turn; no WhatsApp call."""
        stored = await self.conversations.append(self.system_wa_id, MessageRole.SECRETARY, message.text,
                                                 meta=message.meta, turn=AgentKind.SYSTEM)
        assert stored is not None
        self.turns.wake(self.system_wa_id)
        await self.events.publish(new_message_event(stored))
        return stored

    async def message_customer(self, message: OperatorMessage) -> Delivery:
        await self.customers.ensure(message.wa_id)
        # The operator takes over: what the customer wrote before is answered, and their assistant stays quiet.
        answers = await self.conversations.open_prompts(message.wa_id, "customer")
        return await self.outbox.send(message.wa_id, message.text, meta=message.meta, answers=answers)
