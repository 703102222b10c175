"""`calendar-agent mcp` over stdio, as Claude Desktop runs it: a subprocess speaking on stdin/stdout."""

import os
import sys
import warnings
from datetime import date, timedelta
from pathlib import Path

from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import LoggingMessageNotificationParams

from calendar_agent.migrate import upgrade
from mcp_server.toolsets import TOOLSETS


def command(tmp_path: Path) -> StdioServerParameters:
    """`calendar-agent mcp` over a calendar created as `calendar-agent db upgrade` creates it (`mcp` creates none)."""
    (tmp_path / "var").mkdir(exist_ok=True)
    upgrade(f"sqlite+aiosqlite:///{tmp_path}/var/calendar.db")
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/var/calendar.db", "PATH": os.environ.get("PATH", "")}
    return StdioServerParameters(command=sys.executable, args=["-m", "calendar_agent.cli", "mcp"], env=env,
                                 cwd=tmp_path)


async def test_stdio_serves_the_system_tools_over_a_new_calendar(tmp_path: Path) -> None:
    async with Client(command(tmp_path)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        found = await client.call_tool("system_get_reservations", {})
    assert {"system_batch_modify", "system_undo_batch"} <= names
    assert found.structured_content is not None
    assert found.structured_content["summary"]["total_reservations"] == 0


async def test_over_stdio_the_toolsets_are_reached_through_more_tools_unless_listed(tmp_path: Path) -> None:
    """As Claude Desktop starts it: the core tools and more_tools; MCP_TOOLSETS=all lists every tool instead."""
    async with Client(command(tmp_path)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        read = await client.call_tool("more_tools", {"toolset": "reports"})
        ran = await client.call_tool("more_tools", {"tool": "system_get_reservation_snapshot",
                                                    "arguments": {"start_date": "2027-01-03"}})
    assert "more_tools" in names and "system_get_reservation_snapshot" not in names
    assert read.structured_content is not None
    assert [t["name"] for t in read.structured_content["tools"]] == list(TOOLSETS["reports"])
    assert not ran.is_error and ran.structured_content is not None and ran.structured_content["totals"]["days"] == 1
    every = command(tmp_path)
    every.env = {**(every.env or {}), "MCP_TOOLSETS": "all"}
    async with Client(every) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
    assert "more_tools" not in listed and set(TOOLSETS["reports"]) <= listed


async def test_over_stdio_a_batchs_log_record_reaches_a_client_that_set_its_level(tmp_path: Path) -> None:
    """The process logs at its default LOG_LEVEL (info); a client that asks for info hears of the batch it ran."""
    received: list[LoggingMessageNotificationParams] = []

    async def heard(params: LoggingMessageNotificationParams) -> None:
        received.append(params)

    start, end = date.today() + timedelta(days=2), date.today() + timedelta(days=9)
    async with Client(command(tmp_path), mode="legacy", logging_callback=heard) as client:
        found = await client.call_tool("search_available_appointments", {"start_date": start.isoformat(),
                                                                         "end_date": end.isoformat()})
        assert found.structured_content is not None
        day = next(d for d in found.structured_content["days"] if d["slots"])
        booking = {"requests": [{"wa_id": "966501234567", "date": day["date"],
                                 "time_slot": day["slots"][0]["time_slot"]}]}
        with warnings.catch_warnings():  # deprecated from 2026-07-28 on; what handshake-era clients send
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await client.set_logging_level("info")
        result = await client.call_tool("system_batch_reserve", booking)
        told = [str(m.data) for m in received]
    assert result.structured_content is not None
    assert told == [f"system_batch_reserve: applied (ok 1), batch {result.structured_content['batch_id']}"]
