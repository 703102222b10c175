"""The LLM provider port: one small protocol, its errors, bounded retries, and the factory from settings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mcp.types import Tool

from calendar_agent.settings import Settings
from chat_bridge.agent.messages import Completion, Turn

ToolSpec = dict[str, Any]
"""A tool definition in one provider's wire format, made by that provider's `tool_specs`."""


class LLMProvider(Protocol):
    """A chat model that can call tools."""

    def tool_specs(self, tools: Sequence[Tool]) -> list[ToolSpec]:
        """The MCP tools in this provider's format; the loop converts them once per turn."""
        ...

    async def complete(self, system: str, messages: Sequence[Turn], tools: Sequence[ToolSpec]) -> Completion:
        """The model's next answer; raises `ProviderError`."""
        ...

    async def aclose(self) -> None:
        """Close the HTTP connections; the owner calls it once, at shutdown."""
        ...


class ProviderError(Exception):
    """The model could not answer; the message is a sentence for the operator."""


class ProviderUnavailable(ProviderError):
    """A failure worth trying again: rate limit, server error, timeout, lost connection."""

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"The language model ({label}) is unavailable: {reason}.")
        self.label = label
        self.reason = reason


def status_failure(label: str, status: int, detail: str, key_setting: str) -> ProviderError:
    """The error for an HTTP error status: 408, 409, 429 and 5xx are worth retrying."""
    if status == 429:
        return ProviderUnavailable(label, "it is limiting the rate of requests (HTTP 429)")
    if status in (408, 409) or status >= 500:
        return ProviderUnavailable(label, f"it answered with a server error (HTTP {status})")
    if status in (401, 403):
        return ProviderError(f"The language model ({label}) refused the API key (HTTP {status}); check {key_setting}.")
    return ProviderError(f"The language model ({label}) rejected the request (HTTP {status}): {detail}")


def timeout_failure(label: str, seconds: float) -> ProviderUnavailable:
    return ProviderUnavailable(label, f"it did not answer within {seconds:g} seconds")


def connection_failure(label: str, base_url: str) -> ProviderUnavailable:
    return ProviderUnavailable(label, f"it could not be reached at {base_url}")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failing call is tried: exponential backoff, bounded."""

    attempts: int = 3
    first_delay: float = 1.0
    max_delay: float = 8.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return float(min(self.first_delay * 2 ** (attempt - 1), self.max_delay))


class RetryingProvider:
    """Any provider, with `ProviderUnavailable` retried by a `RetryPolicy`."""

    def __init__(
        self,
        inner: LLMProvider,
        policy: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.inner = inner
        self.policy = policy
        self.sleep = sleep

    def tool_specs(self, tools: Sequence[Tool]) -> list[ToolSpec]:
        return self.inner.tool_specs(tools)

    async def complete(self, system: str, messages: Sequence[Turn], tools: Sequence[ToolSpec]) -> Completion:
        for attempt in range(1, self.policy.attempts):
            try:
                return await self.inner.complete(system, messages, tools)
            except ProviderUnavailable:
                await self.sleep(self.policy.delay(attempt))
        try:
            return await self.inner.complete(system, messages, tools)
        except ProviderUnavailable as error:
            raise gave_up(error, self.policy.attempts) from error

    async def aclose(self) -> None:
        await self.inner.aclose()


def gave_up(error: ProviderUnavailable, attempts: int) -> ProviderError:
    tries = "once" if attempts == 1 else f"{attempts} times"
    return ProviderError(f"The language model ({error.label}) is unavailable: {error.reason} (tried {tries}). "
                         "The message is kept; try again in a moment.")


def build_provider(settings: Settings, policy: RetryPolicy = RetryPolicy()) -> LLMProvider:
    """The provider LLM_PROVIDER names, configured from the settings, with retries."""
    # Imported here so that each SDK loads only when it is the one in use.
    if settings.llm_provider == "openai":
        from chat_bridge.agent.openai_chat import OpenAIProvider

        inner: LLMProvider = OpenAIProvider.from_settings(settings)
    else:
        from chat_bridge.agent.anthropic_messages import AnthropicProvider

        inner = AnthropicProvider.from_settings(settings)
    return RetryingProvider(inner, policy)
