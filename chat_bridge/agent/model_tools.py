"""The tools as a model reads them, and a tool call as the operator's sidebar shows it."""

from __future__ import annotations

from typing import Any

from mcp.types import Tool

from chat_bridge.agent.messages import ToolCall

MORE_TOOLS = "more_tools"  # the system server's way to its toolsets (mcp_server.toolsets)
UNBOUNDED = 2**31 - 1  # a maximum this large says nothing to a model


def for_model(tool: Tool) -> Tool:
    """The tool as a model reads it: its schema without the length and count bounds, which the server enforces
    (a value past one is refused with a sentence saying so) and which tell a model nothing it acts on."""
    return tool.model_copy(update={"input_schema": _without_bounds(tool.input_schema)})


def _without_bounds(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_bounds(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {k: _without_bounds(v) for k, v in node.items() if k not in ("properties", "maxLength", "maxItems")}
    if "properties" in node:
        result["properties"] = {name: _without_bounds(sub) for name, sub in node["properties"].items()}
    if result.get("maximum", 0) >= UNBOUNDED:
        result.pop("maximum")
    return result


def as_run(call: ToolCall) -> ToolCall:
    """The call as the sidebar records it: a toolset's tool run through `more_tools` under its own name and
    arguments (the same id, which is all a provider's wire format keeps of it)."""
    arguments = call.arguments
    tool, given = arguments.get("tool"), arguments.get("arguments")
    if call.name != MORE_TOOLS or not isinstance(tool, str) or not tool:
        return call
    return ToolCall(call.id, tool, given if isinstance(given, dict) else {})
