"""Confirmations: a tool elicits, the operator answers through the broker, the tool goes on or stops."""

from __future__ import annotations

import asyncio
from typing import Any

from mcp.server import MCPServer

from domain.services import Services
from calendar_agent.settings import Settings
from chat_bridge.agent.agents import build_system_agent_turn
from chat_bridge.agent.providers import LLMProvider
from chat_bridge.agent.sessions import in_memory_sessions
from chat_bridge.agent.turns import ConversationTurn
from chat_bridge.confirmations import ConfirmationBroker, accepted_content, preview_of
from tests.chat_bridge.agent.support import OPERATOR, PREVIEW, question
from tests.fakes.events import RecordingSink
from tests.fakes.llm import Call, Reply, ScriptedLLM

CANCEL_THURSDAY = (Reply(calls=(Call("cancel_day", {"date": "2026-12-03"}),)), Reply("Done."))


async def run_answering(turn: ConversationTurn, events: RecordingSink, broker: ConfirmationBroker,
                        accept: bool) -> dict[str, Any]:
    """Run a turn and answer the confirmation it asks for; the confirmation request."""
    running = asyncio.create_task(turn(OPERATOR))
    request = await events.wait_for("confirmation_request")
    assert await broker.answer(request["confirmation_id"], accept)
    await running
    return request


async def cancel_thursday(llm: ScriptedLLM, services: Services) -> None:
    await services.conversations.append(OPERATOR, "secretary", "Cancel Thursday")
    llm.script(*CANCEL_THURSDAY)


async def tool_result(services: Services) -> str:
    rows = [m for m in await services.conversations.page(OPERATOR) if m.role == "tool"]
    assert rows[0].meta is not None
    result: str = rows[0].meta["result"]
    return result


async def test_an_accepted_confirmation_lets_the_tool_proceed(
    llm: ScriptedLLM, services: Services, turn: ConversationTurn, events: RecordingSink, broker: ConfirmationBroker
) -> None:
    await cancel_thursday(llm, services)

    await run_answering(turn, events, broker, accept=True)

    assert await tool_result(services) == "Cancelled 3 reservations on 2026-12-03."
    assert llm.seen[1].tool_results[0][1] == "Cancelled 3 reservations on 2026-12-03."


async def test_a_declined_confirmation_stops_the_tool(
    llm: ScriptedLLM, services: Services, turn: ConversationTurn, events: RecordingSink, broker: ConfirmationBroker
) -> None:
    await cancel_thursday(llm, services)

    await run_answering(turn, events, broker, accept=False)

    assert await tool_result(services) == "Nothing cancelled: the operator's answer was decline."


async def test_an_unanswered_confirmation_counts_as_cancel(
    llm: ScriptedLLM, services: Services, settings: Settings, toolbox: MCPServer, events: RecordingSink,
    provider: LLMProvider
) -> None:
    await cancel_thursday(llm, services)
    impatient = ConfirmationBroker(services.conversations, services.confirmations, events, timeout_seconds=0.05)

    sessions = in_memory_sessions(toolbox, impatient.elicit)
    await build_system_agent_turn(settings.agent_config(), services, provider, sessions, events)(OPERATOR)

    assert await tool_result(services) == "Nothing cancelled: the operator's answer was cancel."
    assert events.of_type("confirmation_resolved")[0]["state"] == "expired"


async def test_the_question_is_stored_in_the_conversation_with_its_preview(
    llm: ScriptedLLM, services: Services, turn: ConversationTurn, events: RecordingSink, broker: ConfirmationBroker
) -> None:
    await cancel_thursday(llm, services)

    request = await run_answering(turn, events, broker, accept=True)

    question = (await services.conversations.page(OPERATOR))[1]
    assert (question.role, question.text) == ("assistant", "Cancel the 3 reservations of 2026-12-03?")
    assert question.meta == {"kind": "confirmation", "confirmation_id": request["confirmation_id"],
                                "preview": PREVIEW.model_dump(mode="json"), "state": "accepted"}


async def test_the_request_and_its_resolution_are_published(
    llm: ScriptedLLM, services: Services, turn: ConversationTurn, events: RecordingSink, broker: ConfirmationBroker
) -> None:
    await cancel_thursday(llm, services)

    request = await run_answering(turn, events, broker, accept=False)

    assert (request["wa_id"], request["message"]) == (OPERATOR, "Cancel the 3 reservations of 2026-12-03?")
    assert request["preview"] == PREVIEW.model_dump(mode="json")
    resolved = events.of_type("confirmation_resolved")[0]
    assert (resolved["confirmation_id"], resolved["state"], resolved["accepted"]) == (
        request["confirmation_id"], "declined", False)


async def test_a_yes_in_time_is_accepted(services: Services, events: RecordingSink) -> None:
    broker = ConfirmationBroker(services.conversations, services.confirmations, events)
    asking = asyncio.create_task(broker.outcome(OPERATOR, "Cancel 3?", None, timeout=5))
    request = await events.wait_for("confirmation_request")

    await broker.answer(request["confirmation_id"], True)

    assert await asking == "accepted"


def test_the_card_comes_from_the_questions_meta_checked_against_its_shape() -> None:
    assert preview_of(question("Cancel 3?")) == PREVIEW
    assert preview_of(question("Cancel 3?", card={"reservations": "many", "script": "<b>"})) is None
    assert preview_of(question("Cancel 3?", card="Cancel 3 reservations.")) is None
    assert preview_of(question("Cancel 3?").model_copy(update={"meta": None})) is None


async def test_an_unknown_confirmation_cannot_be_answered(services: Services, events: RecordingSink) -> None:
    broker = ConfirmationBroker(services.conversations, services.confirmations, events)

    assert await broker.answer("no-such-id", True) is False


async def test_a_confirmation_is_answered_once(services: Services, events: RecordingSink) -> None:
    broker = ConfirmationBroker(services.conversations, services.confirmations, events)
    asking = asyncio.create_task(broker.outcome(OPERATOR, "Cancel 3?", None, timeout=5))
    request = await events.wait_for("confirmation_request")

    first = await broker.answer(request["confirmation_id"], False)
    second = await broker.answer(request["confirmation_id"], True)

    assert (first, second, await asking) == (True, False, "declined")


def test_a_yes_fills_every_boolean_with_true_and_other_fields_with_their_defaults() -> None:
    schema = {"properties": {"confirm": {"type": "boolean", "default": False}, "note": {"type": "string",
                                                                                        "default": "ok"},
                             "reason": {"type": "string"}}}

    assert accepted_content(schema) == {"confirm": True, "note": "ok"}
