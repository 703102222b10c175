"""ConversationTurn: one agent answering the newest messages of a conversation (a `chat_bridge.ports.AgentTurn`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from chat_bridge.agent.acting import SYSTEM_AGENT, Asker
from chat_bridge.agent.conversation import answering
from chat_bridge.agent.loop import AgentLoop
from chat_bridge.agent.messages import ToolResult, turns_from_history
from chat_bridge.agent.providers import ProviderError
from chat_bridge.events import new_message_event, system_agent_error_event
from chat_bridge.ports import EventSink
from domain.calendar.conversations import Audience, ConversationService, TurnContext
from domain.storage.models import MessageRole
from domain.views import MessageView

logger = logging.getLogger(__name__)

ReplyDelivery = Callable[[str, str, Sequence[int]], Awaitable[MessageView | None]]
"""Stores, broadcasts and sends a reply (wa_id, text, the ids of the messages it answers): the customer
assistant's is WhatsApp's outbox. None: another reply answered those messages first, nothing was kept."""

AskerLookup = Callable[[str, Sequence[int]], Awaitable[Asker]]
"""Whom a turn answering these messages (wa_id, their ids) acts for (`chat_bridge.agent.acting.Askers`)."""

TOOL_ROW_PREVIEW = 200
ROUNDS_OF_ANSWERS = 3  # how often a turn starts again when another answered part of what it answered


class ConversationTurn:
    """Reads the history, runs the loop, stores tool rows and the reply, and tells the sidebars.

    The bridge's turn runner shows typing around the whole turn; this class does not repeat it.

    A `ProviderError` is told to the sidebars (`system_agent_error`) and nothing is stored for it; any
    other failure propagates to the caller (the conversation queue logs it and tells the operator).
    """

    def __init__(self, loop: AgentLoop, conversations: ConversationService, events: EventSink,
                 deliver: ReplyDelivery | None = None, audience: Audience | None = None,
                 askers: AskerLookup | None = None) -> None:
        self.loop = loop
        self.audience = audience
        self.askers = askers  # None: the turn acts as its agent (the customer assistant)
        self.conversations = conversations
        self.events = events
        self.deliver = deliver or self._keep_reply

    async def __call__(self, wa_id: str) -> None:
        """Answer `wa_id`'s newest message, if it is the agent's to answer."""
        try:
            await self._answer(wa_id)
        except ProviderError as error:
            logger.warning("the language model could not answer: %s", error)
            await self.events.publish(system_agent_error_event(wa_id, str(error)))

    async def _answer(self, wa_id: str) -> None:
        """Answer every message of the agent's user that no reply has answered, in one reply that records them.

        A message that arrives while the model works is left to the next turn (its own job), which reads this
        reply first. Should another turn answer some of these messages meanwhile (this one's lease was lost), the
        reply is not kept and the turn answers what is still open."""
        for _ in range(ROUNDS_OF_ANSWERS):
            context = await self.conversations.turn_context(wa_id, self.audience)
            if not context.open_ids:
                return  # answered already: by an earlier turn, or by this job's first attempt before a crash
            text = await self._reply(wa_id, context)
            if not text or await self.deliver(wa_id, text, context.open_ids) is not None:
                return
            logger.warning("conversation %s: another reply answered these messages first; this one is dropped", wa_id)

    async def _reply(self, wa_id: str, context: TurnContext) -> str:
        """The reply: the loop's answer, acting for the person who asked; or why it may not act (no tool called)."""
        asker = await self.askers(wa_id, context.open_ids) if self.askers is not None else SYSTEM_AGENT
        if asker.refused is not None:
            return asker.refused
        with answering(wa_id):
            reply = await self.loop.run(turns_from_history(context.history), partial(self._record_tool, wa_id),
                                        asked(context.history), asker.principal)
        return reply.text

    async def _record_tool(self, wa_id: str, result: ToolResult) -> None:
        meta = {"tool": result.call.name, "arguments": result.call.arguments, "result": result.whole or result.text,
                "is_error": result.is_error}
        if result.outcome is not None:
            meta["outcome"] = result.outcome
        await self._store(wa_id, MessageRole.TOOL, tool_row_text(result), meta)

    async def _keep_reply(self, wa_id: str, text: str, answers: Sequence[int]) -> MessageView | None:
        stored = await self.conversations.reply(wa_id, MessageRole.ASSISTANT, text, answers)
        if stored is not None:
            await self.events.publish(new_message_event(stored))
        return stored

    async def _store(self, wa_id: str, role: MessageRole, text: str,
                     meta: dict[str, Any] | None = None) -> MessageView:
        stored = await self.conversations.append(wa_id, role, text, meta=meta)
        assert stored is not None  # only a redelivered external_id returns None
        await self.events.publish(new_message_event(stored))
        return stored


def asked(history: Sequence[dict[str, str]]) -> str | None:
    """What the open messages say (the history's last turn, when it is the user's): the request the turn serves."""
    return history[-1]["content"] if history and history[-1]["role"] == "user" else None


def tool_row_text(result: ToolResult) -> str:
    """The line the sidebar shows for a tool call (the result's first line); arguments and the whole result
    are in its meta."""
    first = result.text.split("\n", 1)[0]
    outcome = first if len(first) <= TOOL_ROW_PREVIEW else first[:TOOL_ROW_PREVIEW] + "…"
    return f"{result.call.name} → {'error: ' if result.is_error else ''}{outcome}"
