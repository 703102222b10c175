"""What one instance tells the others on the same PostgreSQL database: realtime events for their consoles,
and the customers a transaction created or renamed, for their search indexes. `LISTEN/NOTIFY` carries it;
an instance ignores what it sent itself. SQLite is served by one process and needs none of this."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

logger = logging.getLogger(__name__)

CHANNEL = "calendar_agent"
MAX_PAYLOAD = 7900  # PostgreSQL refuses a NOTIFY payload of 8000 bytes or more
LIMIT = MAX_PAYLOAD - 200  # room for the envelope
Receiver = Callable[[str, dict[str, Any]], Awaitable[None]]


def asyncpg_dsn(url: str) -> str:
    """The SQLAlchemy URL as a DSN asyncpg reads."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


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
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if message.get("origin") == self.origin:
            return
        task = asyncio.get_running_loop().create_task(self._deliver(str(message.get("kind")), message.get("body")))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, kind: str, body: Any) -> None:
        for receive in self.receivers:
            try:
                await receive(kind, body if isinstance(body, dict) else {})
            except Exception:
                logger.exception("a message from another instance (%s) could not be handled", kind)


def _shortened(body: dict[str, Any]) -> dict[str, Any]:
    """An event too large for one notification. A stored message keeps its text as far as it fits, without
    its meta (the console reloads the whole conversation when it is opened); anything else, or a message
    that still does not fit, keeps only its type and keys."""
    brief = {k: v for k, v in body.items() if k in ("type", "wa_id", "action")}
    message = body.get("message")
    if not (isinstance(message, dict) and isinstance(message.get("text"), str)):
        return brief
    kept = {k: v for k, v in message.items() if k != "meta"}
    text = message["text"]
    while text:
        shortened = dict(body, message=dict(kept, text=text + " …", truncated=True))
        if len(json.dumps(shortened, ensure_ascii=False, default=str).encode()) <= LIMIT:
            return shortened
        text = text[: len(text) * 3 // 4]
    return brief
