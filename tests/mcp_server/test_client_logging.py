"""The logging capability: the server's log records reach the client during the call, at the level it sets."""

import logging
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import MCPServer
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import LoggingLevel, LoggingMessageNotificationParams

from mcp_scenario import ALICE, WEDNESDAY
from mcp_server.client_log import MAX_RECORDS
from mcp_server.http import build_mcp_http_app
from tests.fakes.loopback import serve_on_loopback

RESERVE = {"requests": [{"wa_id": ALICE, "date": WEDNESDAY, "time_slot": "13:00"}]}
APPLIED = "system_batch_reserve: applied (ok 1), batch "


@pytest.fixture(autouse=True)
def product_logs_at_info(caplog: pytest.LogCaptureFixture) -> None:
    """The process logs at INFO, as `calendar-agent serve` and `mcp` do by default (LOG_LEVEL)."""
    caplog.set_level(logging.INFO, logger="mcp_server")


class Received:
    """The log messages a client received, and how many had arrived when each call answered."""

    def __init__(self) -> None:
        self.messages: list[LoggingMessageNotificationParams] = []

    async def __call__(self, params: LoggingMessageNotificationParams) -> None:
        self.messages.append(params)

    def texts(self) -> list[str]:
        return [str(m.data) for m in self.messages]


async def set_level(client: Client, level: LoggingLevel) -> None:
    with warnings.catch_warnings():  # deprecated from 2026-07-28 on; what handshake-era clients send
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await client.set_logging_level(level)


@asynccontextmanager
async def legacy_client(server: MCPServer, received: Received) -> AsyncIterator[Client]:
    async with Client(server, mode="legacy", logging_callback=received) as client:
        yield client


async def test_the_server_declares_the_logging_capability(system_server: MCPServer) -> None:
    async with Client(system_server, mode="legacy") as client:
        assert client.server_capabilities is not None and client.server_capabilities.logging is not None


async def test_at_info_a_batchs_outcome_reaches_the_client_before_its_answer(system_server: MCPServer) -> None:
    received = Received()
    async with legacy_client(system_server, received) as client:
        await set_level(client, "info")
        result = await client.call_tool("system_batch_reserve", RESERVE)
        arrived_before_answer = received.texts()
    assert not result.is_error
    assert [m.level for m in received.messages] == ["info"]
    assert arrived_before_answer[0].startswith(APPLIED)
    assert received.messages[0].logger == "mcp_server.batch_tools"
    assert result.structured_content is not None
    assert arrived_before_answer[0] == APPLIED + result.structured_content["batch_id"]


async def test_without_a_level_set_only_warnings_and_above_reach_the_client(system_server: MCPServer) -> None:
    received = Received()
    async with legacy_client(system_server, received) as client:
        result = await client.call_tool("system_batch_reserve", RESERVE)
    assert not result.is_error
    assert received.messages == []


async def test_a_level_above_a_records_keeps_it_from_the_client(system_server: MCPServer) -> None:
    received = Received()
    async with legacy_client(system_server, received) as client:
        await set_level(client, "info")
        await set_level(client, "error")
        result = await client.call_tool("system_batch_reserve", RESERVE)
    assert not result.is_error
    assert received.messages == []


async def test_one_clients_level_is_its_own(system_server: MCPServer) -> None:
    chatty, quiet = Received(), Received()
    async with legacy_client(system_server, chatty) as first, legacy_client(system_server, quiet) as second:
        await set_level(first, "debug")
        await first.call_tool("system_batch_reserve", RESERVE)
        await second.call_tool("system_batch_cancel", {"requests": [{"wa_id": ALICE}]})
    assert chatty.texts()[0].startswith(APPLIED)
    assert quiet.messages == []


async def test_a_2026_client_receives_the_level_its_request_names(system_server: MCPServer) -> None:
    received = Received()
    async with Client(system_server, logging_callback=received, log_level="info") as client:
        result = await client.call_tool("system_batch_reserve", RESERVE)
    assert not result.is_error and received.texts()[0].startswith(APPLIED)


async def test_a_2026_client_that_names_no_level_receives_nothing(system_server: MCPServer) -> None:
    received = Received()
    async with Client(system_server, logging_callback=received) as client:
        await client.call_tool("system_batch_reserve", RESERVE)
    assert received.messages == []


async def test_a_refused_call_still_answers_with_its_error_and_its_records(system_server: MCPServer) -> None:
    """A call that fails after logging: the records arrive, then the error, unchanged."""
    received = Received()
    async with legacy_client(system_server, received) as client:
        await set_level(client, "info")
        await client.call_tool("system_batch_reserve", RESERVE)
        again = await client.call_tool("system_undo_batch", {"batch_id": "b_missing"})
    assert again.is_error
    assert len(received.messages) == 1  # the reserve's; the refused undo applied nothing to tell of


async def test_over_streamable_http_the_records_ride_the_calls_stream(transport_server: MCPServer) -> None:
    received = Received()
    async with serve_on_loopback(build_mcp_http_app(transport_server, auth_token=None)) as url:
        async with httpx2.AsyncClient() as http:
            transport = streamable_http_client(f"{url}/mcp", http_client=http)
            async with Client(transport, mode="legacy", logging_callback=received) as client:
                await set_level(client, "info")
                result = await client.call_tool("system_batch_reserve", RESERVE)
                arrived_before_answer = received.texts()
    assert not result.is_error and arrived_before_answer[0].startswith(APPLIED)


async def test_a_runaway_writer_is_cut_at_the_bound_and_never_blocked(system_server: MCPServer) -> None:
    """A tool that writes far more records than a request may carry: the call answers; MAX_RECORDS arrive."""
    flood = logging.getLogger("mcp_server.tests.flood")

    async def noisy() -> str:
        """Writes many records."""
        for n in range(MAX_RECORDS * 3):
            flood.info("record %d", n)
        return "done"

    system_server.add_tool(noisy)
    received = Received()
    async with legacy_client(system_server, received) as client:
        await set_level(client, "info")
        result = await client.call_tool("noisy", {})
    assert not result.is_error
    assert received.texts() == [f"record {n}" for n in range(MAX_RECORDS)]

