"""Toolsets: the system server lists its core tools, and reaches the others through one more tool, `more_tools`.

Every request a client's model makes carries the schemas of the tools it was listed, so a tool that most
requests never use costs on all of them. The core tools (reading, the batch writes, undo, the clock and free
slots) are listed; the messaging, closures and reports toolsets are not, unless the server is built to list
them (`MCP_TOOLSETS`: names, or `all`). `more_tools` with a toolset's name answers its tools' descriptions and
arguments; with a tool's name and arguments it runs that tool, as a direct call would (the same checks,
confirmations and answers). A tool left out of the list is still called directly by a client that knows it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, InputRequiredResult, TextContent
from pydantic import Field

from mcp_server.toolkit import WRITES, answer, declare

MORE_TOOLS = "more_tools"
ALL = "all"
TOOLSETS: dict[str, tuple[str, ...]] = {
    "messaging": ("system_message_customers", "system_get_notices", "system_find_customers"),
    "closures": ("system_close_days", "system_reopen_days"),
    "reports": ("system_get_wa_ids_by_date_range", "system_analyze_conversations", "system_get_reservation_snapshot",
                "system_get_dashboard"),
    "waitlist": ("system_waitlist",),
}


def listed_toolsets(setting: str) -> tuple[str, ...]:
    """The toolsets `MCP_TOOLSETS` lists beside the core tools: none when empty, every one for `all`; an unknown
    name is refused with the names there are."""
    names = tuple(dict.fromkeys(part.strip() for part in setting.split(",") if part.strip()))
    if names == (ALL,):
        return tuple(TOOLSETS)
    unknown = [name for name in names if name not in TOOLSETS]
    if unknown:
        raise ValueError(f"MCP_TOOLSETS names no toolset {', '.join(unknown)}; it takes {', '.join(TOOLSETS)}, "
                         f"or {ALL}")
    return names


class ToolsetGateway:
    """`more_tools` over the toolsets of `tools` that are not listed."""

    def __init__(self, tools: Sequence[Tool], listed: Iterable[str]) -> None:
        shown = set(listed)
        by_name = {tool.name: tool for tool in tools}
        toolsets = {name: [by_name[tool] for tool in members if tool in by_name]
                    for name, members in TOOLSETS.items() if name not in shown}
        self.toolsets = {name: members for name, members in toolsets.items() if members}
        # The names of the tools `more_tools` reaches, which `tools/list` leaves out.
        self.unlisted = {tool.name for members in self.toolsets.values() for tool in members}

    def tool(self) -> Tool:
        """`more_tools`, its description naming every tool of each toolset, its `toolset` argument an enum of
        them. Annotated as a write: it can run one."""
        tool = declare(self.more_tools, title="More tools", annotations=WRITES)
        listing = "; ".join(f"{name}: {', '.join(t.name for t in members)}" for name, members in self.toolsets.items())
        tool.description = (f"Tools beyond these, by toolset: {listing}. Call with a toolset to read its tools, "
                            "then with a tool and its arguments to run one.")
        tool.parameters["properties"]["toolset"]["enum"] = list(self.toolsets)
        tool.fn_metadata.output_schema = {"type": "object"}  # the answer of whichever tool it ran
        return tool

    async def more_tools(
        self, ctx: Context,
        toolset: Annotated[str | None, Field(max_length=40)] = None,
        tool: Annotated[str | None, Field(max_length=64)] = None,
        arguments: dict[str, Any] | None = None,
    ) -> CallToolResult | InputRequiredResult:
        """A toolset's tools, or the answer of one of them (a question for the user included)."""
        if tool:
            return await self._run(tool, arguments or {}, ctx)
        if toolset in self.toolsets:
            members = self.toolsets[toolset]
            described = [{"name": t.name, "description": t.description, "arguments": t.parameters} for t in members]
            return answer("\n\n".join(_described(t) for t in members), {"toolset": toolset, "tools": described})
        raise ToolError(f"Name a toolset ({', '.join(self.toolsets)}), or a tool and its arguments.")

    async def _run(self, name: str, arguments: dict[str, Any], ctx: Context) -> CallToolResult | InputRequiredResult:
        if name not in self.unlisted:
            raise ToolError(f"more_tools runs the tools of its toolsets ({', '.join(sorted(self.unlisted))}); "
                            f"call {name} directly.")
        try:
            result = await ctx.mcp_server.call_tool(name, arguments, ctx)
        except UnexpectedToolError:
            raise
        except ToolError as error:  # as a direct call answers it: the error's sentence, marked as an error
            return CallToolResult(content=[TextContent(type="text", text=str(error))], is_error=True)
        return result  # an InputRequiredResult too: the client's retry of this call reaches the same tool


def _described(tool: Tool) -> str:
    schema = json.dumps(tool.parameters, ensure_ascii=False, separators=(",", ":"))
    return f"{tool.name}: {tool.description}\narguments: {schema}"
