"""The Anthropic Messages API as an `LLMProvider`: tool_use and tool_result content blocks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import anthropic
from anthropic.types import Message
from mcp.types import Tool

from chat_bridge.agent.config import ModelConfig
from chat_bridge.agent.messages import Completion, ToolCall, Turn
from chat_bridge.agent.providers import (
    ToolSpec, api_failure,
)

DEFAULT_MODEL = "claude-sonnet-4-6"
DEFAULT_BASE_URL = "https://api.anthropic.com"
# A self-hosted endpoint may need no key, but the SDK insists on one.
PLACEHOLDER_KEY = "not-needed"


class AnthropicProvider:
    """Claude through `AsyncAnthropic`; the SDK retries what is worth retrying."""

    def __init__(
        self, api_key: str, model: str = DEFAULT_MODEL, *, base_url: str = "", timeout: float = 60.0,
        max_tokens: int = 4096, max_retries: int = 2,
    ) -> None:
        self.base_url = base_url or DEFAULT_BASE_URL
        self.client = anthropic.AsyncAnthropic(
            api_key=api_key or PLACEHOLDER_KEY, base_url=self.base_url, max_retries=max_retries, timeout=timeout
        )
        self.model = model or DEFAULT_MODEL
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_tokens = max_tokens
        self.label = f"Anthropic {self.model}"

    @classmethod
    def from_config(cls, config: ModelConfig) -> AnthropicProvider:
        return cls(config.api_key, config.model, base_url=config.base_url, timeout=config.timeout_seconds,
                   max_retries=config.max_retries)

    async def aclose(self) -> None:
        await self.client.close()

    def tool_specs(self, tools: Sequence[Tool]) -> list[ToolSpec]:
        return [{"name": t.name, "description": t.description or "", "input_schema": t.input_schema} for t in tools]

    async def complete(self, system: str, messages: Sequence[Turn], tools: Sequence[ToolSpec]) -> Completion:
        try:
            response = await self.client.messages.create(
                model=self.model, max_tokens=self.max_tokens, system=system,
                messages=cast(Any, wire_messages(messages)), tools=cast(Any, list(tools)) if tools else anthropic.omit,
            )
        except anthropic.AnthropicError as error:
            raise api_failure(anthropic, error, self, "ANTHROPIC_API_KEY") from None
        return completion(response)


def wire_messages(turns: Sequence[Turn]) -> list[dict[str, Any]]:
    """Turns as Messages API messages; the API wants the conversation to open with the user."""
    start = next((i for i, turn in enumerate(turns) if turn.role == "user"), len(turns))
    return [wire_message(turn) for turn in turns[start:]]


def wire_message(turn: Turn) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "tool_result", "tool_use_id": r.call.id, "content": r.text, "is_error": r.is_error}
        for r in turn.tool_results
    ]
    if turn.text:
        blocks.append({"type": "text", "text": turn.text})
    blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in turn.tool_calls]
    return {"role": turn.role, "content": blocks}


def completion(response: Message) -> Completion:
    text = "".join(block.text for block in response.content if block.type == "text")
    calls = tuple(
        ToolCall(block.id, block.name, dict(block.input)) for block in response.content if block.type == "tool_use"
    )
    return Completion(text, calls)
