"""more_tools: a toolset's tools read in one call, and each run through it exactly as a direct call runs it."""

import json
from typing import Any

import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp_types import CallToolResult
from sqlalchemy import func, select

from calendar_agent.settings import SettingsError, load_settings
from domain.storage.models import Vacation
from domain.services import Services
from mcp_scenario import WEDNESDAY, Seed, answering, call, data, text
from mcp_server.toolsets import TOOLSETS, listed_toolsets

YEAR = {"start_date": "2027-01-01", "end_date": "2027-12-31", "title": "Renovation"}  # 365 days: over the limit


def through(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"tool": tool, "arguments": arguments}


async def closed_days(services: Services) -> int:
    async with services.db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(Vacation)) or 0)


async def test_a_toolset_is_read_in_one_call_with_each_tools_description_and_arguments(
        system_server: MCPServer, every_tool_server: MCPServer) -> None:
    async with Client(every_tool_server) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    result = await call(system_server, "more_tools", {"toolset": "closures"})
    assert [tool["name"] for tool in data(result)["tools"]] == list(TOOLSETS["closures"])
    blocks = [block.rpartition("\narguments: ") for block in text(result).split("\n\n")]
    assert [(head, json.loads(schema)) for head, _, schema in blocks] == [
        (f"{name}: {listed[name].description}", listed[name].input_schema) for name in TOOLSETS["closures"]]


async def test_a_tool_run_through_more_tools_answers_as_a_direct_call(
        system_server: MCPServer, seed: Seed) -> None:
    await seed([WEDNESDAY], 4)
    arguments = {"start_date": WEDNESDAY}
    direct = await call(system_server, "system_get_reservation_snapshot", arguments)
    routed = await call(system_server, "more_tools", through("system_get_reservation_snapshot", arguments))
    assert text(routed) == text(direct) and data(routed) == data(direct)
    assert data(routed)["totals"]["reservations"] == 4


async def test_bad_arguments_through_more_tools_are_refused_as_a_direct_call_refuses_them(
        system_server: MCPServer, services: Services) -> None:
    wrong = {"start_date": "2027-01-01", "title": "x", "colour": "red"}
    direct = await call(system_server, "system_close_days", wrong)
    routed = await call(system_server, "more_tools", through("system_close_days", wrong))
    assert routed.is_error and direct.is_error and text(routed) == text(direct)
    assert "colour" in text(routed)
    assert await closed_days(services) == 0


@pytest.mark.parametrize("arguments, says", [
    ({}, "Name a toolset (messaging, closures, reports, waitlist), or a tool and its arguments."),
    ({"toolset": "billing"}, "Name a toolset (messaging, closures, reports, waitlist)"),
    (through("system_batch_cancel", {"filters": {"dates": [WEDNESDAY]}}), "call system_batch_cancel directly"),
    (through("no_such_tool", {}), "call no_such_tool directly"),
])
async def test_more_tools_runs_only_its_toolsets_tools(system_server: MCPServer, arguments: dict[str, Any],
                                                        says: str) -> None:
    result = await call(system_server, "more_tools", arguments)
    assert result.is_error and says in text(result)


async def test_hostile_more_tools_arguments_are_refused_before_anything_runs(system_server: MCPServer) -> None:
    for arguments in ({"tool": "x" * 1_000_000}, {"tool": "system_close_days", "arguments": ["2027-01-01"]},
                      {"toolset": "closures", "extra": True}):
        result: CallToolResult = await call(system_server, "more_tools", arguments)
        assert result.is_error, arguments
        assert len(text(result)) < 2_000  # the refusal quotes the input by its size, not whole


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_closure_through_more_tools_asks_the_user_and_applies_only_on_yes(
        system_server: MCPServer, services: Services, mode: str) -> None:
    declined, asked_no = answering("decline")
    async with Client(system_server, elicitation_callback=declined, mode=mode) as client:
        refused = await client.call_tool("more_tools", through("system_close_days", YEAR))
    assert data(refused)["status"] == "declined" and await closed_days(services) == 0
    accepted, asked_yes = answering("accept", {"confirm": True})
    async with Client(system_server, elicitation_callback=accepted, mode=mode) as client:
        applied = await client.call_tool("more_tools", through("system_close_days", YEAR))
    assert data(applied)["status"] == "applied" and await closed_days(services) == 1
    assert asked_no and asked_yes and "365" in asked_yes[0]


def test_mcp_toolsets_names_what_is_listed_and_refuses_what_is_not_a_toolset() -> None:
    assert listed_toolsets("") == ()
    assert listed_toolsets("all") == tuple(TOOLSETS)
    assert listed_toolsets(" reports, closures ,reports") == ("reports", "closures")
    with pytest.raises(ValueError, match="MCP_TOOLSETS names no toolset billing; it takes messaging, closures, "
                                         "reports, waitlist, or all"):
        listed_toolsets("closures,billing")
    with pytest.raises(SettingsError, match="Invalid setting MCP_TOOLSETS: .*names no toolset billing"):
        load_settings(mcp_toolsets="billing")
