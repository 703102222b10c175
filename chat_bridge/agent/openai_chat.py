"""The OpenAI Chat Completions API as an `LLMProvider`; any OpenAI-compatible endpoint through `base_url`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar, cast

import openai
from mcp.types import Tool
from openai.types.chat import ChatCompletion, ChatCompletionMessage

from chat_bridge.agent.messages import Completion, ToolCall, Turn
from chat_bridge.agent.providers import ProviderError, SdkProvider, ToolSpec

DEFAULT_MODEL = "gpt-4.1"
DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIProvider(SdkProvider):
    """Chat Completions through `AsyncOpenAI`; the SDK retries what is worth retrying."""

    vendor = "OpenAI"
    sdk: ClassVar[Any] = openai
    key_setting = "OPENAI_API_KEY"
    default_model = DEFAULT_MODEL
    default_base_url = DEFAULT_BASE_URL

    def connect(self, api_key: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(api_key=api_key, base_url=self.base_url, max_retries=self.max_retries,
                                  timeout=self.timeout)

    def tool_specs(self, tools: Sequence[Tool]) -> list[ToolSpec]:
        return [
            {"type": "function",
             "function": {"name": t.name, "description": t.description or "", "parameters": t.input_schema}}
            for t in tools
        ]

    async def complete(self, system: str, messages: Sequence[Turn], tools: Sequence[ToolSpec]) -> Completion:
        try:
            response = await self.client.chat.completions.create(
                model=self.model, messages=cast(Any, wire_messages(system, messages)),
                tools=cast(Any, list(tools)) if tools else openai.omit,
            )
        except openai.OpenAIError as error:
            raise self.failure(error) from None
        return self._completion(response)

    def _completion(self, response: ChatCompletion) -> Completion:
        if not response.choices:
            raise ProviderError(f"The language model ({self.label}) returned no answer.")
        return completion(response.choices[0].message)


def wire_messages(system: str, turns: Sequence[Turn]) -> list[dict[str, Any]]:
    """The system prompt and the turns as Chat Completions messages."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for turn in turns:
        messages += wire_turn(turn)
    return messages


def wire_turn(turn: Turn) -> list[dict[str, Any]]:
    if turn.tool_results:
        return [{"role": "tool", "tool_call_id": r.call.id, "content": ("Error: " if r.is_error else "") + r.text}
                for r in turn.tool_results]
    if turn.role == "user":
        return [{"role": "user", "content": turn.text}]
    message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
    if turn.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function",
             "function": {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)}}
            for c in turn.tool_calls
        ]
    return [message]


def completion(message: ChatCompletionMessage) -> Completion:
    calls = tuple(tool_call(c.id, c.function.name, c.function.arguments)
                  for c in message.tool_calls or () if c.type == "function")
    return Completion(message.content or "", calls)


def tool_call(call_id: str, name: str, raw_arguments: str) -> ToolCall:
    """A call whose arguments are a JSON object; anything else is kept as `argument_error`."""
    try:
        arguments = json.loads(raw_arguments or "{}")
    except json.JSONDecodeError as error:
        return ToolCall(call_id, name, {}, f"not valid JSON ({error.msg})")
    if not isinstance(arguments, dict):
        return ToolCall(call_id, name, {}, "not a JSON object")
    return ToolCall(call_id, name, arguments)
