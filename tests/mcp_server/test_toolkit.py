"""`toolkit.declare` is the one place that reaches under the SDK's public API: it replaces a tool's argument model
(`Tool.fn_metadata.arg_model`, to refuse unknown arguments) and its published schemas. These tests drive a declared
tool through the SDK's own client in memory, so that an SDK that lists, validates or calls tools another way fails
here, by name, rather than in a model's turn."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from mcp import Client
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp_types import TextContent
from pydantic import BaseModel

from domain.errors import DomainError
from mcp_server.clinic_tools import ArabicArg
from mcp_server.toolkit import READ_ONLY, ClinicServer, declare

SDK = f"mcp {version('mcp')}"


class Counted(BaseModel):
    count: int


def counting_tool(ran: list[int]) -> Tool:
    async def count_up(count: int = 1, ar: ArabicArg = False) -> Counted:
        """Count up to `count`; more than 3 is refused."""
        if count > 3:
            raise DomainError("invalid_batch", reason="at most 3")
        ran.append(count)
        return Counted(count=count)
    return declare(count_up, title="Count", annotations=READ_ONLY)


def text(result: Any) -> str:
    return "".join(part.text for part in result.content if isinstance(part, TextContent))


def test_the_sdk_still_has_the_parts_declare_replaces() -> None:
    assert {"arg_model", "output_schema"} <= set(FuncMetadata.model_fields), f"{SDK}: FuncMetadata changed"
    assert {"fn_metadata", "parameters"} <= set(Tool.model_fields), f"{SDK}: Tool changed"
    tool = counting_tool([])
    assert issubclass(tool.fn_metadata.arg_model, ArgModelBase), f"{SDK}: the argument model is no ArgModelBase"


async def test_a_declared_tool_is_listed_with_the_schemas_declare_made() -> None:
    tool = counting_tool([])
    async with Client(ClinicServer("toolkit", tools=[tool])) as client:
        [listed] = (await client.list_tools()).tools
    assert listed.input_schema == tool.parameters
    assert listed.input_schema["additionalProperties"] is False
    assert set(listed.input_schema["properties"]) == {"count", "ar"}
    assert "description" not in listed.input_schema["properties"]["ar"]  # described once, in the instructions
    assert listed.output_schema == tool.fn_metadata.output_schema


async def test_a_declared_tool_refuses_an_unknown_argument_before_it_runs() -> None:
    ran: list[int] = []
    async with Client(ClinicServer("toolkit", tools=[counting_tool(ran)])) as client:
        refused = await client.call_tool("count_up", {"count": 2, "colour": "red"})
        answered = await client.call_tool("count_up", {"count": 2})
    assert refused.is_error and "colour" in text(refused), f"{SDK}: unknown arguments are no longer refused"
    assert not answered.is_error and answered.structured_content == {"count": 2}
    assert ran == [2]


async def test_a_declared_tool_answers_a_domain_error_as_a_tool_error_in_the_language_asked() -> None:
    async with Client(ClinicServer("toolkit", tools=[counting_tool([])])) as client:
        english = await client.call_tool("count_up", {"count": 5})
        arabic = await client.call_tool("count_up", {"count": 5, "ar": True})
    assert english.is_error and text(english).endswith(": The batch is invalid: at most 3")
    assert arabic.is_error and text(arabic).endswith(": الدفعة غير صالحة: at most 3")
