"""What the bridge's model reads of a tool: the meaning of its schema, without what only the server acts on."""

from __future__ import annotations

from mcp.types import Tool

from chat_bridge.agent.messages import ToolCall
from chat_bridge.agent.model_tools import MORE_TOOLS, as_run, for_model
from mcp_server.toolsets import MORE_TOOLS as SERVERS_GATEWAY

SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["requests"],
    "properties": {
        "requests": {"type": "array", "maxItems": 10000, "description": "Reservations", "items": {
            "type": "object", "additionalProperties": False, "required": ["wa_id"], "properties": {
                "wa_id": {"type": "string", "maxLength": 40},
                "reservation_id": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                "hijri": {"type": "boolean"}}}},
        "mode": {"type": "string", "enum": ["best_effort", "atomic"], "default": "best_effort"},
        "max_results": {"type": "integer", "minimum": 1, "maximum": 500},
        "dry_run": {"type": "boolean", "default": False},
        "extra": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
}


def test_the_model_reads_the_meaning_without_the_servers_bounds() -> None:
    read = for_model(Tool(name="t", input_schema=SCHEMA)).input_schema

    assert read == {
        "type": "object", "additionalProperties": False, "required": ["requests"],
        "properties": {
            "requests": {"type": "array", "description": "Reservations", "items": {
                "type": "object", "required": ["wa_id"], "properties": {
                    "wa_id": {"type": "string"}, "reservation_id": {"type": "integer"}, "hijri": {"type": "boolean"}}}},
            "mode": {"type": "string", "enum": ["best_effort", "atomic"], "default": "best_effort"},
            "max_results": {"type": "integer", "maximum": 500},
            "dry_run": {"type": "boolean"},
            "extra": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
    }


def test_a_tool_run_through_more_tools_is_recorded_under_its_own_name() -> None:
    routed = ToolCall("call-1", "more_tools", {"tool": "system_close_days", "arguments": {"start_date": "2027-01-01"}})

    assert as_run(routed) == ToolCall("call-1", "system_close_days", {"start_date": "2027-01-01"})
    assert as_run(ToolCall("call-2", "more_tools", {"toolset": "closures"})).name == "more_tools"
    assert as_run(ToolCall("call-3", "system_batch_cancel", {"tool": "x"})).name == "system_batch_cancel"


def test_the_bridge_names_the_gateway_as_the_server_does() -> None:
    assert MORE_TOOLS == SERVERS_GATEWAY  # the layers may not import each other: the name is pinned here
