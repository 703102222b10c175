"""ConversationTurn on a real database and both fake providers: what is stored, what is published, what the
model is shown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp.server import MCPServer

from domain.services import Services
from domain.views import MessageView
from chat_bridge.agent.agents import build_customer_turn, build_system_agent_turn
from chat_bridge.agent.providers import LLMProvider
from chat_bridge.agent.sessions import in_memory_sessions
from chat_bridge.agent.turns import ConversationTurn
from tests.chat_bridge.agent.support import OPERATOR, provider_for, settings_for
from tests.fakes.events import RecordingSink
from tests.fakes.llm import Call, Failure, Reply, ScriptedLLM, Stall

CUSTOMER = "966501234567"


async def operator_says(services: Services, text: str) -> None:
    await services.conversations.append(OPERATOR, "secretary", text)


async def stored(services: Services, wa_id: str = OPERATOR) -> list[dict[str, Any]]:
    """The conversation as the sidebars receive it."""
    return [m.model_dump(mode="json") for m in await services.conversations.page(wa_id)]


async def test_the_reply_is_stored_as_the_assistants_and_published(
    llm: ScriptedLLM, services: Services, turn: ConversationTurn, events: RecordingSink
) -> None:
    await operator_says(services, "Hello")
    llm.script(Reply("Hello, how can I help?"))

    await turn(OPERATOR)

    reply = (await stored(services))[-1]
    assert (reply["role"], reply["text"]) == ("assistant", "Hello, how can I help?")
    assert events.of_type("conversation_new_message")[-1]["message"] == reply


async def test_each_tool_call_is_stored_as_a_tool_row_with_its_result(
    llm: ScriptedLLM, services: Services, turn: ConversationTurn
) -> None:
    await operator_says(services, "Who is Amal?")
    llm.script(Reply(calls=(Call("lookup", {"name": "Amal"}),)), Reply("Amal is 966501234567."))

    await turn(OPERATOR)

    role, text, meta = [(m["role"], m["text"], m["meta"]) for m in await stored(services)][1]
    assert (role, text) == ("tool", "lookup → Amal is customer 966501234567.")
    assert meta == {"tool": "lookup", "arguments": {"name": "Amal"}, "result": "Amal is customer 966501234567.",
                    "is_error": False}


async def test_a_failed_tool_call_is_stored_as_an_error(
    llm: ScriptedLLM, services: Services, turn: ConversationTurn
) -> None:
    await operator_says(services, "Book the full slot")
    llm.script(Reply(calls=(Call("book_full_slot"),)), Reply("It is full."))

    await turn(OPERATOR)

    tool_row = (await stored(services))[1]
    assert tool_row["meta"]["is_error"] and tool_row["text"].startswith("book_full_slot → error: ")
    assert "This time slot is fully booked." in tool_row["meta"]["result"]


async def test_tool_rows_are_published_as_they_happen(
    llm: ScriptedLLM, services: Services, turn: ConversationTurn, events: RecordingSink
) -> None:
    await operator_says(services, "2 + 3 and 1 + 1?")
    llm.script(Reply(calls=(Call("add", {"a": 2, "b": 3}), Call("add", {"a": 1, "b": 1}))), Reply("5 and 2."))

    await turn(OPERATOR)

    published = [e["message"]["role"] for e in events.of_type("conversation_new_message")]
    assert published == ["tool", "tool", "assistant"]


async def test_tool_rows_are_never_replayed_to_the_model(
    llm: ScriptedLLM, services: Services, turn: ConversationTurn
) -> None:
    await operator_says(services, "Who is Amal?")
    llm.script(Reply(calls=(Call("lookup", {"name": "Amal"}),)), Reply("Amal is a customer."), Reply("You're welcome."))
    await turn(OPERATOR)
    await operator_says(services, "Thanks")

    await turn(OPERATOR)

    next_turn = llm.seen[2]
    assert (next_turn.tool_calls, next_turn.tool_results) == ([], [])
    assert next_turn.texts == [("user", "Who is Amal?"), ("assistant", "Amal is a customer."), ("user", "Thanks")]


async def test_the_system_prompt_ends_with_the_clinics_date_weekday_and_timezone(
    llm: ScriptedLLM, services: Services, turn: ConversationTurn
) -> None:
    await operator_says(services, "What day is it?")
    llm.script(Reply("Tuesday."))

    await turn(OPERATOR)

    assert llm.seen[0].system.endswith("\n\nNow: 2026-12-01T10:00:00+03:00 (Tuesday) in Asia/Riyadh")


async def test_the_system_agent_is_told_the_clinics_configured_hours(
    llm: ScriptedLLM, services: Services, turn: ConversationTurn
) -> None:
    await operator_says(services, "When are you open?")
    llm.script(Reply("Sunday to Thursday."))

    await turn(OPERATOR)

    assert "Friday closed, Saturday 16:00–22:00." in llm.seen[0].system


async def test_a_persistent_provider_failure_keeps_the_operators_message_and_tells_the_sidebar(
    llm: ScriptedLLM, services: Services, turn: ConversationTurn, events: RecordingSink
) -> None:
    await operator_says(services, "Hello")
    llm.script(*[Failure(500)] * 3)

    await turn(OPERATOR)

    assert [m["role"] for m in await stored(services)] == ["secretary"]
    error = events.of_type("system_agent_error")[0]
    assert error["wa_id"] == OPERATOR and "HTTP 500) (tried 3 times)" in error["error"]


async def test_a_provider_timeout_keeps_the_operators_message_and_tells_the_sidebar(
    llm: ScriptedLLM, services: Services, toolbox: MCPServer, events: RecordingSink
) -> None:
    await operator_says(services, "Hello")
    llm.script(*[Stall(2.0)] * 3)
    settings = settings_for(llm, llm_timeout_seconds=0.1)

    async with provider_for(llm, llm_timeout_seconds=0.1) as provider:
        await build_system_agent_turn(settings.agent_config(), services, provider, in_memory_sessions(toolbox), events)(OPERATOR)

    assert [m["role"] for m in await stored(services)] == ["secretary"]
    assert "did not answer within 0.1 seconds" in events.of_type("system_agent_error")[0]["error"]


async def test_a_conversation_whose_messages_are_all_answered_is_left_alone(
    llm: ScriptedLLM, services: Services, turn: ConversationTurn
) -> None:
    await operator_says(services, "Hello")
    await services.conversations.reply(OPERATOR, "assistant", "Hello! How can I help?",
                                       await services.conversations.open_prompts(OPERATOR))

    await turn(OPERATOR)

    assert llm.bodies == []


async def test_the_customer_assistant_answers_with_its_own_prompt_through_its_delivery(
    llm: ScriptedLLM, services: Services, toolbox: MCPServer, events: RecordingSink, provider: LLMProvider
) -> None:
    await services.conversations.append(CUSTOMER, "user", "مرحبا")
    llm.script(Reply("أهلاً! كيف أساعدك؟"))
    delivered: list[tuple[str, str]] = []

    async def deliver(wa_id: str, text: str, answers: Sequence[int]) -> MessageView | None:
        delivered.append((wa_id, text))
        return await services.conversations.reply(wa_id, "assistant", text, answers)

    settings = settings_for(llm)
    await build_customer_turn(settings.agent_config(), services, provider, in_memory_sessions(toolbox), events, deliver)(CUSTOMER)

    assert delivered == [(CUSTOMER, "أهلاً! كيف أساعدك؟")]
    assert "You are the clinic's WhatsApp assistant" in llm.seen[0].system
