"""Resumable streams over streamable HTTP: a priming event with `retry`, and a replay after `Last-Event-ID`
that holds one session's events only."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
from mcp.server import MCPServer

from mcp_server.http import build_mcp_http_app
from mcp_server.resumable import RETRY_MS, SessionEvents
from tests.fakes.loopback import serve_on_loopback

VERSION = "2025-11-25"  # the first protocol version whose streams are primed
ACCEPT = {"Accept": "application/json, text/event-stream"}
DEADLINE = 30


def sse_events(text: str) -> list[dict[str, str]]:
    """The events of an SSE body, each as its fields."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        if fields:
            events.append(fields)
    return events


class Session:
    """One client's session, spoken in raw HTTP."""

    def __init__(self, http: httpx2.AsyncClient, url: str) -> None:
        self.http, self.url, self.id = http, f"{url}/mcp", ""

    def headers(self) -> dict[str, str]:
        return ACCEPT | {"mcp-session-id": self.id, "mcp-protocol-version": VERSION}

    async def open(self) -> None:
        response = await self.http.post(self.url, headers=ACCEPT, json={
            "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "resumer", "version": "1"}}})
        self.id = response.headers["mcp-session-id"]
        await self.http.post(self.url, headers=self.headers(), json={"jsonrpc": "2.0",
                                                                     "method": "notifications/initialized"})

    async def call(self, request_id: int, tool: str, arguments: dict[str, Any]) -> list[dict[str, str]]:
        response = await self.http.post(self.url, headers=self.headers(), json={
            "jsonrpc": "2.0", "id": request_id, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments}})
        assert response.headers["content-type"].startswith("text/event-stream")
        return sse_events(response.text)

    async def resume(self, last_event_id: str) -> list[dict[str, str]]:
        """What a GET with `Last-Event-ID` replays: events until the first message, or until the stream ends."""
        seen = ""
        with anyio.fail_after(DEADLINE):
            async with self.http.stream("GET", self.url, headers=self.headers() | {
                    "last-event-id": last_event_id}) as response:
                async for chunk in response.aiter_text():
                    seen += chunk
                    if any("data" in e and e["data"] for e in sse_events(seen)):
                        break
        return sse_events(seen)


@asynccontextmanager
async def sessions(server: MCPServer, count: int) -> AsyncIterator[list[Session]]:
    async with serve_on_loopback(build_mcp_http_app(server, auth_token=None)) as url:
        async with httpx2.AsyncClient(timeout=DEADLINE) as http:
            opened = [Session(http, url) for _ in range(count)]
            for session in opened:
                await session.open()
            yield opened


def message(event: dict[str, str]) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(event["data"])
    return parsed


async def test_a_calls_stream_opens_with_a_priming_event_and_the_retry_interval(transport_server: MCPServer) -> None:
    async with sessions(transport_server, 1) as (client,):
        events = await client.call(1, "get_current_datetime", {})
    priming, answer = events[0], events[-1]
    assert priming["data"] == "" and priming["id"] and priming["retry"] == str(RETRY_MS)
    assert answer["id"] != priming["id"] and message(answer)["id"] == 1
    assert message(answer)["result"]["structuredContent"]["timezone"] == "Asia/Riyadh"


async def test_a_client_that_lost_its_stream_resumes_it_from_the_last_event_it_saw(
        transport_server: MCPServer) -> None:
    async with sessions(transport_server, 1) as (client,):
        events = await client.call(1, "get_current_datetime", {})
        priming, answer = events[0], events[-1]
        replayed = await client.resume(priming["id"])
    messages = [e for e in replayed if e.get("data")]
    assert messages[0]["id"] == answer["id"] and message(messages[0]) == message(answer)


async def test_a_session_replays_its_own_events_only_though_both_number_their_requests_alike(
        transport_server: MCPServer) -> None:
    async with sessions(transport_server, 2) as (first, second):
        first_events = await first.call(1, "get_current_datetime", {})
        second_events = await second.call(1, "system_get_reservations", {"dates": ["2026-12-02"]})
        own = await second.resume(second_events[0]["id"])
        foreign = await second.resume(first_events[0]["id"])
    assert message([e for e in own if e.get("data")][0]) == message(second_events[-1])
    assert [e for e in foreign if e.get("data")] == []


async def test_a_forged_event_id_replays_nothing(transport_server: MCPServer) -> None:
    async with sessions(transport_server, 1) as (client,):
        events = await client.call(1, "get_current_datetime", {})
        prefix = events[0]["id"].rsplit(".", 1)[0]
        forged = await client.resume(f"{prefix}.999")
    assert [e for e in forged if e.get("data")] == []


async def test_a_session_keeps_its_newest_events_only() -> None:
    store, sent = SessionEvents(max_events=3), []

    async def send(event: Any) -> None:
        sent.append(event.event_id)

    ids = [await store.store_event("1", None) for _ in range(5)]
    assert await store.replay_events_after(ids[0], send) is None  # too old: no longer held
    assert await store.replay_events_after(ids[2], send) == "1"
    assert sent == []  # priming events carry no message to replay
