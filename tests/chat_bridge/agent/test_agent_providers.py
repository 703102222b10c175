"""Both providers against their fake APIs: answers, the SDKs' retries, readable errors."""

from __future__ import annotations

import pytest

from chat_bridge.agent.anthropic_messages import AnthropicProvider
from chat_bridge.agent.messages import Completion, ToolCall, ToolResult, Turn
from chat_bridge.agent.openai_chat import OpenAIProvider
from chat_bridge.agent.agents import build_provider
from chat_bridge.agent.providers import LLMProvider, ProviderError
from tests.chat_bridge.agent.support import provider_for, settings_for
from tests.fakes.llm import Call, Failure, Reply, ScriptedLLM, Stall

HELLO = [Turn("user", "Hello")]
KEY_SETTING = {"Anthropic": "ANTHROPIC_API_KEY", "OpenAI": "OPENAI_API_KEY"}


async def test_a_text_answer_is_the_completion(llm: ScriptedLLM, provider: LLMProvider) -> None:
    llm.script(Reply("Hello, operator."))

    assert await provider.complete("Be kind.", HELLO, []) == Completion("Hello, operator.")


async def test_tool_calls_come_back_with_their_arguments(llm: ScriptedLLM, provider: LLMProvider) -> None:
    llm.script(Reply(calls=(Call("add", {"a": 2, "b": 3}),)))

    completion = await provider.complete("Be kind.", HELLO, [])

    assert [(c.name, c.arguments) for c in completion.tool_calls] == [("add", {"a": 2, "b": 3})]


async def test_the_system_prompt_and_history_reach_the_model(llm: ScriptedLLM, provider: LLMProvider) -> None:
    llm.script(Reply("Fine."))
    history = [Turn("user", "Hi"), Turn("assistant", "Hello!"), Turn("user", "How are you?")]

    await provider.complete("Be kind.", history, [])

    seen = llm.seen[0]
    assert seen.system == "Be kind."
    assert seen.texts == [("user", "Hi"), ("assistant", "Hello!"), ("user", "How are you?")]


async def test_a_round_of_tool_calls_and_results_is_sent_in_the_providers_format(
    llm: ScriptedLLM, provider: LLMProvider
) -> None:
    llm.script(Reply("5"))
    call = ToolCall("call-1", "add", {"a": 2, "b": 3})
    answered = Turn("user", tool_results=(ToolResult(call, "5"),))
    rounds = [Turn("user", "2 + 3?"), Turn("assistant", "", (call,)), answered]

    await provider.complete("Be kind.", rounds, [])

    assert (llm.seen[0].tool_calls, llm.seen[0].tool_results) == ([("call-1", "add")], [("call-1", "5")])


async def test_a_server_error_then_an_answer_is_retried(llm: ScriptedLLM, provider: LLMProvider) -> None:
    llm.script(Failure(500), Reply("Back again."))

    completion = await provider.complete("Be kind.", HELLO, [])

    assert completion.text == "Back again." and len(llm.bodies) == 2


async def test_a_rate_limit_is_retried(llm: ScriptedLLM, provider: LLMProvider) -> None:
    llm.script(Failure(429), Reply("Back again."))

    assert (await provider.complete("Be kind.", HELLO, [])).text == "Back again."


async def test_persistent_server_errors_end_in_a_readable_error(llm: ScriptedLLM, provider: LLMProvider) -> None:
    llm.script(*[Failure(500)] * 3)

    with pytest.raises(ProviderError) as failure:
        await provider.complete("Be kind.", HELLO, [])

    assert len(llm.bodies) == 3
    assert "is unavailable: it answered with a server error (HTTP 500) (tried 3 times)" in str(failure.value)
    assert "The message is kept; try again in a moment." in str(failure.value)


