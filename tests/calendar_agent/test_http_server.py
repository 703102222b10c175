"""The service's HTTP server as `calendar-agent serve` configures it: slow clients are cut, prompt ones served."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx2

from domain.services import Services
from calendar_agent.bootstrap.serve import build_service_app
from tests.fakes.loopback import serve_on_loopback
from tests.fakes.graph_api import FakeGraphApi, bridge_settings, graph_api  # noqa: F401

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
