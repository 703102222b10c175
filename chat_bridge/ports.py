"""The small interfaces between the bridge's parts; a later step runs several instances on one PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from chat_bridge.events import RealtimeEvent


class EventSink(Protocol):
    """Delivers a realtime event (`chat_bridge.events.RealtimeEvent`) to every open sidebar."""

    async def publish(self, event: RealtimeEvent) -> None: ...


class TurnQueue(Protocol):
    """Serves the stored jobs (`domain.workers.jobs`); told when this process has stored one (of the
    conversation `wa_id`)."""

    def wake(self, wa_id: str | None = None) -> None: ...


class ConfirmationAnswers(Protocol):
    """The confirmation broker as the API sees it: False when no confirmation has this id."""

    def answer(self, confirmation_id: str, accept: bool) -> bool | Awaitable[bool]: ...


class AgentTurn(Protocol):
    """Answers the newest messages of one conversation (stores tool rows and the reply, emits events)."""

    async def __call__(self, wa_id: str) -> None: ...
