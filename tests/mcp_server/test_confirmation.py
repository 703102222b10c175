"""A destructive batch over the threshold asks the user first; nothing a model can set skips that."""

from typing import Any

import pytest
from mcp import Client
from mcp.client.session import ClientRequestContext
from mcp.server import MCPServer
from mcp_types import CallToolResult, ElicitRequestFormParams, ElicitRequestParams, ElicitResult

from domain.services import Services
from domain.system_agent.cards import CARD_META_KEY, Card
from mcp_scenario import THURSDAY, WEDNESDAY, Elicitation, Seed, answering, wa_id, data

CANCEL_WEDNESDAY = {"filters": {"dates": [WEDNESDAY]}}  # 15 reservations
CANCEL_BOTH_DAYS = {"filters": {"dates": [WEDNESDAY, THURSDAY]}}  # 30 reservations: over the threshold of 20


async def cancel(server: MCPServer, arguments: dict[str, Any], elicitation: Elicitation | None = None,
                 mode: str = "auto") -> CallToolResult:
    async with Client(server, elicitation_callback=elicitation, mode=mode) as client:
        return await client.call_tool("system_batch_cancel", arguments)


async def active(services: Services) -> int:
    return sum([len(await services.reservations.customer_reservations(wa_id(n))) for n in range(30)])


