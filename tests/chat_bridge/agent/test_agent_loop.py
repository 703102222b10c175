"""AgentLoop over both fake providers and an in-memory MCP server: rounds, bounds, results."""

from __future__ import annotations

from mcp.server import MCPServer

from chat_bridge.agent.loop import AgentLoop, clip
from chat_bridge.agent.messages import ToolResult, Turn
from chat_bridge.agent.providers import LLMProvider
from chat_bridge.agent.sessions import in_memory_sessions
from tests.chat_bridge.agent.support import provider_for
from tests.fakes.llm import Call, Reply, ScriptedLLM

QUESTION = [Turn("user", "Who is Amal, and what is 2 + 3?")]


def agent(provider: LLMProvider, toolbox: MCPServer, *, max_rounds: int = 10,
          result_char_limit: int = 20_000) -> AgentLoop:
    return AgentLoop(provider, lambda notes: f"You are a test agent. {notes}", in_memory_sessions(toolbox),
                     max_rounds=max_rounds, result_char_limit=result_char_limit)


async def test_every_tool_call_of_a_round_runs_and_all_results_go_back(
    llm: ScriptedLLM, provider: LLMProvider, toolbox: MCPServer
) -> None:
    llm.script(Reply(calls=(Call("lookup", {"name": "Amal"}), Call("add", {"a": 2, "b": 3}))), Reply("Done."))

    await agent(provider, toolbox).run(QUESTION)

    first, second = llm.seen
    assert [result for _, result in second.tool_results] == ["Amal is customer 966501234567.", "5"]
    assert [call_id for call_id, _ in second.tool_results] == [call_id for call_id, _ in second.tool_calls]


async def test_the_final_text_is_the_reply(llm: ScriptedLLM, provider: LLMProvider, toolbox: MCPServer) -> None:
    llm.script(Reply(calls=(Call("add", {"a": 2, "b": 3}),)), Reply("2 + 3 = 5."))

    reply = await agent(provider, toolbox).run(QUESTION)

    assert (reply.text, reply.rounds, reply.stopped) == ("2 + 3 = 5.", 2, False)


async def test_the_model_is_shown_every_tool_of_the_session(
    llm: ScriptedLLM, provider: LLMProvider, toolbox: MCPServer
) -> None:
    llm.script(Reply("Hello."))

    await agent(provider, toolbox).run(QUESTION)

    assert sorted(llm.seen[0].tools) == ["add", "book_full_slot", "cancel_day", "lookup", "report"]


async def test_the_system_prompt_is_given_the_tool_servers_instructions(
    llm: ScriptedLLM, provider: LLMProvider, toolbox: MCPServer
) -> None:
    llm.script(Reply("Hello."))

    await agent(provider, toolbox).run(QUESTION)

    assert llm.seen[0].system == "You are a test agent. Look customers up before adding numbers."


async def test_a_model_that_never_stops_calling_tools_is_stopped_at_the_bound(
    llm: ScriptedLLM, provider: LLMProvider, toolbox: MCPServer
) -> None:
    llm.script(*[Reply(calls=(Call("add", {"a": 1, "b": 1}),))] * 3)

    reply = await agent(provider, toolbox, max_rounds=3).run(QUESTION)

    assert reply.stopped and len(llm.bodies) == 3
    assert "I stopped after 3 rounds of tool calls without finishing" in reply.text
    assert "These calls were not run: add." in reply.text


async def test_an_oversized_tool_result_is_cut_with_a_visible_marker(
    llm: ScriptedLLM, provider: LLMProvider, toolbox: MCPServer
) -> None:
    llm.script(Reply(calls=(Call("report", {"size": 250}),)), Reply("Long report."))

    await agent(provider, toolbox, result_char_limit=100).run(QUESTION)

    assert llm.seen[1].tool_results[0][1].startswith("r" * 100 + "…[cut: 150 characters of this tool result are not shown")


async def test_a_tool_error_reaches_the_model_as_an_error(
    llm: ScriptedLLM, provider: LLMProvider, toolbox: MCPServer
) -> None:
    llm.script(Reply(calls=(Call("book_full_slot"),)), Reply("That slot is full."))
    results: list[ToolResult] = []

    async def observe(result: ToolResult) -> None:
        results.append(result)

    await agent(provider, toolbox).run(QUESTION, observe)

    assert results[0].is_error
    assert "This time slot is fully booked." in llm.seen[1].tool_results[0][1]


async def test_an_unknown_tool_is_answered_with_the_available_ones(
    llm: ScriptedLLM, provider: LLMProvider, toolbox: MCPServer
) -> None:
    llm.script(Reply(calls=(Call("delete_everything"),)), Reply("Sorry."))

    await agent(provider, toolbox).run(QUESTION)

    result = llm.seen[1].tool_results[0][1]
    assert "There is no tool named 'delete_everything'" in result and "lookup" in result


async def test_tool_arguments_that_are_not_json_are_reported_without_running_the_tool(
    openai_api: ScriptedLLM, toolbox: MCPServer
) -> None:
    openai_api.script(Reply(calls=(Call("add", '{"a": 1,'),)), Reply("Oops."))

    async with provider_for(openai_api) as provider:
        await agent(provider, toolbox).run(QUESTION)

    assert "The arguments of add were not valid JSON" in openai_api.seen[1].tool_results[0][1]


def test_a_clipped_result_keeps_its_last_lines_where_the_cursor_and_next_step_are() -> None:
    rows = "\n".join(f"#{n} | customer {n} | 966500000000 | Mon 2026-12-07 | 11:00 (11:00 AM)" for n in range(500))
    result = f"500 reservation(s) match.\n{rows}\nMore rows exist: follow next_cursor.\nnext_cursor: abc123"

    clipped = clip(result, 5_000)

    assert len(clipped) <= 5_000 + 200 and clipped.startswith("500 reservation(s) match.\n#0 | ")
    assert clipped.endswith("More rows exist: follow next_cursor.\nnext_cursor: abc123")
    left = len(result) - len(clipped.replace(clipped[clipped.index("…[cut"):clipped.index("]\n") + 2], ""))
    assert f"…[cut: {left} characters of this tool result are not shown (the limit is 5000)" in clipped
