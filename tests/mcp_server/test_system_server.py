"""What any MCP client sees in tools/list: the core tools and more_tools by default, every tool of the plan with
MCP_TOOLSETS=all; inline schemas, honest annotations."""

import json

from mcp import Client
from mcp.server import MCPServer
from mcp_types import ListToolsResult, Tool
from pydantic import BaseModel

from domain.system_agent.requests import CancelItem, Filters, ModifyItem, ReserveItem, Updates
from mcp_server.schemas import SHARED_ARGUMENTS
from mcp_server.toolsets import TOOLSETS

SYSTEM_TOOLS = {
    "get_current_datetime", "search_available_appointments", "system_get_reservations", "system_batch_reserve",
    "system_batch_modify", "system_batch_cancel", "system_undo_batch", "system_get_wa_ids_by_date_range",
    "system_analyze_conversations", "system_get_reservation_snapshot", "system_get_batch",
    "system_message_customers", "system_get_notices", "system_close_days", "system_reopen_days",
    "system_find_customers", "system_get_dashboard", "system_mark_attendance",
    "system_waitlist",
}
READ_TOOLS = {"get_current_datetime", "search_available_appointments", "system_get_reservations",
              "system_get_wa_ids_by_date_range", "system_analyze_conversations", "system_get_reservation_snapshot",
              "system_get_batch", "system_get_notices", "system_find_customers",
              "system_get_dashboard"}


async def listed(server: MCPServer) -> ListToolsResult:
    async with Client(server) as client:
        return await client.list_tools()


def wire(value: ListToolsResult | Tool) -> str:
    return json.dumps(value.model_dump(mode="json", by_alias=True, exclude_none=True), ensure_ascii=False,
                      separators=(",", ":"))


async def test_the_system_server_lists_the_plans_tools(every_tool_server: MCPServer) -> None:
    assert {tool.name for tool in (await listed(every_tool_server)).tools} == SYSTEM_TOOLS


async def test_by_default_the_core_tools_are_listed_and_more_tools_reaches_the_rest(
        system_server: MCPServer) -> None:
    tools = {tool.name: tool for tool in (await listed(system_server)).tools}
    reached = {name for members in TOOLSETS.values() for name in members}
    assert set(tools) == SYSTEM_TOOLS - reached | {"more_tools"}
    more = tools["more_tools"]
    assert more.input_schema["properties"]["toolset"]["enum"] == list(TOOLSETS)
    assert all(name in (more.description or "") for name in reached)


async def test_tools_list_is_at_most_16_kb_with_every_capability(system_server: MCPServer) -> None:
    # The core tools in full and more_tools, which names every other tool (README, Performance).
    assert len(wire(await listed(system_server)).encode()) <= 16_000


async def test_tools_list_has_no_ref_or_defs_anywhere(every_tool_server: MCPServer) -> None:
    text = wire(await listed(every_tool_server))
    assert "$ref" not in text and "$defs" not in text


async def test_read_tools_are_annotated_read_only_and_closed_world(every_tool_server: MCPServer) -> None:
    for tool in (await listed(every_tool_server)).tools:
        if tool.name in READ_TOOLS:
            assert tool.annotations is not None and tool.annotations.read_only_hint is True, tool.name
            assert tool.annotations.open_world_hint is False, tool.name


async def test_write_tools_are_annotated_destructive_idempotent_and_closed_world(every_tool_server: MCPServer) -> None:
    for tool in (await listed(every_tool_server)).tools:
        if tool.name not in READ_TOOLS:
            annotations = tool.annotations
            assert annotations is not None and annotations.read_only_hint in (None, False), tool.name
            assert annotations.destructive_hint is True and annotations.idempotent_hint is True, tool.name
            assert annotations.open_world_hint is False, tool.name


async def test_every_tool_publishes_an_object_output_schema(every_tool_server: MCPServer) -> None:
    for tool in (await listed(every_tool_server)).tools:
        assert tool.output_schema is not None and tool.output_schema["type"] == "object", tool.name


async def test_every_input_schema_refuses_unknown_arguments(every_tool_server: MCPServer) -> None:
    for tool in (await listed(every_tool_server)).tools:
        assert tool.input_schema["additionalProperties"] is False, tool.name


async def test_batch_request_items_are_described_inline(every_tool_server: MCPServer) -> None:
    tools = {tool.name: tool for tool in (await listed(every_tool_server)).tools}
    item = tools["system_batch_reserve"].input_schema["properties"]["requests"]["items"]
    assert item["required"] == ["wa_id", "date", "time_slot"]
    assert "0 Check-up, 1 Follow-up" in item["properties"]["reservation_type"]["description"]


async def test_the_model_is_told_the_date_time_and_zone_formats(every_tool_server: MCPServer) -> None:
    tools = {tool.name: tool for tool in (await listed(every_tool_server)).tools}
    text = wire(tools["search_available_appointments"]) + (every_tool_server.instructions or "")
    for expected in ("YYYY-MM-DD", "DD-MM-YYYY", "Hijri", "13:00", "1:00 PM", "Asia/Riyadh"):
        assert expected in text


async def test_the_server_instructions_say_confirmation_is_by_effect_not_by_call(every_tool_server: MCPServer) -> None:
    said = every_tool_server.instructions or ""
    assert "confirms by effect, not by call" in said and "splitting a change into smaller calls asks" in said


async def test_batch_schemas_publish_every_field_of_the_domains_request_models(every_tool_server: MCPServer) -> None:
    tools = {tool.name: tool.input_schema["properties"] for tool in (await listed(every_tool_server)).tools}
    published = {"reserve": tools["system_batch_reserve"]["requests"]["items"],
                 "modify": tools["system_batch_modify"]["requests"]["items"],
                 "cancel": tools["system_batch_cancel"]["requests"]["items"],
                 "filters": tools["system_batch_cancel"]["filters"], "updates": tools["system_batch_modify"]["updates"]}
    models: dict[str, type[BaseModel]] = {"reserve": ReserveItem, "modify": ModifyItem, "cancel": CancelItem,
                                          "filters": Filters, "updates": Updates}
    for name, model in models.items():
        assert set(published[name]["properties"]) == set(model.model_fields), name
        assert published[name]["additionalProperties"] is False, name


async def test_batch_schemas_publish_one_name_per_field(every_tool_server: MCPServer) -> None:
    tools = {tool.name: tool.input_schema["properties"] for tool in (await listed(every_tool_server)).tools}
    reserve = tools["system_batch_reserve"]["requests"]["items"]["properties"]
    assert reserve["reservation_type"] == {"description": "0 Check-up, 1 Follow-up", "minimum": 0, "type": "integer"}
    assert "date_str" not in wire(await listed(every_tool_server))  # accepted (test_batch_tools), not advertised


async def test_shared_arguments_are_described_once_in_the_instructions(every_tool_server: MCPServer) -> None:
    async with Client(every_tool_server) as client:
        tools, instructions = (await client.list_tools()).tools, client.instructions or ""
    for name, meaning in SHARED_ARGUMENTS.items():
        assert f"{name}: {meaning}" in instructions
        taking = [tool for tool in tools if name in tool.input_schema["properties"]]
        assert taking and all("description" not in tool.input_schema["properties"][name] for tool in taking), name
    assert "Dates are YYYY-MM-DD or DD-MM-YYYY; times 13:00 or 1:00 PM." in instructions
    assert "YYYY-MM-DD" not in wire(ListToolsResult(tools=tools))
