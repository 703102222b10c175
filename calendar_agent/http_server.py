"""How the service's HTTP server runs: uvicorn, with a deadline for a request's headers and for its body.

uvicorn bounds only the idle time of a kept-alive connection; a client that sends its headers or its
body a byte at a time would hold a connection (and its memory) for as long as it likes. The protocol
here closes such a connection once its deadline passes. The response is not bounded: a long agent
turn or an MCP event stream is the server's own time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from calendar_agent.settings import Settings

logger = logging.getLogger(__name__)


class DeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, cutting clients whose headers or body arrive too slowly."""

    header_seconds = 10.0
    body_seconds = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_seconds)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.header_seconds)  # a new request on a kept-alive connection

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.transport.get_protocol() is self:  # not upgraded to a WebSocket
            self._arm(self.body_seconds)
        else:
            self._disarm()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        if not self.transport.is_closing():
            logger.warning("closed a connection from %s: its request did not arrive in time", self.client)
            self.transport.close()


def protocol_for(settings: Settings) -> type[DeadlineProtocol]:
    """The protocol class with the deadlines of `settings`."""
    return type("ServiceHttpProtocol", (DeadlineProtocol,), {
        "header_seconds": settings.http_header_timeout_seconds, "body_seconds": settings.http_body_timeout_seconds})


def server_config(app: Any, settings: Settings, host: str, port: int, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration every HTTP entry point uses."""
    # The log lines' handlers and format are `chat_bridge.logs.configure_logging`'s: uvicorn keeps its own off.
    options.setdefault("log_config", None)
    # uvicorn takes the client's address and scheme from X-Forwarded-For and X-Forwarded-Proto when the peer is
    # one of these: this machine (a proxy on it) and TRUSTED_PROXIES. The scheme is what a page's Origin is
    # compared with; a request that carries such headers is never taken for a local caller all the same.
    options.setdefault("forwarded_allow_ips", ",".join(["127.0.0.1", "::1", *settings.proxy_list()]))
    return uvicorn.Config(app, host=host, port=port, http=protocol_for(settings), **options)
