"""AgentLoop: one model, one MCP session, rounds of tool calls until the model answers or the bound is hit."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import cast

from mcp import Client, MCPError
from mcp.types import CallToolResult, TextContent, Tool
from mcp_types import RequestParamsMeta

from chat_bridge.agent.acting import acting_for, acting_line
from chat_bridge.agent.messages import Completion, ToolCall, ToolResult, Turn
from chat_bridge.agent.providers import LLMProvider, ProviderError, ToolSpec
from chat_bridge.agent.model_tools import as_run, for_model
from chat_bridge.agent.reach import ToolReach
from domain.staff.roles import Principal
from domain.system_agent.batch import REQUEST_META

SystemPrompt = Callable[[str | None], str]
"""The system prompt of a turn, given the MCP server's own instructions (if it has any)."""

SessionFactory = Callable[[], AbstractAsyncContextManager[Client]]
"""Opens an MCP client session: `Client(server)` in memory, or a remote streamable HTTP one."""

ToolObserver = Callable[[ToolResult], Awaitable[None]]
"""Told about every tool call as soon as its result is known."""


@dataclass(frozen=True)
class AgentReply:
    """The final answer of a turn; `stopped` when the round bound ended it."""

    text: str
    rounds: int
    stopped: bool = False


class AgentLoop:
    """Runs a conversation through a provider with the tools of an MCP session. `remote_tools`: the session's
    server is another process, which cannot know the person a turn acts for (`chat_bridge.agent.reach`)."""

    def __init__(
        self,
        provider: LLMProvider,
        system_prompt_fn: SystemPrompt,
        mcp_session_factory: SessionFactory,
        *,
        max_rounds: int = 10,
        result_char_limit: int = 20_000,
        remote_tools: bool = False,
    ) -> None:
        self.provider = provider
        self.system_prompt_fn = system_prompt_fn
        self.sessions = mcp_session_factory
        self.max_rounds = max_rounds
        self.result_char_limit = result_char_limit
        self.remote_tools = remote_tools

    async def run(self, history: Sequence[Turn], on_tool_result: ToolObserver | None = None,
                  request: str | None = None, principal: Principal | None = None) -> AgentReply:
        """Answer the last turn of `history`; raises `ProviderError` when the model cannot answer. Each tool call
        names `request` (what the user asked, in their words) in its `_meta`, so a batch records on whose
        request it was made. The turn acts for `principal` (None: as the system agent): the session is opened
        within `ACTING_FOR`, and the model is given, and may call, only the tools they may use."""
        with acting_for(principal):
            async with self.sessions() as client:
                outcome = await self._attempt(client, history, on_tool_result, request, principal)
        # Raised here, not inside the session, whose task group would wrap it in an ExceptionGroup.
        if isinstance(outcome, ProviderError):
            raise outcome
        return outcome

    async def _attempt(self, client: Client, history: Sequence[Turn], on_tool_result: ToolObserver | None,
                       request: str | None, principal: Principal | None) -> AgentReply | ProviderError:
        reach = ToolReach(principal, await listed_tools(client), remote=self.remote_tools)
        rounds = _Rounds(self, client, reach, on_tool_result, request)
        system = self.system_prompt_fn(client.instructions) + acting_line(principal)
        try:
            return await rounds.converse(system, list(history))
        except ProviderError as error:
            return error


