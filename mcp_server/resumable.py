"""Resumable streams: a client whose SSE stream broke reconnects with `Last-Event-ID` and receives what it missed.

With an event store, the SDK's streamable HTTP transport opens every POST's SSE stream with a priming event (an
id and empty data, plus `retry`: how long the client waits before reconnecting), stores each message it sends
there, and on a GET carrying `Last-Event-ID` replays that stream's later messages, then goes on with it live.

The SDK hands one store to every session, while a stream's id is the JSON-RPC id of its request, which every
client numbers from 0: one shared store would mix the streams of two clients and let an event id from one session
replay in another. So each session gets its own `SessionEvents`, created with it and gone with it, and its event
ids are unguessable. A session keeps its newest `MAX_EVENTS` events; what is older can no longer be resumed (the
client then sees its stream end and asks again).
"""

from __future__ import annotations

import itertools
import secrets
from collections import OrderedDict
from typing import Any, Final

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp_types import JSONRPCMessage

MAX_EVENTS: Final = 1_000  # per session
RETRY_MS: Final = 2_000  # the `retry` a client is told: reconnect after 2 s


class SessionEvents(EventStore):
    """The events of one session's streams, oldest first, at most `max_events`."""

    def __init__(self, max_events: int = MAX_EVENTS) -> None:
        self._max = max_events
        self._events: OrderedDict[EventId, tuple[StreamId, JSONRPCMessage | None]] = OrderedDict()
        self._prefix = secrets.token_urlsafe(12)
        self._numbers = itertools.count(1)

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        event_id = f"{self._prefix}.{next(self._numbers)}"
        self._events[event_id] = (stream_id, message)
        while len(self._events) > self._max:
            self._events.popitem(last=False)
        return event_id

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        """Sends the messages of `last_event_id`'s stream that came after it; None for an id this session does not
        hold (another session's, a forged one, or one too old)."""
        stored = self._events.get(last_event_id)
        if stored is None:
            return None
        stream_id = stored[0]
        later = itertools.dropwhile(lambda event: event[0] != last_event_id, list(self._events.items()))
        next(later)
        for event_id, (stream, message) in later:
            if stream == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream_id


def resumable_per_session(manager: StreamableHTTPSessionManager) -> None:
    """Gives each session `manager` opens a `SessionEvents` of its own in place of the shared store. The SDK has no
    option for this, so the one place where it creates a session's transport is wrapped."""
    admit = manager._admit_session

    def admitted(requestor: Any) -> Any:
        transport = admit(requestor)
        if transport is not None:
            transport._event_store = SessionEvents()
        return transport

    manager._admit_session = admitted  # type: ignore[method-assign]
