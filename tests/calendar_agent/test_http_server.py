"""The service's HTTP server as `calendar-agent serve` configures it: slow clients are cut, prompt ones served."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx2
import pytest

from domain.services import Services
from calendar_agent.bootstrap.serve import build_service_app
from tests.fakes.loopback import serve_on_loopback
from tests.fakes.graph_api import FakeGraphApi, bridge_settings, graph_api, sign  # noqa: F401

BOUND = 10.0  # seconds a test waits for the server to close: far beyond the deadlines set here


async def closed_without_an_answer(url: str, sent: bytes) -> bytes:
    """What the server sends back to a client that sends `sent` and then nothing."""
    address = urlsplit(url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    writer.write(sent)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), BOUND)
    finally:
        writer.close()


async def test_a_client_too_slow_with_its_headers_or_body_is_disconnected_and_a_prompt_one_served(
    services: Services, graph_api: FakeGraphApi  # noqa: F811
) -> None:
    settings = bridge_settings(graph_api, http_header_timeout_seconds=0.3, http_body_timeout_seconds=0.3)
    async with serve_on_loopback(build_service_app(settings, services=services), settings) as url:
        headers = await closed_without_an_answer(url, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1")
        body = await closed_without_an_answer(url, b"POST /whatsapp/message HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                   b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{")
        async with httpx2.AsyncClient(base_url=url) as http:
            healthy = await http.get("/health")
    assert (headers, body) == (b"", b"")
    assert healthy.status_code == 200
    assert await services.conversations.page("12125550123") == []


class HeldOffTheLoop(logging.Handler):
    """Watches for the line a large body's decoding logs from the worker thread that decodes it, and holds that
    thread there until the test lets go: whatever the loop answers meanwhile, it answered while the body was
    being handled. Were the body decoded on the loop, the line would come from the loop's own thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(logging.DEBUG)
        self.loop = loop
        self.reached = asyncio.Event()
        self.let_go = threading.Event()
        self.threads: list[threading.Thread] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "off the event loop" not in record.getMessage():
            return
        self.threads.append(threading.current_thread())
        self.loop.call_soon_threadsafe(self.reached.set)
        if threading.current_thread() is not threading.main_thread():
            self.let_go.wait(BOUND)


@contextlib.contextmanager
def held(name: str) -> Iterator[HeldOffTheLoop]:
    logger = logging.getLogger(name)
    handler, level = HeldOffTheLoop(asyncio.get_running_loop()), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        handler.let_go.set()
        logger.removeHandler(handler)
        logger.setLevel(level)


MCP_HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28",
               "Mcp-Method": "tools/call", "Mcp-Name": "system_batch_cancel", "Content-Type": "application/json"}
HUGE_CANCEL = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
    "name": "system_batch_cancel", "arguments": {"requests": [{}] * 200_000}, "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}
                          }).encode()
HUGE_DELIVERY = json.dumps({"object": "whatsapp_business_account", "entry": [{}] * 200_000}).encode()


@pytest.mark.parametrize(("path", "body", "logger"), [
    ("/mcp", HUGE_CANCEL, "mcp_server.bodies"),
    ("/webhook", HUGE_DELIVERY, "chat_bridge.bodies"),
])
async def test_health_answers_while_an_800_kb_call_of_200000_items_is_handled(
    services: Services, graph_api: FakeGraphApi, caplog: pytest.LogCaptureFixture,  # noqa: F811
    path: str, body: bytes, logger: str
) -> None:
    booked = await services.reservations.reserve("966501234567", "2026-12-02", "13:00")
    settings = bridge_settings(graph_api)
    headers = MCP_HEADERS if path == "/mcp" else {"Content-Type": "application/json",
                                                  "X-Hub-Signature-256": sign(body)}
    async with (serve_on_loopback(build_service_app(settings, services=services), settings) as url,
                httpx2.AsyncClient(base_url=url, timeout=BOUND) as http):
        with held(logger) as decoding:
            big = asyncio.create_task(http.post(path, content=body, headers=headers))
            await asyncio.wait_for(decoding.reached.wait(), BOUND)
            health = await http.get("/health")
            still_handled = not big.done()
        answer = await big
    assert len(body) > 800_000 and health.status_code == 200 and still_handled
    assert decoding.threads and threading.main_thread() not in decoding.threads
    if path == "/mcp":
        assert (answer.status_code, answer.json()["error"]["message"]) == (
            400, "A list in this request has 200000 items; at most 10000 per call.")
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
            "refused an MCP request with a list of 200000 items (at most 10000)"]
    else:
        assert (answer.status_code, answer.json()) == (200, {"status": "received"})
    assert booked.reservation is not None
    assert [r.status for r in await services.reservations.customer_reservations("966501234567")] == ["active"]
