"""The LLM provider port: one small protocol, its errors (after the SDKs' own retries), the factory from settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Protocol, Self

from mcp.types import Tool

from chat_bridge.agent.config import ModelConfig
from chat_bridge.agent.messages import Completion, Turn

ToolSpec = dict[str, Any]
"""A tool definition in one provider's wire format, made by that provider's `tool_specs`."""


TURN_FACTS = "\n\nNow: "  # what opens a system prompt's per-turn tail (the clock): the rest stays byte-identical


def stable_and_per_turn(system: str) -> tuple[str, str]:
    """A system prompt as the part every turn shares (cached by the provider) and the tail this turn adds."""
    stable, mark, tail = system.rpartition(TURN_FACTS)
    return (stable, mark + tail) if mark else (system, "")


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
    """The model could not answer; the message is a sentence for the operator. `kind`, for the metrics:
    `unavailable` (rate limit, server error, timeout, lost connection) or `rejected` (the key, the request)."""

    kind = "rejected"


class ProviderUnavailable(ProviderError):
    """A failure worth trying again: rate limit, server error, timeout, lost connection."""

    kind = "unavailable"

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"The language model ({label}) is unavailable: {reason}.")
        self.label = label
        self.reason = reason


class CountedProvider:
    """A provider whose failures (after its SDK's retries) are told to `on_error` as `(provider, kind)`, the
    error's `kind`."""

    def __init__(self, provider: LLMProvider, name: str, on_error: Callable[[str, str], None]) -> None:
        self.provider, self.name, self.on_error = provider, name, on_error

    def tool_specs(self, tools: Sequence[Tool]) -> list[ToolSpec]:
        return self.provider.tool_specs(tools)

    async def complete(self, system: str, messages: Sequence[Turn], tools: Sequence[ToolSpec]) -> Completion:
        try:
            return await self.provider.complete(system, messages, tools)
        except ProviderError as error:
            self.on_error(self.name, error.kind)
            raise

    async def aclose(self) -> None:
        await self.provider.aclose()


# A self-hosted or local compatible endpoint may need no key, but the SDKs insist on one.
PLACEHOLDER_KEY = "not-needed"


class SdkProvider:
    """What the SDK-backed providers share: the model, endpoint, timeout and retries from `ModelConfig`,
    the client (whose own retries honour Retry-After, with jitter), closing it, and the operator's
    sentence for its errors. A subclass names its SDK and defaults and speaks its wire format."""

    vendor: ClassVar[str]
    sdk: ClassVar[Any]
    default_model: ClassVar[str]
    default_base_url: ClassVar[str]
    key_setting: ClassVar[str]

    def __init__(self, config: ModelConfig) -> None:
        self.base_url = config.base_url or self.default_base_url
        self.model = config.model or self.default_model
        self.timeout = config.timeout_seconds
        self.max_retries = config.max_retries
        self.label = f"{self.vendor} {self.model}"
        self.client = self.connect(config.api_key or PLACEHOLDER_KEY)

    @classmethod
    def from_config(cls, config: ModelConfig) -> Self:
        return cls(config)

    def connect(self, api_key: str) -> Any:
        """The SDK's async client for this endpoint."""
        raise NotImplementedError

    async def aclose(self) -> None:
        await self.client.close()

    def failure(self, error: Exception) -> ProviderError:
        """The operator's sentence for an error the SDK raised once its retries were spent."""
        return api_failure(self.sdk, error, self, self.key_setting)


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


def gave_up(error: ProviderUnavailable, attempts: int) -> ProviderError:
    tries = "once" if attempts == 1 else f"{attempts} times"
    failure = ProviderError(f"The language model ({error.label}) is unavailable: {error.reason} (tried {tries}). "
                            "The message is kept; try again in a moment.")
    failure.kind = error.kind
    return failure


def api_failure(sdk: Any, error: Exception, provider: Any, key_setting: str) -> ProviderError:
    """The operator's sentence for an error of either SDK (`anthropic` or `openai`: the same classes),
    raised once the SDK's own retries are spent."""
    failure: ProviderError
    if isinstance(error, sdk.APITimeoutError):
        failure = timeout_failure(provider.label, provider.timeout)
    elif isinstance(error, sdk.APIConnectionError):
        failure = connection_failure(provider.label, provider.base_url)
    elif isinstance(error, sdk.APIStatusError):
        failure = status_failure(provider.label, error.status_code, _api_sentence(error), key_setting)
    else:
        failure = ProviderError(f"The language model ({provider.label}) failed: {error}")
    return gave_up(failure, provider.max_retries + 1) if isinstance(failure, ProviderUnavailable) else failure


def _api_sentence(error: Any) -> str:
    """The API's own sentence rather than the SDK's "Error code: ..." line: OpenAI's body is the error
    object; Anthropic's SDK reads it out as `api_message`."""
    body = error.body
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) else (getattr(error, "api_message", None) or error.message)
