"""An `EventSink` that records what the bridge tells the sidebars (each event as its JSON object), and lets a
test wait for an event."""

from __future__ import annotations

import asyncio
from typing import Any

from chat_bridge.events import RealtimeEvent


class RecordingSink:
    """Keeps every published event, in order."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._published = asyncio.Condition()

    async def publish(self, event: RealtimeEvent) -> None:
        async with self._published:
            self.events.append(event.model_dump(mode="json"))
            self._published.notify_all()

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == kind]

    async def wait_for(self, kind: str, seconds: float = 10.0) -> dict[str, Any]:
        """The first event of `kind`, waiting for it to be published."""
        async with asyncio.timeout(seconds), self._published:
            await self._published.wait_for(lambda: bool(self.of_type(kind)))
        return self.of_type(kind)[0]
