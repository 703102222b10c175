"""The WhatsApp webhook's logic (its endpoints are in `routes`): signed deliveries, customers' inbound messages, their
presses of quick-reply buttons (an interactive `button_reply` or a template's `button`).

Every inbound message is a customer's, whatever number it comes from: the system agent is reachable
only through the operator API. A message is stored with WhatsApp's id, so a redelivery (also after a
restart) is recognised by the database and handled once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from domain.services import Services
from chat_bridge import logs
from chat_bridge.bodies import UnreadableBody, decode_json
from chat_bridge.buttons import ButtonRouter
from chat_bridge.events import new_message_event, notice_event
from chat_bridge.messages import Outbox
from chat_bridge.ports import EventSink, TurnQueue
from chat_bridge.queue import TEXT_ONLY, AgentKind
from domain.errors import DomainError
from domain.notices.buttons import OFFER, REMINDER
from domain.rules.identities import normalize_wa_id, readable_name, same_wa_id
from domain.storage.models import MessageRole

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
TEXT_ONLY_REPLY = (
    "I can only read text messages. Please write your request as text.\n"
    "أستطيع قراءة الرسائل النصية فقط. من فضلك اكتب طلبك نصًا."
)
NOTICES_STOPPED = ("You will get no more notices from us. Send START to have them again.\n"
                   "لن تصلك منا إشعارات بعد الآن. أرسل «اشتراك» لاستئنافها.")
NOTICES_STARTED = ("You will get our notices again. Send STOP to stop them.\n"
                   "ستصلك إشعاراتنا مجددًا. أرسل «إيقاف» لإيقافها.")
IGNORED_TYPES = {"reaction"}
BUTTON_TYPES = {"interactive", "button"}
MAX_PRESS_TEXT = 100  # a button's title is at most 20 characters: anything longer is not WhatsApp's
MAX_STORED_PAYLOAD = 100
# Delivery states only move forward (callbacks can arrive out of order); failed always wins.


@dataclass(frozen=True)
class InboundMessage:
    """A customer's WhatsApp message: its WhatsApp id, sender, type, text (for text messages, and a button's
    title), profile name; for a button press its payload, and the id of the message it answers (`context`)."""

    id: str
    sender: str
    kind: str
    text: str | None
    profile_name: str | None
    payload: str | None = None
    context: str | None = None

    @property
    def stored_text(self) -> str:
        if self.payload is not None:
            return " ".join((self.text or "").split())[:MAX_PRESS_TEXT] or f"[{self.kind}]"
        return self.text if self.kind == "text" and self.text else f"[{self.kind}]"


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery status: WhatsApp's message id, the status, what the send carried as
    `biz_opaque_callback_data`, and for `failed` the first error's code and title."""

    message_id: str
    status: str
    callback_data: str | None = None
    error_code: int | None = None
    error: str | None = None


def valid_signature(body: bytes, header: str | None, app_secret: str) -> bool:
    """`X-Hub-Signature-256` is `sha256=` + the HMAC-SHA256 of the raw body keyed with the app secret."""
    if not app_secret or not header:
        return False
    expected = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def read_delivery(payload: Any) -> tuple[list[InboundMessage], list[StatusUpdate]]:
    """The messages and status callbacks of a webhook payload; a malformed payload is logged and skipped."""
    try:
        return messages_and_statuses(payload)
    except (AttributeError, KeyError, TypeError):
        logger.warning("a signed webhook delivery has an unexpected shape; acknowledged and ignored")
        return [], []


def messages_and_statuses(payload: Any) -> tuple[list[InboundMessage], list[StatusUpdate]]:
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    for value in change_values(payload):
        names = {c.get("wa_id"): (c.get("profile") or {}).get("name") for c in value.get("contacts") or []}
        messages += [inbound_message(m, names) for m in value.get("messages") or [] if m.get("id") and m.get("from")]
        statuses += [status_update(s) for s in value.get("statuses") or [] if s.get("id") and s.get("status")]
    return messages, statuses


