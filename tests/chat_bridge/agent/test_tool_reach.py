"""The tools the loop gives the model for the person a turn acts for, and the calls it refuses without sending: the
same rule as the MCP server's, applied by the loop itself so that a remote tool server (`SYSTEM_AGENT_MCP_URL`),
which cannot know the person, leaves a viewer's agent read-only all the same."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.types import Tool
from sqlalchemy import func, select

from calendar_agent.bootstrap.serve import build_service_app
from chat_bridge.agent.acting import SYSTEM_AGENT, Asker, disabled, least_reach
from chat_bridge.agent.loop import AgentLoop
from chat_bridge.agent.messages import ToolCall, Turn
from chat_bridge.agent.reach import ToolReach, reaches
from chat_bridge.agent.sessions import remote_sessions
from domain.services import Services
from domain.staff.roles import READ_SCOPE, Principal, Role
from domain.storage.models import BatchRecord, Reservation, Vacation
from domain.system_agent.batch import SystemAgentBatchService
from domain.system_agent.queries import SystemAgentQueryService
from mcp_server.principals import allowed
from mcp_server.system_server import build_system_server
from mcp_server.toolkit import READ_ONLY, WRITES
from mcp_server.toolsets import TOOLSETS
from tests.chat_bridge.agent.support import provider_for
from tests.fakes.graph_api import FakeGraphApi, bridge_settings, graph_api  # noqa: F401 (fixture)
from tests.fakes.llm import Call, Reply, ScriptedLLM, more
from tests.fakes.loopback import serve_on_loopback

VIEWER = Principal("huda", Role.VIEWER)
OPERATOR = Principal("amal", Role.OPERATOR)
ADMIN = Principal("sami", Role.ADMIN)
READING_CLIENT = Principal("amal", Role.OPERATOR, scopes=(READ_SCOPE,), client="inspector")
MCP_TOKEN = "remote-tools-token"
CORE_WRITES = {"system_batch_reserve", "system_batch_modify", "system_batch_cancel", "system_undo_batch",
               "system_mark_attendance"}
YEAR = {"start_date": "2027-01-01", "end_date": "2027-01-02", "title": "Renovation"}

TOOLS = [Tool(name="system_get_reservations", input_schema={"type": "object"}, annotations=READ_ONLY),
         Tool(name="system_batch_cancel", input_schema={"type": "object"}, annotations=WRITES),
         Tool(name="more_tools", input_schema={"type": "object"}, annotations=WRITES)]


def call(name: str, **arguments: Any) -> ToolCall:
    return ToolCall("call_1", name, arguments)


async def test_the_loops_rule_is_the_mcp_servers_for_every_tool_and_every_principal(services: Services) -> None:
    queries = SystemAgentQueryService(services.db, services.config, services.clock, services.search)
    batch = SystemAgentBatchService(services.db, services.config, services.clock, services.search)
    tools = await build_system_server(services, batch, queries, tuple(TOOLSETS)).list_tools()

    assert {"system_close_days", "system_batch_cancel", "system_get_dashboard"} <= {tool.name for tool in tools}
    for who in (VIEWER, OPERATOR, ADMIN, READING_CLIENT):
        assert [reaches(who, t.name, t.annotations) for t in tools] == [allowed(who, t.name, t.annotations)
                                                                       for t in tools], who


def test_without_a_person_every_tool_is_given_and_an_unknown_one_named_as_before() -> None:
    reach = ToolReach(None, TOOLS)

    assert reach.given == TOOLS
    assert reach.refusal(call("system_batch_cancel")) is None
    assert reach.refusal(call("nope")) == ("There is no tool named 'nope'. Available: more_tools, "
                                           "system_batch_cancel, system_get_reservations.")


def test_a_viewer_is_given_the_reading_tools_and_a_listed_write_is_refused_naming_the_role() -> None:
    reach = ToolReach(VIEWER, TOOLS)

    assert [tool.name for tool in reach.given] == ["system_get_reservations", "more_tools"]
    assert reach.refusal(call("system_batch_cancel")) == (
        "system_batch_cancel may change the calendar, and huda is a viewer, who reads the calendar but does not "
        "change it. Nothing was run.")


def test_a_remote_servers_toolset_tool_run_for_a_viewer_is_refused_and_its_toolset_still_read() -> None:
    reach = ToolReach(VIEWER, TOOLS, remote=True)

    assert "huda is a viewer" in str(reach.refusal(call("more_tools", tool="system_message_customers")))
    assert reach.refusal(call("more_tools", toolset="messaging")) is None


def test_an_in_process_server_checks_a_toolset_tool_itself() -> None:
    assert ToolReach(VIEWER, TOOLS).refusal(call("more_tools", tool="system_get_dashboard")) is None


def test_a_remote_servers_closures_are_an_admins_and_its_other_toolset_tools_an_operators() -> None:
    assert ToolReach(OPERATOR, TOOLS, remote=True).refusal(call("more_tools", tool="system_close_days")) == (
        "system_close_days is an admin's tool, and amal is an operator. Nothing was run.")
    assert ToolReach(OPERATOR, TOOLS, remote=True).refusal(call("more_tools", tool="system_waitlist")) is None
    assert ToolReach(ADMIN, TOOLS, remote=True).refusal(call("more_tools", tool="system_close_days")) is None


def test_a_turn_acts_for_the_author_who_reaches_least_and_the_latest_of_equals() -> None:
    amal, omar = Asker(OPERATOR), Asker(Principal("omar", Role.OPERATOR))

    assert least_reach([Asker(VIEWER), amal]).principal == VIEWER
    assert least_reach([amal, Asker(ADMIN)]).principal == OPERATOR
    assert least_reach([amal, omar]).principal == omar.principal
    assert least_reach([amal, disabled("sara"), Asker(VIEWER)]).refused is not None
    assert least_reach([SYSTEM_AGENT, SYSTEM_AGENT]) == SYSTEM_AGENT == least_reach([])


async def counted(services: Services, table: Any, *where: Any) -> int:
    async with services.db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


@pytest.mark.parametrize("llm", ["anthropic"], indirect=True)
async def test_a_viewers_agent_on_a_remote_tool_server_is_read_only_though_the_servers_token_may_write(
        services: Services, graph_api: FakeGraphApi, llm: ScriptedLLM) -> None:  # noqa: F811
    await services.customers.ensure("966501110011", "Yousef Al-Amri")
    booking = (await services.reservations.reserve("966501110011", "2026-12-06", "11:00")).reservation
    assert booking is not None
    llm.script(Reply(calls=(Call("system_batch_cancel", {"requests": [{"reservation_id": booking.id}]}),
                            more("system_close_days", YEAR))), Reply("I may only read."))
    app = build_service_app(bridge_settings(graph_api, mcp_auth_token=MCP_TOKEN), services=services)

    async with serve_on_loopback(app) as url, provider_for(llm) as provider:
        loop = AgentLoop(provider, lambda notes: "Be brief.", remote_sessions(f"{url}/mcp", MCP_TOKEN),
                         remote_tools=True)
        reply = await loop.run([Turn("user", "Cancel Yousef and close January")], principal=VIEWER)

    assert reply.text == "I may only read."
    assert "more_tools" in llm.seen[0].tools and not CORE_WRITES & set(llm.seen[0].tools)
    assert [("huda is a viewer" in text) for _, text in llm.seen[1].tool_results] == [True, True]
    assert await counted(services, Reservation, Reservation.status == "active") == 1
    assert await counted(services, BatchRecord) == await counted(services, Vacation) == 0


@pytest.mark.parametrize("llm", ["anthropic"], indirect=True)
async def test_the_same_remote_server_lists_its_writes_to_a_turn_without_a_person(
        services: Services, graph_api: FakeGraphApi, llm: ScriptedLLM) -> None:  # noqa: F811
    llm.script(Reply("Hello."))
    app = build_service_app(bridge_settings(graph_api, mcp_auth_token=MCP_TOKEN), services=services)

    async with serve_on_loopback(app) as url, provider_for(llm) as provider:
        loop = AgentLoop(provider, lambda notes: "Be brief.", remote_sessions(f"{url}/mcp", MCP_TOKEN),
                         remote_tools=True)
        await loop.run([Turn("user", "Hello")])

    assert CORE_WRITES <= set(llm.seen[0].tools)
