"""Shared test vocabulary: customers, dates of the fixed clock's week, elicitation answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any


from mcp import Client
from mcp.client.session import ClientRequestContext
from mcp.server import MCPServer
from mcp_types import CallToolResult, ElicitRequestParams, ElicitResult

from domain.rules.schedule import is_ramadan

THRESHOLD = 20
ALICE = "966501234567"
BOB = "966507654321"
SLOTS = ("11:00", "13:00", "15:00")
# The fixed clock is Tuesday 2026-12-01 10:00 in Riyadh.
WEDNESDAY, THURSDAY, FRIDAY, SUNDAY = "2026-12-02", "2026-12-03", "2026-12-04", "2026-12-06"

Seed = Callable[..., Awaitable[list[int]]]
Elicitation = Callable[[ClientRequestContext, ElicitRequestParams], Awaitable[ElicitResult]]


def wa_id(n: int) -> str:
    """A valid Saudi mobile number, distinct for each n."""
    return f"96650{n:07d}"


def weekdays(start: str, count: int) -> list[str]:
    """`count` dates from `start` on with slots 11:00, 13:00 and 15:00 (no Friday, Saturday or Ramadan)."""
    days: list[str] = []
    day = date.fromisoformat(start)
    while len(days) < count:
        if day.weekday() not in (4, 5) and not is_ramadan(day):
            days.append(day.isoformat())
        day += timedelta(days=1)
    return days


def answering(action: str, content: dict[str, Any] | None = None) -> tuple[Elicitation, list[str]]:
    """An elicitation callback giving `action`, and the list of messages it was asked."""
    asked: list[str] = []

    async def callback(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action=action, content=content if action == "accept" else None)  # type: ignore[arg-type]

    return callback, asked


# --- Calling tools in memory ---------------------------------------------------------------------


async def call(server: MCPServer, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    async with Client(server) as client:
        return await client.call_tool(tool, arguments)


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    structured: dict[str, Any] = result.structured_content
    assert structured is not None
    return structured


def text(result: CallToolResult) -> str:
    return result.content[0].text  # type: ignore[union-attr]
