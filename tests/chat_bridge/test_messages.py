"""`POST /whatsapp/message`: customers over WhatsApp, the system agent in-house, end to end on loopback."""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import connect

from domain.services import Services
from chat_bridge.queue import AgentKind
from domain.storage.models import ConversationMessage
from tests.fakes.graph_api import (FakeGraphApi, RunningBridge, ScriptedAgents, bridge, graph_api,  # noqa: F401
                                   next_event, running_bridge)

CUSTOMER = "966501234567"
AGENT = "12125550123"


async def external_id(services: Services, message_id: int) -> str | None:
    async with services.db.unit_of_work() as session:
        message = await session.get(ConversationMessage, message_id)
        assert message is not None
        return message.external_id


async def test_a_message_to_a_customer_is_delivered_and_logged_as_sent(bridge: RunningBridge) -> None:
    response = await bridge.http.post("/whatsapp/message", json={"wa_id": "+966 50 123 4567", "message": "See you soon",
                                                                 "_call_source": "sidebar"})
    assert response.status_code == 200
    message = response.json()["message"]
    assert (message["wa_id"], message["role"], message["text"], message["delivery_status"]) == (
        CUSTOMER, "secretary", "See you soon", "sent")
    assert [(m.to, m.text) for m in bridge.graph.sent] == [(CUSTOMER, "See you soon")]
    assert await external_id(bridge.services, message["id"]) == bridge.graph.sent[0].id
    assert [m.model_dump(mode="json") for m in await bridge.services.conversations.page(CUSTOMER)] == [message]


async def test_a_message_to_a_new_number_adds_the_contact(bridge: RunningBridge) -> None:
    await bridge.http.post("/whatsapp/message", json={"wa_id": CUSTOMER, "message": "Welcome"})
    names = (await bridge.http.get("/customers/names")).json()
    assert [c["wa_id"] for c in names] == [AGENT, CUSTOMER]


async def test_a_failed_send_answers_502_and_keeps_the_message_as_failed(bridge: RunningBridge) -> None:
    bridge.graph.fail_next(500)
    response = await bridge.http.post("/whatsapp/message", json={"wa_id": CUSTOMER, "message": "Are you coming?"})
    assert response.status_code == 502
    body = response.json()
    assert body["error"]["code"] == "whatsapp_send_failed"
    assert "HTTP 500" in body["error"]["message"]
    assert body["message"]["delivery_status"] == "failed"
    assert [m.delivery_status for m in await bridge.services.conversations.page(CUSTOMER)] == ["failed"]
    assert bridge.graph.sent == []


async def test_a_failed_send_is_broadcast_as_failed(bridge: RunningBridge) -> None:
    bridge.graph.fail_next(503)
    async with connect(bridge.ws_url) as sidebar:
        await bridge.http.post("/whatsapp/message", json={"wa_id": CUSTOMER, "message": "hello"})
        event = await next_event(sidebar, "conversation_new_message")
    assert event["message"]["delivery_status"] == "failed"


async def test_a_message_to_the_system_agent_answers_at_once_and_both_sidebars_see_the_conversation(
    services: Services, graph_api: FakeGraphApi
) -> None:
    release = asyncio.Event()
    async with running_bridge(services, graph_api, ScriptedAgents(gate=release)) as bridge:
        async with connect(bridge.ws_url) as first, connect(bridge.ws_url) as second:
            response = await bridge.http.post("/whatsapp/message", json={
                "wa_id": "+12125550123", "message": "move all users from 2026-12-06 to 2026-12-08",
                "_call_source": "sidebar"})
            assert response.status_code == 202  # the turn is held by the gate: the answer did not wait for it
            stored = response.json()["message"]
            release.set()
            for sidebar in (first, second):
                assert (await next_event(sidebar, "conversation_new_message"))["message"] == stored
                reply = (await next_event(sidebar, "conversation_new_message"))["message"]
                assert (reply["role"], reply["text"]) == ("assistant", "Noted: " + stored["text"])
    assert (stored["wa_id"], stored["role"], stored["delivery_status"]) == (AGENT, "secretary", None)
    assert bridge.agents.texts(AgentKind.SYSTEM, AGENT) == ["move all users from 2026-12-06 to 2026-12-08"]
    assert [m.role for m in await services.conversations.page(AGENT)] == ["secretary", "assistant"]
    assert graph_api.sent == []


async def test_the_sidebar_sees_typing_while_the_system_agent_runs(bridge: RunningBridge) -> None:
    async with connect(bridge.ws_url) as sidebar:
        await bridge.http.post("/whatsapp/message", json={"wa_id": AGENT, "message": "status?"})
        assert (await next_event(sidebar, "conversation_typing"))["typing"] is True
        assert (await next_event(sidebar, "conversation_new_message"))["message"]["role"] == "assistant"
        assert (await next_event(sidebar, "conversation_typing")) == {
            "type": "conversation_typing", "wa_id": AGENT, "typing": False}


async def test_shutdown_waits_for_the_system_agent_to_answer(bridge: RunningBridge) -> None:
    for n in range(3):
        assert (await bridge.http.post("/whatsapp/message", json={"wa_id": AGENT, "message": f"m{n}"})).status_code == 202
    await bridge.stop()
    assert bridge.agents.texts(AgentKind.SYSTEM, AGENT) == ["m0", "m1", "m2"]
    assert bridge.agents.overlaps == 0


async def test_an_empty_message_is_refused(bridge: RunningBridge) -> None:
    response = await bridge.http.post("/whatsapp/message", json={"wa_id": CUSTOMER, "message": "   "})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "empty_message"
    assert await bridge.services.conversations.page(CUSTOMER) == []


async def test_a_body_that_is_not_json_is_refused(bridge: RunningBridge) -> None:
    response = await bridge.http.post("/whatsapp/message", content=b"{not json",
                                      headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_json")


async def test_a_json_list_is_refused(bridge: RunningBridge) -> None:
    response = await bridge.http.post("/whatsapp/message", json=[CUSTOMER, "hi"])
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_json")


async def test_an_invalid_number_is_refused_with_the_domain_sentence(bridge: RunningBridge) -> None:
    response = await bridge.http.post("/whatsapp/message", json={"wa_id": "12345", "message": "hi"})
    assert response.status_code == 422
    assert response.json()["error"] == {"code": "invalid_wa_id",
                                         "message": "The phone number '12345' is not a valid WhatsApp number."}
    assert bridge.graph.sent == []


async def test_a_missing_number_is_refused(bridge: RunningBridge) -> None:
    response = await bridge.http.post("/whatsapp/message", json={"message": "hi"})
    assert (response.status_code, response.json()["error"]["code"]) == (422, "missing_wa_id")


async def test_unknown_fields_are_ignored(bridge: RunningBridge) -> None:
    response = await bridge.http.post("/whatsapp/message", json={"wa_id": CUSTOMER, "message": "hi", "extra": [1, 2]})
    assert response.status_code == 200
