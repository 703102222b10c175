"""What the agent runtime's tests share: a small MCP server standing in for the real tools, settings helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.message import ServerMessageMetadata
from mcp_types import ElicitRequest, ElicitRequestFormParams, ElicitResult, RequestParamsMeta

from calendar_agent.settings import Settings, load_settings
from domain.system_agent.cards import CARD_META_KEY, Card
from chat_bridge.agent.agents import build_provider
from chat_bridge.agent.providers import LLMProvider
from tests.fakes.llm import ScriptedLLM

OPERATOR = "12125550123"  # the system agent's chat: the operator writes as `secretary`


# The card a calendar tool sends with its question, in the request's `_meta` (`domain.system_agent.cards`).
PREVIEW = Card(reservations=3, days={"2026-12-03": 3}, actions={"cancelled": 3}, failed=0, failures={}, affected=[],
               affected_more=0, failing=[], failing_more=0, effects={"bookings": 3}, so_far={}, asks_because=[],
               window_minutes=60)
CONFIRM_SCHEMA: Any = {"type": "object", "properties": {"confirm": {"type": "boolean", "default": False}}}


def question(text: str, card: object = PREVIEW) -> ElicitRequestFormParams:
    """A yes/no question as the calendar tools ask it: `card` in its `_meta` (dumped when it is a Card)."""
    meta = cast(RequestParamsMeta, {CARD_META_KEY: card.model_dump(mode="json") if isinstance(card, Card) else card})
    return ElicitRequestFormParams(message=text, requested_schema=CONFIRM_SCHEMA, _meta=meta)


def build_toolbox() -> MCPServer:
    """A small MCP server standing in for the real tools: plain, failing, oversized and eliciting ones."""
    server = MCPServer("toolbox", instructions="Look customers up before adding numbers.")

    @server.tool()
    def lookup(name: str) -> str:
        """Find a customer by name."""
        return f"{name} is customer 966501234567."

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.tool()
    def report(size: int) -> str:
        """A report of `size` characters."""
        return "r" * size

    @server.tool()
    def book_full_slot() -> str:
        """Always refused."""
        raise ToolError("This time slot is fully booked.")

    @server.tool()
    async def cancel_day(date: str, ctx: Context) -> str:
        """Cancel every reservation of a day once the operator confirms."""
        answer = await ctx.session.send_request(
            ElicitRequest(params=question(f"Cancel the 3 reservations of {date}?")), ElicitResult,
            metadata=ServerMessageMetadata(related_request_id=ctx.request_id))
        if answer.action == "accept" and (answer.content or {}).get("confirm") is True:
            return f"Cancelled 3 reservations on {date}."
        return f"Nothing cancelled: the operator's answer was {answer.action}."

    return server


def settings_for(llm: ScriptedLLM, **overrides: Any) -> Settings:
    return load_settings(**{**llm.settings_overrides(), "llm_timeout_seconds": 5.0, **overrides})


@asynccontextmanager
async def provider_for(llm: ScriptedLLM, **overrides: Any) -> AsyncIterator[LLMProvider]:
    """A provider on the fake `llm` with these settings, closed after the block."""
    provider = build_provider(settings_for(llm, **overrides).agent_config().model)
    try:
        yield provider
    finally:
        await provider.aclose()
