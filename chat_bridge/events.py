"""The realtime channel: every event fanned out to every open sidebar as a JSON text frame.

Each event is a declared shape with a `type` (`RealtimeEvent`, one of the models below); the console reads
them through these shapes (`chat_bridge/static/app.js`, held by `tests/chat_bridge/test_console_shapes.py`),
and an event relayed by another instance is checked against them before it reaches a sidebar.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.types import Message

from domain.system_agent.cards import Card
from domain.views import MessageView, ReservationView

logger = logging.getLogger(__name__)

BUFFERED_FRAMES = 256
GOING_AWAY = 1001
TRY_AGAIN_LATER = 1013

ReservationEventType = Literal["reservation_created", "reservation_updated", "reservation_cancelled",
                               "reservation_reinstated"]
# The domain's calendar actions, as the sidebar's event types.
RESERVATION_EVENTS: dict[str, ReservationEventType] = {
    "created": "reservation_created",
    "moved": "reservation_updated",
    "modified": "reservation_updated",
    "cancelled": "reservation_cancelled",
    "reinstated": "reservation_reinstated",
    "restored": "reservation_reinstated",
}
ConfirmationOutcome = Literal["accepted", "declined", "expired"]


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NewMessageEvent(Event):
    """A message was stored in a conversation (the operator's, a customer's, an agent's, a notice); `truncated`
    when another instance relayed it shortened, without its meta (opening the conversation reads it whole)."""

    type: Literal["conversation_new_message"] = "conversation_new_message"
    wa_id: str
    message: MessageView
    truncated: bool = False


class TypingEvent(Event):
    """An agent started or finished answering this conversation."""

    type: Literal["conversation_typing"] = "conversation_typing"
    wa_id: str
    typing: bool


class AgentErrorEvent(Event):
    """The operator's request failed; `error` says what to do."""

    type: Literal["system_agent_error"] = "system_agent_error"
    wa_id: str
    error: str


class ReservationEvent(Event):
    """A booking was made, moved or changed, cancelled or reinstated (`action`, the domain's word)."""

    type: ReservationEventType
    action: str
    reservation: ReservationView


class NoticeEvent(Event):
    """A notice to a customer was sent, failed, skipped or delivered."""

    type: Literal["notice_updated"] = "notice_updated"
    notice_id: int
    batch_id: str | None
    status: str


class ConfirmationRequestEvent(Event):
    """An agent's tool asks the operator of this conversation; the card says what would change."""

    type: Literal["confirmation_request"] = "confirmation_request"
    wa_id: str
    confirmation_id: str
    message: str
    preview: Card | None
    message_id: int


class ConfirmationResolvedEvent(Event):
    """A question was answered, or expired; `accepted` only for a yes."""

    type: Literal["confirmation_resolved"] = "confirmation_resolved"
    wa_id: str
    confirmation_id: str
    state: ConfirmationOutcome
    accepted: bool
    message_id: int


class DaysChangedEvent(Event):
    """The calendar of these days changed (a booking made, moved or cancelled there, or the days closed or
    reopened): an open calendar showing one of them reloads it."""

    type: Literal["calendar_days_changed"] = "calendar_days_changed"
    days: list[str]


RealtimeEvent = Annotated[NewMessageEvent | TypingEvent | AgentErrorEvent | ReservationEvent | NoticeEvent
                          | ConfirmationRequestEvent | ConfirmationResolvedEvent | DaysChangedEvent,
                          Field(discriminator="type")]
EVENTS: TypeAdapter[RealtimeEvent] = TypeAdapter(RealtimeEvent)


def new_message_event(message: MessageView) -> NewMessageEvent:
    return NewMessageEvent(wa_id=message.wa_id, message=message)


def notice_event(notice_id: int, batch_id: str | None, status: str) -> NoticeEvent:
    return NoticeEvent(notice_id=notice_id, batch_id=batch_id, status=status)


def typing_event(wa_id: str, typing: bool) -> TypingEvent:
    return TypingEvent(wa_id=wa_id, typing=typing)


def system_agent_error_event(wa_id: str, error: str) -> AgentErrorEvent:
    return AgentErrorEvent(wa_id=wa_id, error=error)


def reservation_event(action: str, reservation: ReservationView) -> ReservationEvent:
    """A calendar change as an event; an action this map does not know is an update."""
    return ReservationEvent(type=RESERVATION_EVENTS.get(action, "reservation_updated"), action=action,
                            reservation=reservation)


def relayed(body: dict[str, Any]) -> RealtimeEvent | None:
    """An event another instance relayed, checked against the declared shapes; None (and a warning) when it
    is not one."""
    try:
        return EVENTS.validate_python(body)
    except ValidationError as error:
        logger.warning("a relayed realtime event was not a declared event and was dropped: %s",
                       error.errors(include_url=False, include_input=False)[:3])
        return None


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
        self.relay: Callable[[RealtimeEvent], Awaitable[None]] | None = None

    def __len__(self) -> int:
        return len(self.subscribers)

    async def publish(self, event: RealtimeEvent) -> None:
        """Queue `event` for every open socket, here and (through the relay) in the other instances."""
        await self.publish_here(event)
        if self.relay is not None:
            await self.relay(event)

    async def publish_here(self, event: RealtimeEvent) -> None:
        """Queue `event` for every socket open on this process; never waits on a slow one."""
        if not self.subscribers:
            return
        frame = event.model_dump_json()
        for subscriber in list(self.subscribers):
            if not subscriber.offer(frame):
                logger.warning("a realtime client fell %d events behind and was disconnected", self.buffer)
                self.subscribers.discard(subscriber)

    async def on_calendar_change(self, action: str, reservation: ReservationView) -> None:
        """A `domain.events.CalendarEvents` listener."""
        await self.publish(reservation_event(action, reservation))

    async def on_days_changed(self, days: set[date]) -> None:
        """A `domain.events.CalendarEvents` day listener: this process's sockets only (each instance hears the
        days another changed through `chat_bridge.instances` and tells its own)."""
        await self.publish_here(DaysChangedEvent(days=sorted(d.isoformat() for d in days)))

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
