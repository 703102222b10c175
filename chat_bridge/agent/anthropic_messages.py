"""The Anthropic Messages API as an `LLMProvider`: tool_use and tool_result content blocks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, cast

import anthropic
from anthropic.types import Message
from mcp.types import Tool

from chat_bridge.agent.messages import Completion, ToolCall, Turn
from chat_bridge.agent.providers import SdkProvider, ToolSpec, stable_and_per_turn

DEFAULT_MODEL = "claude-sonnet-4-6"
DEFAULT_BASE_URL = "https://api.anthropic.com"
MAX_TOKENS = 4096


class AnthropicProvider(SdkProvider):
    """Claude through `AsyncAnthropic`; the SDK retries what is worth retrying."""

    vendor = "Anthropic"
    sdk: ClassVar[Any] = anthropic
    key_setting = "ANTHROPIC_API_KEY"
    default_model = DEFAULT_MODEL
    default_base_url = DEFAULT_BASE_URL
    max_tokens = MAX_TOKENS

    def connect(self, api_key: str) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(api_key=api_key, base_url=self.base_url, max_retries=self.max_retries,
                                        timeout=self.timeout)

    def tool_specs(self, tools: Sequence[Tool]) -> list[ToolSpec]:
        return [{"name": t.name, "description": t.description or "", "input_schema": t.input_schema} for t in tools]

    async def complete(self, system: str, messages: Sequence[Turn], tools: Sequence[ToolSpec]) -> Completion:
        try:
            response = await self.client.messages.create(
                model=self.model, max_tokens=self.max_tokens, system=cast(Any, system_blocks(system)),
                messages=cast(Any, cached_tail(wire_messages(messages))),
                tools=cast(Any, list(tools)) if tools else anthropic.omit,
            )
        except anthropic.AnthropicError as error:
            raise self.failure(error) from None
        return completion(response)


CACHED = {"type": "ephemeral"}


def system_blocks(system: str) -> list[dict[str, Any]]:
    """The system prompt as blocks: the part every turn shares marked for the prompt cache (with the tools before
    it, it is the same prefix on every request), then this turn's facts (the clock), after the breakpoint."""
    stable, per_turn = stable_and_per_turn(system)
    blocks: list[dict[str, Any]] = [{"type": "text", "text": stable, "cache_control": CACHED}]
    return blocks + ([{"type": "text", "text": per_turn}] if per_turn else [])


def cached_tail(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation with a cache breakpoint on its newest block: the next round of the turn, which sends all
    of it again and more, reads it from the cache."""
    if messages and messages[-1]["content"]:
        last = messages[-1]
        messages[-1] = dict(last, content=[*last["content"][:-1], dict(last["content"][-1], cache_control=CACHED)])
    return messages


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