class _Rounds:
    """One turn's rounds: the session, its tools, and who is told about each tool result."""

    def __init__(self, loop: AgentLoop, client: Client, reach: ToolReach, observer: ToolObserver | None,
                 request: str | None = None) -> None:
        self.loop = loop
        self.meta = cast(RequestParamsMeta, {REQUEST_META: request}) if request else None
        self.client = client
        self.reach = reach
        self.specs: list[ToolSpec] = loop.provider.tool_specs([for_model(tool) for tool in reach.given])
        self.observer = observer

    async def converse(self, system: str, turns: list[Turn]) -> AgentReply:
        """Ask, run every tool call of the answer, feed all results back; until a plain answer or the bound."""
        bound = self.loop.max_rounds
        for round_number in range(1, bound + 1):
            completion = await self.loop.provider.complete(system, turns, self.specs)
            if not completion.tool_calls:
                return AgentReply(completion.text, round_number)
            if round_number < bound:
                turns += await self.run_round(completion)
        return AgentReply(stopped_notice(bound, completion), bound, stopped=True)

    async def run_round(self, completion: Completion) -> list[Turn]:
        """The assistant's turn with its calls, and the user's turn with every result, in the calls' order."""
        results = [await self.call(call) for call in completion.tool_calls]
        return [Turn("assistant", completion.text, completion.tool_calls), Turn("user", tool_results=tuple(results))]

    async def call(self, call: ToolCall) -> ToolResult:
        result = await self.outcome(call)
        if self.observer is not None:
            await self.observer(result)
        return result

    async def outcome(self, call: ToolCall) -> ToolResult:
        if call.argument_error:
            return ToolResult(call, f"The arguments of {call.name} were {call.argument_error}; nothing was run.", True)
        if (refused := self.reach.refusal(call)) is not None:
            return ToolResult(call, refused, True)
        try:
            result = await self.client.call_tool(call.name, call.arguments, meta=self.meta)
        except MCPError as error:
            return ToolResult(call, f"The tool {call.name} failed: {error}", True)
        whole = result_text(result)
        shown = clip(whole, self.loop.result_char_limit)
        return ToolResult(as_run(call), shown, result.is_error, batch_outcome(result), whole if shown != whole else None)


def stopped_notice(max_rounds: int, last: Completion) -> str:
    """What the operator reads when the bound stops a turn: the model's last words, and what was not run."""
    names = ", ".join(call.name for call in last.tool_calls)
    notice = (f"I stopped after {max_rounds} rounds of tool calls without finishing. These calls were not run: "
              f"{names}. Tell me to continue, or narrow the request.")
    return f"{last.text}\n\n{notice}" if last.text else notice


async def listed_tools(client: Client) -> list[Tool]:
    """Every tool of the session, page after page."""
    page = await client.list_tools()
    tools = list(page.tools)
    while page.next_cursor:
        page = await client.list_tools(cursor=page.next_cursor)
        tools += page.tools
    return tools


def result_text(result: CallToolResult) -> str:
    """The text of a tool result; the structured content when it has no text."""
    if not result.content and result.structured_content is not None:
        return json.dumps(result.structured_content, ensure_ascii=False)
    return "\n".join(b.text if isinstance(b, TextContent) else f"[{b.type} content omitted]" for b in result.content)


def batch_outcome(result: CallToolResult) -> dict[str, int] | None:
    """A batch answer's counts, when the result is one."""
    summary = (result.structured_content or {}).get("summary")
    if not isinstance(summary, dict) or not isinstance(summary.get("failed"), int):
        return None
    return {key: int(summary.get(key) or 0) for key in ("ok", "failed", "skipped")}


TAIL = 600  # the end of a long result (its next_cursor and next step) is kept when the middle is cut


def clip(text: str, limit: int) -> str:
    """`text` within `limit` characters: the head and the tail (where cursors and next steps are), and
    between them a marker saying how much was left out and how to ask for less."""
    if len(text) <= limit:
        return text
    tail = text[-TAIL:] if limit > 4 * TAIL else ""
    if tail and "\n" in tail:
        tail = tail[tail.index("\n") + 1:]
    head = text[:limit - len(tail)]
    if "\n" in head[len(head) // 2:]:
        head = head[:head.rindex("\n")]
    left = len(text) - len(head) - len(tail)
    marker = (f"…[cut: {left} characters of this tool result are not shown (the limit is {limit}); "
              "ask for less (a shorter range, a smaller max_results, verbosity summary) or follow next_cursor]")
    return f"{head}{marker}\n{tail}" if tail else f"{head}{marker}"
