"""ASGI apps served for real by uvicorn on 127.0.0.1, on a free port: in the test's own event loop
(`serve_on_loopback`), or in a thread of its own for fixtures that outlive one loop (`serve_in_thread`)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

import uvicorn
from starlette.types import ASGIApp

from calendar_agent.http_server import server_config
from calendar_agent.settings import Settings


@contextlib.contextmanager
def serve_in_thread(app: ASGIApp, lifespan: Literal["on", "off"] = "off") -> Iterator[str]:
    """Serve `app` while the block runs; yields its base URL (`http://127.0.0.1:<port>`)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan=lifespan, ws="none", log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_until_started(server)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _wait_until_started(server: uvicorn.Server, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the loopback server did not start")
        time.sleep(0.005)


class LoopbackServer(uvicorn.Server):
    """uvicorn that says when it is listening, and leaves the test runner's signal handlers alone."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        except SystemExit:  # uvicorn exits when the app's lifespan fails: report it, don't end the tests
            self.should_exit = True
            return
        self.ready.set()


@contextlib.asynccontextmanager
async def serve_on_loopback(app: ASGIApp, settings: Settings | None = None) -> AsyncIterator[str]:
    """Run `app` (with its lifespan) on 127.0.0.1 on a free port; yields its base URL, shuts it down after.
    With `settings`, the server is configured as `calendar-agent serve` configures it."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    options: dict[str, Any] = {"log_config": None, "access_log": False, "lifespan": "on", "ws": "websockets-sansio"}
    config = (server_config(app, settings, "127.0.0.1", 0, **options) if settings is not None
              else uvicorn.Config(app, **options))
    server = LoopbackServer(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    ready = asyncio.create_task(server.ready.wait())
    await asyncio.wait([serving, ready], return_when=asyncio.FIRST_COMPLETED)
    if not server.ready.is_set():
        ready.cancel()
        await serving
        raise RuntimeError("the app did not start: its lifespan failed (see the log)")
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving
