"""Resource subscriptions: a client subscribed to `calendar://day/{date}` hears when that day changes, whoever
changed it (another MCP client, the customer assistant, an operator) through this process's services.

Both eras of the protocol are served: a `subscriptions/listen` stream (2026-07-28) receives the server bus's
`ResourceUpdated` events, and a session negotiated at 2025-11-25 or earlier subscribes with
`resources/subscribe` and gets `notifications/resources/updated` on its standing stream.
"""

from __future__ import annotations

import logging
import re
import weakref
from datetime import date

from mcp import MCPError
from mcp.server.context import ServerRequestContext
from mcp.server.connection import Connection
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourceUpdated
from mcp_types import INVALID_PARAMS, EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams

from domain.events import CalendarEvents

logger = logging.getLogger(__name__)

DAY = "calendar://day/{date}"
_SUBSCRIBABLE = re.compile(r"calendar://day/\d{4}-\d{2}-\d{2}")
MAX_PER_SESSION = 400  # resources one 2025-era session may watch


def day_uri(day: date) -> str:
    return DAY.format(date=day.isoformat())


class DaySubscriptions:
    """Fans the calendar's changed days out to the subscribed clients of one MCP server."""

    def __init__(self, events: CalendarEvents) -> None:
        """Listens to `events` from now on, for as long as the server lives (the process's)."""
        self.bus = InMemorySubscriptionBus()
        # The connections (not the per-request sessions, which end with their request) watching each resource;
        # held weakly, so a client gone without unsubscribing is forgotten with its connection.
        self.sessions: dict[str, weakref.WeakSet[Connection]] = {}
        events.day_listeners.append(self.days_changed)

    async def days_changed(self, days: set[date]) -> None:
        for uri in sorted(day_uri(d) for d in days):
            await self.bus.publish(ResourceUpdated(uri))
            for connection in list(self.sessions.get(uri, ())):
                try:
                    await connection.outbound.notify("notifications/resources/updated", {"uri": uri})
                except Exception:  # a client gone without unsubscribing; the others still hear
                    logger.info("dropped the subscription of a closed session to %s", uri)
                    self.sessions[uri].discard(connection)

    async def subscribe(self, ctx: ServerRequestContext, params: SubscribeRequestParams) -> EmptyResult:
        """`resources/subscribe` (2025 era): a day's resource."""
        if not _SUBSCRIBABLE.fullmatch(params.uri):
            raise MCPError(code=INVALID_PARAMS, message=f"Cannot subscribe to {params.uri[:100]!r}: subscribe to "
                           "calendar://day/YYYY-MM-DD.")
        connection = _connection(ctx)
        if sum(connection in watchers for watchers in self.sessions.values()) >= MAX_PER_SESSION:
            raise MCPError(code=INVALID_PARAMS, message=f"At most {MAX_PER_SESSION} subscriptions per session.")
        self.sessions.setdefault(params.uri, weakref.WeakSet()).add(connection)
        return EmptyResult()

    async def unsubscribe(self, ctx: ServerRequestContext, params: UnsubscribeRequestParams) -> EmptyResult:
        watchers = self.sessions.get(params.uri)
        if watchers is not None:
            watchers.discard(_connection(ctx))
            if not watchers:
                del self.sessions[params.uri]
        return EmptyResult()


def _connection(ctx: ServerRequestContext) -> Connection:
    """The client's connection behind a request: the SDK's per-request session keeps it, unexposed."""
    connection: Connection = ctx.session._connection  # noqa: SLF001
    return connection
