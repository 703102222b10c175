"""The small interfaces between the bridge's parts; a later step runs several instances on one PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol


class EventSink(Protocol):
    """Delivers a realtime event ({"type": ..., ...}) to every open sidebar."""

    async def publish(self, event: dict[str, Any]) -> None: ...


class ConversationQueue(Protocol):
    """Runs jobs one at a time per conversation, in arrival order; conversations run concurrently."""

    def submit(self, wa_id: str, job: Callable[[], Awaitable[None]]) -> None: ...

    async def drain(self) -> None: ...


class ConfirmationAnswers(Protocol):
    """The confirmation broker as the API sees it: False when no confirmation has this id."""

    def answer(self, confirmation_id: str, accept: bool) -> bool | Awaitable[bool]: ...


class AgentTurn(Protocol):
    """Answers the newest messages of one conversation (stores tool rows and the reply, emits events)."""

    async def __call__(self, wa_id: str) -> None: ...
