"""The realtime channel: every event fanned out to every open sidebar as a JSON text frame.

Events are flat objects with a `type`:
- `conversation_new_message` {wa_id, message}: a stored message (`domain.views.MessageView`, dumped).
- `conversation_typing` {wa_id, typing}: an agent started or finished answering this conversation.
- `reservation_created` / `_updated` / `_cancelled` / `_reinstated` {action, reservation}.
- `system_agent_error` {wa_id, error}: the operator's request failed; the text says what to do.
- `confirmation_request` / `confirmation_resolved`: published by the confirmation broker.
- `notice_updated` {notice_id, batch_id, status}: a notice to a customer was sent, failed, skipped or delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from starlette.types import Message

from domain.views import MessageView, ReservationView

logger = logging.getLogger(__name__)

BUFFERED_FRAMES = 256
GOING_AWAY = 1001
TRY_AGAIN_LATER = 1013

# The domain's calendar actions, as the sidebar's event types.
RESERVATION_EVENTS = {
    "created": "reservation_created",
    "moved": "reservation_updated",
    "modified": "reservation_updated",
    "cancelled": "reservation_cancelled",
    "reinstated": "reservation_reinstated",
    "restored": "reservation_reinstated",
}


def new_message_event(message: MessageView) -> dict[str, Any]:
    return {"type": "conversation_new_message", "wa_id": message.wa_id, "message": message.model_dump(mode="json")}


def notice_event(notice_id: int, batch_id: str | None, status: str) -> dict[str, Any]:
    return {"type": "notice_updated", "notice_id": notice_id, "batch_id": batch_id, "status": status}


def typing_event(wa_id: str, typing: bool) -> dict[str, Any]:
    return {"type": "conversation_typing", "wa_id": wa_id, "typing": typing}


def system_agent_error_event(wa_id: str, error: str) -> dict[str, Any]:
    return {"type": "system_agent_error", "wa_id": wa_id, "error": error}


def reservation_event(action: str, reservation: ReservationView) -> dict[str, Any]:
    """A calendar change as an event; an action this map does not know is an update."""
    event_type = RESERVATION_EVENTS.get(action, "reservation_updated")
    return {"type": event_type, "action": action, "reservation": reservation.model_dump(mode="json")}


class Socket(Protocol):
    """The part of a Starlette WebSocket the hub uses."""

    async def accept(self) -> None: ...

    async def send_text(self, data: str) -> None: ...

    async def receive(self) -> Message: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class Subscriber:
    """One open sidebar behind a bounded buffer: a socket that falls behind is closed, never waited for."""

    def __init__(self, socket: Socket, buffer: int) -> None:
        self.socket = socket
        self.frames: asyncio.Queue[str] = asyncio.Queue(buffer)
        self.stopped = asyncio.Event()
        self.close_code = GOING_AWAY

    def offer(self, frame: str) -> bool:
        """Queue a frame without waiting; False (and the subscriber stops) when its buffer is full."""
        try:
            self.frames.put_nowait(frame)
        except asyncio.QueueFull:
            self.stop(TRY_AGAIN_LATER)
            return False
        return True

    def stop(self, code: int) -> None:
        self.close_code = code
        self.stopped.set()

    async def run(self) -> None:
        """Forward frames until the client leaves or the subscriber is stopped."""
        tasks = [asyncio.create_task(self._forward()), asyncio.create_task(self._until_disconnect()),
                 asyncio.create_task(self.stopped.wait())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.stopped.is_set():
            with contextlib.suppress(Exception):
                await self.socket.close(self.close_code)

    async def _forward(self) -> None:
        try:
            while True:
                await self.socket.send_text(await self.frames.get())
        except Exception as error:  # noqa: BLE001 - a broken socket only ends its own subscription
            logger.debug("realtime socket closed while sending: %r", error)

    async def _until_disconnect(self) -> None:
        try:
            while (await self.socket.receive())["type"] != "websocket.disconnect":
                pass
        except Exception as error:  # noqa: BLE001 - same as above
            logger.debug("realtime socket closed while reading: %r", error)


class Hub:
    """The `EventSink` of this process: fans each event out to every connected WebSocket."""

    def __init__(self, buffer: int = BUFFERED_FRAMES) -> None:
        self.buffer = buffer
        self.subscribers: set[Subscriber] = set()
        # Other instances' consoles hear this process's events through it (`chat_bridge.instances`).
        self.relay: Callable[[dict[str, Any]], Awaitable[None]] | None = None

    def __len__(self) -> int:
        return len(self.subscribers)

    async def publish(self, event: dict[str, Any]) -> None:
        """Queue `event` for every open socket, here and (through the relay) in the other instances."""
        await self.publish_here(event)
        if self.relay is not None:
            await self.relay(event)

    async def publish_here(self, event: dict[str, Any]) -> None:
        """Queue `event` for every socket open on this process; never waits on a slow one."""
        if not self.subscribers:
            return
        frame = json.dumps(event, ensure_ascii=False, default=str)
        for subscriber in list(self.subscribers):
            if not subscriber.offer(frame):
                logger.warning("a realtime client fell %d events behind and was disconnected", self.buffer)
                self.subscribers.discard(subscriber)

    async def on_calendar_change(self, action: str, reservation: ReservationView) -> None:
        """A `domain.events.CalendarEvents` listener."""
        await self.publish(reservation_event(action, reservation))

    async def serve(self, socket: Socket) -> None:
        """Accept `socket` and send it every event published until it closes."""
        subscriber = Subscriber(socket, self.buffer)
        self.subscribers.add(subscriber)  # before accepting: a client that is in misses nothing
        try:
            await socket.accept()
            await subscriber.run()
        finally:
            self.subscribers.discard(subscriber)

    async def close(self) -> None:
        """Tell every open sidebar the service is going away."""
        for subscriber in list(self.subscribers):
            subscriber.stop(GOING_AWAY)
