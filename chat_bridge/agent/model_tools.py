"""The tools as a model reads them, and a tool call as the operator's sidebar shows it."""

from __future__ import annotations

from typing import Any

from mcp.types import Tool

from chat_bridge.agent.messages import ToolCall

MORE_TOOLS = "more_tools"  # the system server's way to its toolsets (mcp_server.toolsets)
UNBOUNDED = 2**31 - 1  # a maximum this large says nothing to a model


def for_model(tool: Tool) -> Tool:
    """The tool as a model reads it: its schema without what the server enforces and a model never acts on: the
    bounds (`maxLength`, `maxItems`, `minimum`, an unbounded `maximum`; a value past one is refused with a
    sentence), the refusal of unknown fields inside an argument (the server refuses them just the same) and a
    flag's `false` default (what leaving it out means)."""
    schema = _without_bounds(tool.input_schema)
    schema["properties"] = {name: _without_false_default(sub) for name, sub in schema.get("properties", {}).items()}
    return tool.model_copy(update={"input_schema": schema})


def _without_bounds(node: Any, top: bool = True) -> Any:
    if isinstance(node, list):
        return [_without_bounds(item, False) for item in node]
    if not isinstance(node, dict):
        return node
    refusal = not top and node.get("additionalProperties") is False  # an inner object's: the server's business
    result = {k: _without_bounds(v, False) for k, v in node.items()
              if k not in ("properties", "maxLength", "maxItems", "minimum") and not (refusal and k == "additionalProperties")}
    if "properties" in node:
        result["properties"] = {name: _without_bounds(sub, False) for name, sub in node["properties"].items()}
    if result.get("maximum", 0) >= UNBOUNDED:
        result.pop("maximum")
    return result


def _without_false_default(argument: Any) -> Any:
    if isinstance(argument, dict) and argument.get("type") == "boolean" and argument.get("default") is False:
        return {k: v for k, v in argument.items() if k != "default"}
    return argument


def as_run(call: ToolCall) -> ToolCall:
    """The call as the sidebar records it: a toolset's tool run through `more_tools` under its own name and
    arguments (the same id, which is all a provider's wire format keeps of it)."""
    arguments = call.arguments
    tool, given = arguments.get("tool"), arguments.get("arguments")
    if call.name != MORE_TOOLS or not isinstance(tool, str) or not tool:
        return call
    return ToolCall(call.id, tool, given if isinstance(given, dict) else {})