async def test_a_timeout_ends_in_a_readable_error(llm: ScriptedLLM) -> None:
    llm.script(*[Stall(2.0)] * 3)

    async with provider_for(llm, llm_timeout_seconds=0.1) as provider:
        with pytest.raises(ProviderError) as failure:
            await provider.complete("Be kind.", HELLO, [])

    assert "did not answer within 0.1 seconds (tried 3 times)" in str(failure.value)


async def test_a_refused_api_key_is_not_retried_and_names_the_setting(llm: ScriptedLLM, provider: LLMProvider) -> None:
    llm.script(Failure(401))

    with pytest.raises(ProviderError) as failure:
        await provider.complete("Be kind.", HELLO, [])

    assert len(llm.bodies) == 1
    assert f"refused the API key (HTTP 401); check {KEY_SETTING[llm.name]}" in str(failure.value)


async def test_a_bad_request_is_not_retried_and_says_why(llm: ScriptedLLM, provider: LLMProvider) -> None:
    llm.script(Failure(400))

    with pytest.raises(ProviderError) as failure:
        await provider.complete("Be kind.", HELLO, [])

    assert len(llm.bodies) == 1 and "rejected the request (HTTP 400): scripted failure 400" in str(failure.value)


async def test_an_unreachable_endpoint_is_a_readable_error(llm: ScriptedLLM) -> None:
    overrides = {key: value.replace(llm.url, "http://127.0.0.1:9") for key, value in llm.settings_overrides().items()}

    async with provider_for(llm, **overrides) as provider:
        with pytest.raises(ProviderError) as failure:
            await provider.complete("Be kind.", HELLO, [])

    assert "could not be reached at http://127.0.0.1:9" in str(failure.value)


async def test_retries_are_the_sdks_and_follow_the_setting(llm: ScriptedLLM) -> None:
    llm.script(Failure(503), Failure(503))

    async with provider_for(llm, llm_max_retries=0) as provider:
        with pytest.raises(ProviderError) as failure:
            await provider.complete("Be kind.", HELLO, [])

    assert len(llm.bodies) == 1 and "(HTTP 503) (tried once)" in str(failure.value)


@pytest.mark.parametrize(("name", "kind"), [("anthropic", AnthropicProvider), ("openai", OpenAIProvider)])
async def test_the_factory_builds_the_configured_provider(
    name: str, kind: type, request: pytest.FixtureRequest
) -> None:
    provider = build_provider(settings_for(request.getfixturevalue(f"{name}_api")).agent_config().model)

    assert isinstance(provider, (AnthropicProvider, OpenAIProvider)) and isinstance(provider, kind)
    assert provider.client.max_retries == 2
    await provider.aclose()


async def test_every_request_of_a_turn_and_of_the_next_turns_shares_a_byte_identical_cacheable_prefix(
    llm: ScriptedLLM, provider: LLMProvider
) -> None:
    """Anthropic is told where the prefix ends (`cache_control` after the shared system prompt, and on the newest
    block for the turn's next round); OpenAI caches a byte-identical prefix by itself. Either way the clock comes
    after the part every turn shares."""
    llm.script(Reply("One."), Reply("Two."))
    first = "Be kind.\n\nNow: 2026-12-01T10:00:00+03:00 (Tuesday) in Asia/Riyadh"
    later = "Be kind.\n\nNow: 2026-12-01T10:05:00+03:00 (Tuesday) in Asia/Riyadh"
    await provider.complete(first, HELLO, [])
    await provider.complete(later, HELLO, [])
    bodies = llm.bodies
    if isinstance(provider, AnthropicProvider):
        for body, tail in zip(bodies, (first, later), strict=True):
            assert body["system"] == [{"type": "text", "text": "Be kind.", "cache_control": {"type": "ephemeral"}},
                                      {"type": "text", "text": tail.removeprefix("Be kind.")}]
            assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    else:
        systems = [body["messages"][0]["content"] for body in bodies]
        assert systems == [first, later] and all(s.startswith("Be kind.\n\nNow: ") for s in systems)
    assert [seen.system for seen in llm.seen] == [first, later]
