"""Operators' confirmations: how the bridge, as an MCP client, answers a tool's elicitation.

A tool asks (`ctx.elicit`); the broker stores the question in the conversation being answered, tells the
sidebars, and waits for the operator's yes or no (`answer`, called by an HTTP endpoint). No answer in
time counts as cancel. A tool that wants a structured preview shown beside the question puts it, as
JSON, in the requested schema's top-level `description` (a pydantic model's docstring lands there).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any, Literal

from mcp.client import ClientRequestContext
from mcp.types import INVALID_REQUEST, ElicitRequestFormParams, ElicitRequestParams, ElicitResult, ErrorData

from chat_bridge.agent.conversation import current_wa_id
from chat_bridge.events import new_message_event
from chat_bridge.ports import EventSink
from domain.conversations import ConversationService
from domain.models import MessageRole
from domain.views import MessageView

Outcome = Literal["accepted", "declined", "expired"]


class ConfirmationBroker:
    """Pending confirmations of this process, each waiting for one operator's answer."""

    def __init__(self, conversations: ConversationService, events: EventSink, timeout_seconds: float = 300.0) -> None:
        self.conversations = conversations
        self.events = events
        self.timeout_seconds = timeout_seconds
        self._pending: dict[str, asyncio.Future[bool]] = {}

    async def answer(self, confirmation_id: str, accept: bool) -> bool:
        """Give the operator's answer; False when nothing is waiting under that id (unknown or resolved)."""
        waiting = self._pending.get(confirmation_id)
        if waiting is None or waiting.done():
            return False
        waiting.set_result(accept)
        return True

    async def outcome(self, wa_id: str, message: str, requested_schema: dict[str, Any],
                      timeout: float | None = None) -> Outcome:
        """Ask the operator of `wa_id`'s conversation: accepted only for an explicit yes in time."""
        confirmation_id = uuid.uuid4().hex
        self._pending[confirmation_id] = asyncio.get_running_loop().create_future()
        try:
            stored = await self._store(wa_id, confirmation_id, message, preview_of(requested_schema))
            outcome = await self._wait(confirmation_id, self.timeout_seconds if timeout is None else timeout)
        finally:
            del self._pending[confirmation_id]
        await self._resolve(stored, outcome)
        return outcome

    async def elicit(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult | ErrorData:
        """The MCP client's elicitation callback: a form elicitation becomes a confirmation."""
        wa_id = current_wa_id()
        if wa_id is None or not isinstance(params, ElicitRequestFormParams):
            return ErrorData(code=INVALID_REQUEST, message="Only a confirmation asked during a conversation turn "
                                                           "can be answered.")
        outcome = await self.outcome(wa_id, params.message, params.requested_schema)
        if outcome == "accepted":
            return ElicitResult(action="accept", content=accepted_content(params.requested_schema))
        return ElicitResult(action="decline" if outcome == "declined" else "cancel")

    async def _store(self, wa_id: str, confirmation_id: str, message: str, preview: Any) -> MessageView:
        meta = {"kind": "confirmation", "confirmation_id": confirmation_id, "preview": preview, "state": "pending"}
        stored = await self.conversations.append(wa_id, MessageRole.ASSISTANT, message, meta=meta)
        assert stored is not None  # only a redelivered external_id returns None
        await self.events.publish(new_message_event(stored))
        await self.events.publish({"type": "confirmation_request", "wa_id": wa_id, "confirmation_id": confirmation_id,
                                   "message": message, "preview": preview, "message_id": stored.id})
        return stored

    async def _wait(self, confirmation_id: str, timeout: float) -> Outcome:
        try:
            async with asyncio.timeout(timeout):
                accepted = await self._pending[confirmation_id]
        except TimeoutError:
            return "expired"
        return "accepted" if accepted else "declined"

    async def _resolve(self, stored: MessageView, outcome: Outcome) -> None:
        meta = dict(stored.meta or {}, state=outcome)
        await self.conversations.set_meta(stored.id, meta)
        await self.events.publish({"type": "confirmation_resolved", "wa_id": stored.wa_id,
                                   "confirmation_id": meta["confirmation_id"], "state": outcome,
                                   "accepted": outcome == "accepted", "message_id": stored.id})


def preview_of(requested_schema: dict[str, Any]) -> Any:
    """The preview a tool put in the schema's description: parsed when it is JSON, else the text."""
    description = requested_schema.get("description")
    if not isinstance(description, str):
        return None
    try:
        return json.loads(description)
    except ValueError:
        return description


def accepted_content(requested_schema: dict[str, Any]) -> dict[str, str | int | float | bool | list[str] | None]:
    """The form an operator's yes fills in: every boolean true, every other field at its default."""
    content: dict[str, str | int | float | bool | list[str] | None] = {}
    for name, field in requested_schema.get("properties", {}).items():
        if field.get("type") == "boolean":
            content[name] = True
        elif "default" in field:
            content[name] = field["default"]
    return content
