"""What one instance tells the others on the same PostgreSQL database: realtime events for their consoles,
and the customers a transaction created or renamed, for their search indexes. `LISTEN/NOTIFY` carries it
(`PostgresBroadcast`), or Redis pub/sub when a Redis URL is configured (`RedisBroadcast`); an instance
ignores what it sent itself. SQLite is served by one process and needs none of this."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import asyncpg
import redis.asyncio as redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CHANNEL = "calendar_agent"
MAX_PAYLOAD = 7900  # PostgreSQL refuses a NOTIFY payload of 8000 bytes or more
LIMIT = MAX_PAYLOAD - 200  # room for the envelope
Receiver = Callable[[str, dict[str, Any]], Awaitable[None]]


def asyncpg_dsn(url: str) -> str:
    """The SQLAlchemy URL as a DSN asyncpg reads."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


class Broadcast(Protocol):
    """A channel between the instances: `send` to the others, `receivers` hear theirs."""

    origin: str
    receivers: list[Receiver]

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, kind: str, body: dict[str, Any]) -> None: ...

    async def is_connected(self) -> bool: ...


class PostgresBroadcast:
    """Sends `(kind, body)` to every other instance listening on the database, and hands theirs to `receive`."""

    def __init__(self, dsn: str, channel: str = CHANNEL) -> None:
        self.dsn = dsn
        self.channel = channel
        self.origin = secrets.token_hex(8)
        self.receivers: list[Receiver] = []
        self.listening: asyncpg.Connection | None = None
        self.sending: asyncpg.Connection | None = None
        self._send_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.listening = await asyncpg.connect(self.dsn)
        self.sending = await asyncpg.connect(self.dsn)
        await self.listening.add_listener(self.channel, self._heard)

    async def is_connected(self) -> bool:
        return all(c is not None and not c.is_closed() for c in (self.listening, self.sending))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for connection in (self.listening, self.sending):
            if connection is not None:
                await connection.close()

    async def send(self, kind: str, body: dict[str, Any]) -> None:
        payload = json.dumps({"origin": self.origin, "kind": kind, "body": body}, ensure_ascii=False, default=str)
        if len(payload.encode()) > MAX_PAYLOAD:
            payload = json.dumps({"origin": self.origin, "kind": kind, "body": _shortened(body)},
                                 ensure_ascii=False, default=str)
        if self.sending is None:
            return
        try:
            async with self._send_lock:
                await self.sending.execute("SELECT pg_notify($1, $2)", self.channel, payload)
        except Exception:
            logger.exception("could not tell the other instances (%s)", kind)

    def _heard(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        task = asyncio.get_running_loop().create_task(_deliver(self.receivers, self.origin, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class RedisBroadcast:
    """The same channel over Redis pub/sub (no payload limit of its own). A lost connection is opened again,
    waiting longer after each failure (up to `max_backoff` seconds); `is_connected` is the readiness check."""

    def __init__(self, url: str, channel: str = CHANNEL, max_backoff: float = 5.0) -> None:
        self.client = redis.Redis.from_url(url, socket_connect_timeout=5, health_check_interval=15)
        self.channel = channel
        self.max_backoff = max_backoff
        self.origin = secrets.token_hex(8)
        self.receivers: list[Receiver] = []
        self.connected = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Subscribe (failing here when Redis cannot be reached at start), then listen until closed."""
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self.channel)
        self.connected.set()
        self._listener = asyncio.get_running_loop().create_task(self._listen(pubsub))

    async def is_connected(self) -> bool:
        return self.connected.is_set()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self.client.aclose()

    async def send(self, kind: str, body: dict[str, Any]) -> None:
        payload = json.dumps({"origin": self.origin, "kind": kind, "body": body}, ensure_ascii=False, default=str)
        try:
            await self.client.publish(self.channel, payload)
        except RedisError:
            logger.exception("could not tell the other instances (%s) through Redis", kind)

    async def _listen(self, pubsub: Any) -> None:
        backoff = 0.1
        while True:
            try:
                async for message in pubsub.listen():
                    backoff = 0.1
                    if message.get("type") == "message":
                        await _deliver(self.receivers, self.origin, message["data"])
            except (RedisError, OSError) as error:
                self.connected.clear()
                logger.warning("the Redis channel was lost (%s); subscribing again in %.1fs", error, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)
            try:
                await pubsub.aclose()
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(self.channel)
                self.connected.set()
                logger.info("the Redis channel is back")
            except (RedisError, OSError):
                continue



async def _deliver(receivers: list[Receiver], origin: str, payload: bytes | str) -> None:
    """Hand another instance's message to every receiver; this instance's own, or anything not ours, is dropped."""
    try:
        message = json.loads(payload)
    except ValueError:
        return
    if not isinstance(message, dict) or message.get("origin") == origin:
        return
    kind, body = str(message.get("kind")), message.get("body")
    for receive in receivers:
        try:
            await receive(kind, body if isinstance(body, dict) else {})
        except Exception:
            logger.exception("a message from another instance (%s) could not be handled", kind)


def _shortened(body: dict[str, Any]) -> dict[str, Any]:
    """An event too large for one notification. A stored message keeps its text as far as it fits, without
    its meta, the event marked `truncated` (the console reloads the whole conversation when it is opened);
    anything else, or a message that still does not fit, keeps only its type and keys (which the receiving
    bridge, checking the event's declared shape, drops)."""
    brief = {k: v for k, v in body.items() if k in ("type", "wa_id", "action")}
    message = body.get("message")
    if not (isinstance(message, dict) and isinstance(message.get("text"), str)):
        return brief
    text = message["text"]
    while text:
        shortened = dict(body, message=dict(message, meta=None, text=text + " …"), truncated=True)
        if len(json.dumps(shortened, ensure_ascii=False, default=str).encode()) <= LIMIT:
            return shortened
        text = text[: len(text) * 3 // 4]
    return brief
