"""What the agent loop and every provider exchange: turns, tool calls, tool results, completions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class ToolCall:
    """One tool the model asked for; `argument_error` says why its arguments could not be read."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    argument_error: str | None = None


@dataclass(frozen=True)
class ToolResult:
    """What one tool call returned, as the text the model reads."""

    call: ToolCall
    text: str
    is_error: bool = False
    outcome: dict[str, int] | None = None  # a batch's counts (ok, failed, skipped), for the sidebar's tool row
    whole: str | None = None  # the result before `text` was clipped for the model, for the sidebar


@dataclass(frozen=True)
class Completion:
    """One answer of the model: text, and the tools it wants run before it goes on."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class Turn:
    """A message of the conversation the model sees.

    A user turn carries text or the results of the previous round's tool calls; an assistant turn
    carries text and the tool calls it made.
    """

    role: Literal["user", "assistant"]
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()


def turns_from_history(history: list[dict[str, str]]) -> list[Turn]:
    """`ConversationService.history_for_model` rows as turns."""
    return [Turn("user" if row["role"] == "user" else "assistant", row["content"]) for row in history]
