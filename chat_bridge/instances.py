"""Several instances on one PostgreSQL database as one service: each instance's realtime events reach the
consoles connected to the others, a customer created or renamed on one is found by the others' search, and
an operator's answer given on one reaches the tool waiting for it on another, and a day changed on one is
told to the MCP clients subscribed to it on another. All travel through a
`domain.workers.broadcast.Broadcast`: PostgreSQL's LISTEN/NOTIFY, or Redis pub/sub when `REDIS_URL` is set."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any

from chat_bridge.confirmations import ConfirmationBroker
from chat_bridge.events import Hub, RealtimeEvent, relayed
from domain.workers.broadcast import Broadcast
from domain.storage.database import Changes
from domain.events import CalendarEvents
from domain.search.service import PhoneSearchService

EVENT, CHANGES, ANSWERED, DAYS = "event", "customer_changes", "confirmation_answered", "days_changed"
MAX_DAYS = 400  # days one message may name (a closure spans at most 366)
OUTGOING = 10_000  # realtime events waiting to be told to the other instances
DRAIN_SECONDS = 5.0  # what is still waiting to be told when the instance stops, at most

logger = logging.getLogger(__name__)


class InstanceLink:
    """Joins this process's hub, search index and confirmations to the other instances'."""

    def __init__(self, broadcast: Broadcast, hub: Hub, search: PhoneSearchService,
                 confirmations: ConfirmationBroker, events: CalendarEvents) -> None:
        self.broadcast = broadcast
        self.hub = hub
        self.search = search
        self.confirmations = confirmations
        self.events = events
        self._sending: set[asyncio.Task[None]] = set()
        # The realtime events go out in order through one sender: the request that stored a message answers
        # without waiting for the other instances to be told (a round trip to PostgreSQL for each).
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=OUTGOING)
        self._sender: asyncio.Task[None] | None = None

    async def open(self) -> None:
        await self.broadcast.start()
        self._sender = asyncio.get_running_loop().create_task(self._send_events())
        self.broadcast.receivers.append(self._heard)
        self.hub.relay = self._relay
        self.confirmations.relay = self._answered
        self.search.db.commit_listeners.append(self._committed)
        self.events.day_listeners.append(self._days_here)

    async def close(self) -> None:
        if self._days_here in self.events.day_listeners:
            self.events.day_listeners.remove(self._days_here)
        self.hub.relay = None
        self.confirmations.relay = None
        if self._committed in self.search.db.commit_listeners:
            self.search.db.commit_listeners.remove(self._committed)
        if self._sender is not None:
            try:  # what was published before the stop is still told
                await asyncio.wait_for(self._events.join(), DRAIN_SECONDS)
            except TimeoutError:
                logger.warning("%d realtime events were not told to the other instances", self._events.qsize())
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
        await asyncio.gather(*self._sending, return_exceptions=True)
        await self.broadcast.close()

    async def _relay(self, event: RealtimeEvent) -> None:
        """Queued for the sender, in the order published."""
        try:
            self._events.put_nowait(event.model_dump(mode="json"))
        except asyncio.QueueFull:
            logger.error("the other instances fell %d realtime events behind: one was not told", OUTGOING)

    async def _send_events(self) -> None:
        while True:
            body = await self._events.get()
            try:
                await self.broadcast.send(EVENT, body)
            except Exception:  # noqa: BLE001 - one event that could not go out must not stop the others
                logger.exception("could not tell the other instances of a realtime event")
            finally:
                self._events.task_done()

    async def _days_here(self, days: set[date]) -> None:
        """Days this process changed: the other instances' subscribers hear of them too."""
        await self.broadcast.send(DAYS, {"days": sorted(d.isoformat() for d in days)})

    async def _days_there(self, body: dict[str, Any]) -> None:
        """Days another instance changed, told to this process's day listeners (not sent back out)."""
        try:
            days = {date.fromisoformat(d) for d in body["days"][:MAX_DAYS]}
        except (KeyError, TypeError, ValueError):
            return
        for listener in list(self.events.day_listeners):
            if listener != self._days_here:
                await listener(days)

    async def _answered(self, confirmation_id: str) -> None:
        await self.broadcast.send(ANSWERED, {"confirmation_id": confirmation_id})

    def _committed(self, changes: Changes) -> None:
        """Customers a transaction of this process created, renamed or renumbered: the others' indexes too."""
        wanted = {kind: keys for kind, keys in changes.items() if kind in self.search.INDEXED}
        if wanted:
            task = asyncio.get_running_loop().create_task(self.broadcast.send(CHANGES, wanted))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _heard(self, kind: str, body: dict[str, Any]) -> None:
        if kind == EVENT:
            if (event := relayed(body)) is not None:
                await self.hub.publish_here(event)
        elif kind == CHANGES:
            self.search.apply(body)
        elif kind == ANSWERED and isinstance(body.get("confirmation_id"), str):
            self.confirmations.heard(body["confirmation_id"])
        elif kind == DAYS:
            await self._days_there(body)
