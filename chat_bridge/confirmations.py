"""Operators' confirmations: how the bridge, as an MCP client, answers a tool's elicitation.

A tool asks (`ctx.elicit`); the broker stores the question in the conversation being answered, tells the
sidebars, and waits for the operator's yes or no (`answer`, called by an HTTP endpoint of any instance on
the database). No answer in time counts as cancel. A calendar tool sends the card to show beside the question
(`domain.system_agent.cards.Card`) in the request's `_meta`, under `CARD_META_KEY`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Literal

from mcp.client import ClientRequestContext
from mcp.types import INVALID_REQUEST, ElicitRequestFormParams, ElicitRequestParams, ElicitResult, ErrorData
from pydantic import ValidationError

from chat_bridge.agent.conversation import current_wa_id
from chat_bridge.events import (ConfirmationOutcome, ConfirmationRequestEvent, ConfirmationResolvedEvent,
                                 new_message_event)
from chat_bridge.ports import EventSink
from domain.calendar.conversations import ConversationService
from domain.storage.models import MessageRole
from domain.calendar.pending_confirmations import ConfirmationState, PendingConfirmations, Question
from domain.system_agent.cards import CARD_META_KEY, Card
from domain.views import MessageView

Outcome = ConfirmationOutcome
Relay = Callable[[str], Awaitable[None]]


class ConfirmationBroker:
    """Confirmations asked by this process's tools, each waiting for one operator's answer, which may reach
    any instance: the answer is recorded in the database (`PendingConfirmations`), the waiting instance is
    told at once (here, or through `relay` from another instance) and looks again every `poll_seconds`
    in case a notice was lost."""

    def __init__(self, conversations: ConversationService, pending: PendingConfirmations, events: EventSink,
                 timeout_seconds: float = 300.0, poll_seconds: float = 1.0) -> None:
        self.conversations = conversations
        self.pending = pending
        self.events = events
        self.timeout_seconds = timeout_seconds
        self.poll_seconds = poll_seconds
        self.relay: Relay | None = None
        self._waiting: dict[str, asyncio.Event] = {}

    async def answer(self, confirmation_id: str, accept: bool) -> bool:
        """Give the operator's answer; False when nothing is waiting under that id (unknown, answered or
        expired), so of two answers only the first counts."""
        if not _is_id(confirmation_id) or not await self.pending.answer(confirmation_id, accept):
            return False
        if confirmation_id in self._waiting:
            self.heard(confirmation_id)
        elif self.relay is not None:
            await self.relay(confirmation_id)
        return True

    def heard(self, confirmation_id: str) -> None:
        """An answer to `confirmation_id` was recorded, here or on another instance."""
        waiting = self._waiting.get(confirmation_id)
        if waiting is not None:
            waiting.set()

    async def abandon(self, wa_id: str) -> None:
        """A turn of `wa_id` starts: a confirmation still pending there was asked by a turn whose process died
        or was stopped. It is shown expired, and the turn that runs again asks anew."""
        for confirmation_id, message_id in await self.pending.abandon(wa_id):
            stored = await self.conversations.update_meta(message_id, {"state": "expired"})
            await self._told_resolved(stored, confirmation_id, "expired")

    async def outcome(self, wa_id: str, message: str, preview: Card | None,
                      timeout: float | None = None) -> Outcome:
        """Ask the operator of `wa_id`'s conversation: accepted only for an explicit yes in time."""
        confirmation_id = uuid.uuid4().hex
        seconds = self.timeout_seconds if timeout is None else timeout
        self._waiting[confirmation_id] = asyncio.Event()
        try:
            stored = await self._store(wa_id, confirmation_id, message, preview, seconds)
            outcome = await self._wait(confirmation_id, seconds)
        finally:
            del self._waiting[confirmation_id]
        await self._resolve(stored, outcome)
        return outcome

    async def elicit(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult | ErrorData:
        """The MCP client's elicitation callback: a form elicitation becomes a confirmation."""
        wa_id = current_wa_id()
        if wa_id is None or not isinstance(params, ElicitRequestFormParams):
            return ErrorData(code=INVALID_REQUEST, message="Only a confirmation asked during a conversation turn "
                                                           "can be answered.")
        outcome = await self.outcome(wa_id, params.message, preview_of(params))
        if outcome == "accepted":
            return ElicitResult(action="accept", content=accepted_content(params.requested_schema))
        return ElicitResult(action="decline" if outcome == "declined" else "cancel")

    async def _store(self, wa_id: str, confirmation_id: str, message: str, preview: Card | None,
                     seconds: float) -> MessageView:
        meta = {"kind": "confirmation", "confirmation_id": confirmation_id, "state": "pending",
                "preview": preview.model_dump(mode="json") if preview is not None else None}
        stored = await self.conversations.append(wa_id, MessageRole.ASSISTANT, message, meta=meta,
                                                 question=Question(confirmation_id, timedelta(seconds=seconds)))
        assert stored is not None  # only a redelivered external_id returns None
        await self.events.publish(new_message_event(stored))
        await self.events.publish(ConfirmationRequestEvent(wa_id=wa_id, confirmation_id=confirmation_id,
                                                           message=message, preview=preview, message_id=stored.id))
        return stored

    async def _wait(self, confirmation_id: str, seconds: float) -> Outcome:
        loop = asyncio.get_running_loop()
        deadline, answered = loop.time() + seconds, self._waiting[confirmation_id]
        while (left := deadline - loop.time()) > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(left, self.poll_seconds)):
                    await answered.wait()
            answered.clear()
            if (state := await self.pending.state(confirmation_id)) not in (None, ConfirmationState.PENDING):
                return _outcome(state)
        return _outcome(await self.pending.expire(confirmation_id))

    async def _resolve(self, stored: MessageView, outcome: Outcome) -> None:
        updated = await self.conversations.update_meta(stored.id, {"state": outcome})
        await self._told_resolved(updated, (stored.meta or {})["confirmation_id"], outcome)

    async def _told_resolved(self, stored: MessageView, confirmation_id: str, outcome: Outcome) -> None:
        await self.events.publish(ConfirmationResolvedEvent(wa_id=stored.wa_id, confirmation_id=confirmation_id,
                                                            state=outcome, accepted=outcome == "accepted",
                                                            message_id=stored.id))


def _outcome(state: ConfirmationState) -> Outcome:
    if state is ConfirmationState.ACCEPTED:
        return "accepted"
    return "declined" if state is ConfirmationState.DECLINED else "expired"


def _is_id(confirmation_id: str) -> bool:
    """A confirmation id as this broker makes them (32 hex digits); anything else is not looked up."""
    return len(confirmation_id) == 32 and all(c in "0123456789abcdef" for c in confirmation_id)


def preview_of(params: ElicitRequestFormParams) -> Card | None:
    """The card a calendar tool sent with its question, checked against its declared shape; None when the
    question came without one, or with something that is not a card."""
    card = (params.meta or {}).get(CARD_META_KEY)
    if card is None:
        return None
    try:
        return Card.model_validate(card)
    except ValidationError:
        return None


def accepted_content(requested_schema: dict[str, Any]) -> dict[str, str | int | float | bool | list[str] | None]:
    """The form an operator's yes fills in: every boolean true, every other field at its default."""
    content: dict[str, str | int | float | bool | list[str] | None] = {}
    for name, field in requested_schema.get("properties", {}).items():
        if field.get("type") == "boolean":
            content[name] = True
        elif "default" in field:
            content[name] = field["default"]
    return content