def status_update(status: dict[str, Any]) -> StatusUpdate:
    errors = status.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code = first.get("code")
    callback = status.get("biz_opaque_callback_data")
    said = [str(first.get(k) or "").strip() for k in ("title", "message")]
    words = said[0] if said[0] == said[1] else " ".join(s for s in said if s)
    return StatusUpdate(str(status["id"])[:128], str(status["status"])[:20],
                        str(callback)[:64] if callback is not None else None,
                        code if isinstance(code, int) and not isinstance(code, bool) else None, words[:500] or None)


def change_values(payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, dict):
        return []
    changes = [c for e in payload.get("entry") or [] if isinstance(e, dict) for c in e.get("changes") or []]
    return [c["value"] for c in changes if isinstance(c, dict) and isinstance(c.get("value"), dict)]


def inbound_message(message: dict[str, Any], names: dict[Any, Any]) -> InboundMessage:
    kind = str(message.get("type") or "unsupported")
    text = (message.get("text") or {}).get("body") if kind == "text" else None
    sender = str(message["from"])
    payload, title = pressed(message) if kind in BUTTON_TYPES else (None, None)
    context = _object(message.get("context")).get("id")
    return InboundMessage(str(message["id"]), sender, kind, title if payload is not None else text, names.get(sender),
                          payload, str(context)[:128] if context is not None else None)


def pressed(message: dict[str, Any]) -> tuple[str | None, str | None]:
    """The payload and title of a button press, as WhatsApp shapes it; (None, None) for any other message."""
    if message.get("type") == "button":
        button = _object(message.get("button"))
        payload, title = button.get("payload"), button.get("text")
    else:
        interactive = _object(message.get("interactive"))
        if interactive.get("type") != "button_reply":
            return None, None
        reply = _object(interactive.get("button_reply"))
        payload, title = reply.get("id"), reply.get("title")
    if not isinstance(payload, str):
        return None, None
    return payload, title if isinstance(title, str) else None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class Inbox:
    """Inbound WhatsApp traffic: customer messages stored once and answered in order; delivery updates."""

    def __init__(self, services: Services, turns: TurnQueue, outbox: Outbox, events: EventSink,
                 buttons: ButtonRouter | None = None) -> None:
        self.services = services
        self.turns = turns
        self.outbox = outbox
        self.events = events
        self.buttons = buttons or ButtonRouter(services.reminder_replies.garbled,
                                               {REMINDER: services.reminder_replies,
                                                OFFER: services.waitlist.answer_press})
        self.refused: Counter[str] = Counter()  # inbound messages refused, by reason

    async def receive(self, message: InboundMessage) -> None:
        """Store a customer's message and queue its answer; blocked customers and redeliveries are ignored."""
        with logs.conversation(message.sender[:40]):  # as WhatsApp sent it: bounded, JSON-escaped in the log
            await self._receive(message)

    async def _receive(self, message: InboundMessage) -> None:
        if message.kind in IGNORED_TYPES:
            return
        if self._claims_the_agent(message.sender):
            self.refused["system_agent_sender"] += 1
            logger.warning("WhatsApp message %s claims the system agent's number %r as its sender: refused, "
                           "nothing stored or sent", message.id, message.sender)
            return
        wa_id = await self._customer(message)
        if wa_id is None:
            return
        if message.payload is not None:
            await self._press(wa_id, message)
            return
        choice = self._notice_choice(message)
        turn = AgentKind.CUSTOMER if message.kind == "text" else TEXT_ONLY
        stored = await self.services.conversations.append(
            wa_id, MessageRole.USER, message.stored_text, external_id=message.id,
            meta={"whatsapp_type": message.kind, **({"notices": choice} if choice else {})},
            turn=None if choice else turn)
        if stored is None:
            logger.info("WhatsApp message %s was delivered again; handled once", message.id)
            return
        await self.events.publish(new_message_event(stored))
        if choice:
            await self._set_notices(wa_id, opted_out=choice == "stopped")
            return
        self.turns.wake(wa_id)

    async def _press(self, wa_id: str, message: InboundMessage) -> None:
        """A button press: answered by its kind's handler, then stored as the customer's message (its title, the
        payload in its meta) with the answer queued, or with the customer assistant's turn when the press hands it
        the conversation (a reschedule: the stored text names the booking). A redelivery is stored once and
        answered once; what its handler did again changed nothing (every handler's acts are idempotent)."""
        assert message.payload is not None
        if await self.services.conversations.received(message.id):  # a redelivery: its handler is not run again
            logger.info("WhatsApp button press %s was delivered again; answered once", message.id)
            return
        answer = await self.buttons.press(wa_id, message.payload)
        text = f"{message.stored_text}\n{answer.text}" if answer.start_turn else message.stored_text
        meta = {"whatsapp_type": message.kind, "button": {"payload": message.payload[:MAX_STORED_PAYLOAD],
                                                          "context": message.context}}
        stored = await self.services.conversations.append(wa_id, MessageRole.USER, text, external_id=message.id,
                                                          meta=meta, turn=AgentKind.CUSTOMER if answer.start_turn else None)
        if stored is None:
            logger.info("WhatsApp button press %s was delivered again; answered once", message.id)
            return
        await self.events.publish(new_message_event(stored))
        if answer.start_turn:
            self.turns.wake(wa_id)
            return
        await self.outbox.queue(wa_id, answer.text, meta={"auto_reply": "button"})

    def _notice_choice(self, message: InboundMessage) -> str | None:
        """"stopped" or "started" when the message is only a stop or start word, else None."""
        config = self.services.outbox.config
        if message.kind != "text" or not message.text:
            return None
        return "stopped" if config.is_stop(message.text) else "started" if config.is_start(message.text) else None

    async def _set_notices(self, wa_id: str, opted_out: bool) -> None:
        """A stop word opts the customer out of every notice (a start word back in), and they are told so."""
        await self.services.customers.set_flags(wa_id, notices_opt_out=opted_out)
        logger.info("customer %s %s notices", wa_id, "opted out of" if opted_out else "opted back in to")
        await self.outbox.queue(wa_id, NOTICES_STOPPED if opted_out else NOTICES_STARTED,
                                meta={"auto_reply": "notices_stopped" if opted_out else "notices_started"})

    def _claims_the_agent(self, sender: str) -> bool:
        """Whether the sender is the system agent's contact, however it is written: nobody speaks as it."""
        return same_wa_id(sender, self.services.config.system_agent_wa_id)

    async def _customer(self, message: InboundMessage) -> str | None:
        """The sender's wa_id, the customer created (named after the profile) if new; None when blocked."""
        try:
            wa_id = normalize_wa_id(message.sender)
        except DomainError:
            logger.warning("WhatsApp message %s from an invalid number %r ignored", message.id, message.sender)
            return None
        customer = await self.services.customers.get(wa_id)
        if customer is not None and customer.is_blocked:
            logger.info("message %s from blocked customer %s ignored", message.id, wa_id)
            return None
        if customer is None or (message.profile_name and not customer.name):
            await self.services.customers.ensure(wa_id, readable_name(message.profile_name))
        return wa_id

    async def reply_text_only(self, wa_id: str) -> None:
        """The answer to a message that is not text (the `TEXT_ONLY` job)."""
        await self.outbox.queue(wa_id, TEXT_ONLY_REPLY, meta={"auto_reply": "text_only"})

    async def update_status(self, update: StatusUpdate) -> None:
        """Record WhatsApp's delivery state on the message it sent (and on the notice it was), if this service
        sent it; a notice whose sender died before it learnt WhatsApp's id is settled here."""
        settled = await self.services.notice_statuses.record_status(update.message_id, update.status, update.callback_data,
                                                           update.error, update.error_code)
        if settled is None:  # not a notice: an operator's or the assistant's message
            await self.services.conversations.record_delivery(update.message_id, update.status)
            return
        if settled.message is not None:
            await self.events.publish(new_message_event(settled.message))
        await self.events.publish(notice_event(settled.notice_id, settled.batch_id, settled.status))


async def parse_body(body: bytes) -> Any:
    """A signed delivery's payload; None, with one warning, when it cannot be read (Meta must still get its 200,
    or it delivers the same body again and again)."""
    try:
        return await decode_json(body)
    except UnreadableBody as error:
        logger.warning("a signed webhook delivery is unreadable (%s); acknowledged and ignored", error)
        return None