async def test_a_large_cancel_asks_the_user_and_applies_on_yes(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await seed([WEDNESDAY, THURSDAY], 30)
    callback, asked = answering("accept", {"confirm": True})
    result = await cancel(system_server, CANCEL_BOTH_DAYS, callback)
    assert data(result)["status"] == "applied"
    assert asked and "would change 30 reservation(s) (cancelled: 30) on 2 day(s)" in asked[0]
    assert await active(services) == 0


async def test_a_legacy_connection_asks_over_its_back_channel_and_applies_on_yes(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await seed([WEDNESDAY, THURSDAY], 30)
    callback, asked = answering("accept", {"confirm": True})
    result = await cancel(system_server, CANCEL_BOTH_DAYS, callback, mode="legacy")
    assert data(result)["status"] == "applied"
    assert len(asked) == 1
    assert await active(services) == 0


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_question_asks_only_for_a_yes_and_carries_its_card_where_the_protocol_keeps_meta(
    system_server: MCPServer, services: Services, seed: Seed, mode: str
) -> None:
    """A request's `_meta` travels on a back-channel request (the bridge's connection); a 2026-07-28 embedded
    request has no `_meta` on the wire, so that client is shown the question's text, which names the change."""
    await seed([WEDNESDAY, THURSDAY], 30)
    forms: list[ElicitRequestFormParams] = []

    async def callback(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        assert isinstance(params, ElicitRequestFormParams)
        forms.append(params)
        return ElicitResult(action="decline")

    await cancel(system_server, CANCEL_BOTH_DAYS, callback, mode=mode)
    (form,) = forms
    assert "would change 30 reservation(s) (cancelled: 30) on 2 day(s)" in form.message
    if mode == "legacy":
        card = Card.model_validate((form.meta or {}).get(CARD_META_KEY))
        assert (card.reservations, card.days, card.actions) == (30, {WEDNESDAY: 15, THURSDAY: 15}, {"cancelled": 30})
    else:
        assert form.meta is None
    schema = form.requested_schema
    assert (set(schema["properties"]), schema["properties"]["confirm"]["type"]) == ({"confirm"}, "boolean")
    assert "{" not in schema.get("description", "")  # the card is no longer JSON in the form's text
    assert await active(services) == 30


async def test_a_declined_question_changes_nothing_and_hands_out_no_token(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await seed([WEDNESDAY, THURSDAY], 30)
    callback, _ = answering("decline")
    result = await cancel(system_server, CANCEL_BOTH_DAYS, callback)
    assert data(result)["status"] == "declined"
    assert "confirmation" not in data(result)
    assert result.content[0].text == "Declined by the user; nothing was changed."  # type: ignore[union-attr]
    assert await active(services) == 30


async def test_a_dismissed_question_on_a_legacy_connection_changes_nothing(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await seed([WEDNESDAY, THURSDAY], 30)
    callback, _ = answering("cancel")
    result = await cancel(system_server, CANCEL_BOTH_DAYS, callback, mode="legacy")
    assert data(result)["status"] == "declined"
    assert await active(services) == 30


async def test_an_accepted_form_that_unticks_confirm_changes_nothing(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await seed([WEDNESDAY, THURSDAY], 30)
    callback, _ = answering("accept", {"confirm": False})
    result = await cancel(system_server, CANCEL_BOTH_DAYS, callback)
    assert data(result)["status"] == "declined"
    assert await active(services) == 30


async def test_without_elicitation_the_answer_is_a_preview_and_a_token_and_nothing_changes(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await seed([WEDNESDAY, THURSDAY], 30)
    result = await cancel(system_server, CANCEL_BOTH_DAYS)
    answer = data(result)
    assert answer["status"] == "needs_confirmation"
    assert answer["confirmation"]["preview"]["reservations"] == 30
    assert "Show this preview to the user and wait for their answer" in answer["next_step"]
    assert answer["confirmation"]["token"] in result.content[0].text  # type: ignore[union-attr]
    assert await active(services) == 30


async def test_the_token_applies_the_previewed_change(system_server: MCPServer, services: Services, seed: Seed) -> None:
    await seed([WEDNESDAY, THURSDAY], 30)
    token = data(await cancel(system_server, CANCEL_BOTH_DAYS))["confirmation"]["token"]
    result = await cancel(system_server, CANCEL_BOTH_DAYS | {"confirmation_token": token})
    assert data(result)["status"] == "applied"
    assert await active(services) == 0


async def test_a_token_for_another_change_is_refused(system_server: MCPServer, services: Services, seed: Seed) -> None:
    await seed([WEDNESDAY, THURSDAY, "2026-12-06"], 45)
    token = data(await cancel(system_server, CANCEL_BOTH_DAYS))["confirmation"]["token"]
    other = {"filters": {"dates": [THURSDAY, "2026-12-06"]}, "confirmation_token": token}
    result = await cancel(system_server, other)
    assert result.is_error
    assert await active(services) == 30


async def test_a_model_cannot_mark_a_batch_confirmed(system_server: MCPServer, services: Services, seed: Seed) -> None:
    await seed([WEDNESDAY, THURSDAY], 30)
    result = await cancel(system_server, CANCEL_BOTH_DAYS | {"confirmed": True})
    assert result.is_error and "confirmed" in result.content[0].text  # type: ignore[union-attr]
    assert await active(services) == 30


async def test_a_batch_within_the_threshold_applies_without_asking(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await seed([WEDNESDAY], 15)
    callback, asked = answering("decline")
    result = await cancel(system_server, CANCEL_WEDNESDAY, callback)
    assert data(result)["status"] == "applied"
    assert asked == []


async def test_the_question_is_in_arabic_when_asked_in_arabic(system_server: MCPServer, seed: Seed) -> None:
    await seed([WEDNESDAY, THURSDAY], 30)
    callback, asked = answering("decline")
    await cancel(system_server, CANCEL_BOTH_DAYS | {"ar": True}, callback)
    assert "سيتغير 30 حجزًا" in asked[0]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
@pytest.mark.parametrize("content", [{}, None, {"confirm": "yes"}, {"confirm": 1}])
async def test_an_accept_without_an_explicit_confirm_true_applies_nothing(
    system_server: MCPServer, services: Services, seed: Seed, mode: str, content: dict[str, Any] | None
) -> None:
    await seed([WEDNESDAY, THURSDAY], 30)

    async def callback(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept", content=content)

    result = await cancel(system_server, CANCEL_BOTH_DAYS, callback, mode=mode)
    assert result.is_error or data(result)["status"] == "declined"
    assert await active(services) == 30


async def test_a_calendar_changed_while_the_user_decides_is_asked_again_with_the_fresh_preview(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    ids = await seed([WEDNESDAY, THURSDAY], 30)
    asked: list[str] = []

    async def callback(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        if len(asked) == 1:  # someone else cancels one of them before the operator answers
            await services.reservations.cancel(wa_id(0), ids[0])
        return ElicitResult(action="accept", content={"confirm": True})

    result = await cancel(system_server, CANCEL_BOTH_DAYS, callback, mode="legacy")
    assert data(result)["status"] == "applied" and data(result)["summary"]["ok"] == 29
    assert len(asked) == 2 and "would change 29 reservation(s)" in asked[1]
    assert await active(services) == 0


async def test_the_preview_says_what_would_fail_and_why(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    ids = await seed([WEDNESDAY, THURSDAY], 30)
    callback, asked = answering("decline")
    requests = [{"reservation_id": i} for i in ids[:25]] + [{"reservation_id": 99_999}, {"reservation_id": 99_998}]
    result = await cancel(system_server, {"requests": requests}, callback)
    assert data(result)["status"] == "declined"
    assert "would change 25 reservation(s)" in asked[0]
    assert "2 item(s) would fail (reservation_not_found: 2) and stay as they are" in asked[0]
    assert await active(services) == 30
