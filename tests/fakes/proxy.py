"""A round-robin TCP load balancer on loopback, as any L4 balancer in front of several instances behaves: each
new connection goes to the next backend; a backend that refuses connections is skipped."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Iterator


class RoundRobinProxy:
    """Listens on 127.0.0.1 in a thread of its own; `url` once started."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.turns = itertools.count()
        self.url = ""
        self.connections = [0] * len(backends)  # connections handed to each backend
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._open: set[asyncio.StreamWriter] = set()  # both ends of every connection still piped
        self._handlers: set[asyncio.Task[None]] = set()

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        thread = threading.Thread(target=self._loop.run_until_complete, args=(self._serve(),), daemon=True)
        thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        try:
            yield self.url
        finally:
            assert self._stop is not None
            self._loop.call_soon_threadsafe(self._stop.set)
            thread.join(10)
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        self._ready.set()
        async with server:
            await self._stop.wait()
        await self._close_connections()

    async def _close_connections(self) -> None:
        """Stopping: every connection still open (a client's keep-alive, a WebSocket) is closed and its handler
        ends before the loop does, so no socket or task is left for the garbage collector to warn about."""
        for handler in list(self._handlers):
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        for writer in list(self._open):
            writer.close()
        for writer in list(self._open):
            with contextlib.suppress(OSError, RuntimeError):
                await writer.wait_closed()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        self._open.add(client_writer)
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            upstream = await self._connect()
            if upstream is None:
                return
            reader, writer = upstream
            self._open.add(writer)
            await asyncio.gather(_pipe(client_reader, writer), _pipe(reader, client_writer))
        finally:
            self._handlers.discard(handler)
            for end in (client_writer, *([upstream[1]] if upstream is not None else [])):
                end.close()
                with contextlib.suppress(OSError, RuntimeError, asyncio.CancelledError):
                    await end.wait_closed()
                self._open.discard(end)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _ in range(len(self.backends)):
            index = next(self.turns) % len(self.backends)
            try:
                connection = await asyncio.open_connection("127.0.0.1", self.backends[index])
            except OSError:
                continue  # that instance is down: the next one
            self.connections[index] += 1
            return connection
        return None


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            sink.close()
