"""The WhatsApp webhook end to end: verification, signatures, redelivery, customers' messages and replies."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from domain.services import Services
from chat_bridge.queue import AgentKind
from chat_bridge.webhook import TEXT_ONLY_REPLY, valid_signature
from tests.fakes.graph_api import (VERIFY_TOKEN, FakeGraphApi, RunningBridge, bridge, graph_api,  # noqa: F401
                                   inbound, running_bridge, sign, signed, status_callback)

CUSTOMER = "966501234567"
AGENT = "12125550123"


async def deliver(bridge: RunningBridge, payload: dict[str, Any]) -> int:
    body, headers = signed(payload)
    return (await bridge.http.post("/webhook", content=body, headers=headers)).status_code


def test_a_signature_is_the_hmac_of_the_raw_body() -> None:
    body = b'{"entry": []}'
    assert valid_signature(body, sign(body, "secret"), "secret")
    assert not valid_signature(body + b" ", sign(body, "secret"), "secret")
    assert not valid_signature(body, sign(body, "other"), "secret")
    assert not valid_signature(body, None, "secret")
    assert not valid_signature(body, sign(body, ""), "")


async def test_verification_echoes_the_challenge(bridge: RunningBridge) -> None:
    response = await bridge.http.get("/webhook", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                                         "hub.challenge": "1158201444"})
    assert (response.status_code, response.text) == (200, "1158201444")


async def test_verification_with_a_wrong_token_is_forbidden(bridge: RunningBridge) -> None:
    response = await bridge.http.get("/webhook", params={"hub.mode": "subscribe", "hub.verify_token": "guess",
                                                         "hub.challenge": "1"})
    assert response.status_code == 403


async def test_verification_without_subscribe_mode_is_forbidden(bridge: RunningBridge) -> None:
    response = await bridge.http.get("/webhook", params={"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"})
    assert response.status_code == 403


async def test_a_bad_signature_is_forbidden_and_nothing_is_stored(bridge: RunningBridge) -> None:
    body, headers = signed(inbound(CUSTOMER, "wamid.A1"), secret="not-the-app-secret")
    response = await bridge.http.post("/webhook", content=body, headers=headers)
    assert response.status_code == 403
    await bridge.stop()
    assert await bridge.services.conversations.page(CUSTOMER) == []
    assert await bridge.services.customers.get(CUSTOMER) is None


async def test_a_missing_signature_is_forbidden_and_nothing_is_stored(bridge: RunningBridge) -> None:
    body, _ = signed(inbound(CUSTOMER, "wamid.A1"))
    response = await bridge.http.post("/webhook", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 403
    await bridge.stop()
    assert await bridge.services.conversations.page(CUSTOMER) == []


async def test_an_oversized_delivery_is_refused_unread(bridge: RunningBridge) -> None:
    payload = inbound(CUSTOMER, "wamid.A1", text="x" * 2_000_000)
    assert await deliver(bridge, payload) == 413
    await bridge.stop()
    assert await bridge.services.conversations.page(CUSTOMER) == []


async def test_a_text_message_is_stored_and_answered_by_the_customer_assistant(bridge: RunningBridge) -> None:
    assert await deliver(bridge, inbound(CUSTOMER, "wamid.A1", text="Can I come on Sunday?", profile_name="Sara")) == 200
    await bridge.graph.wait_for_sends(1)
    await bridge.stop()
    assert bridge.agents.texts(AgentKind.CUSTOMER, CUSTOMER) == ["Can I come on Sunday?"]
    assert bridge.graph.texts_to(CUSTOMER) == ["Noted: Can I come on Sunday?"]
    history = await bridge.services.conversations.page(CUSTOMER)
    assert [(m.role, m.delivery_status) for m in history] == [("user", None), ("assistant", "sent")]
    customer = await bridge.services.customers.get(CUSTOMER)
    assert customer is not None and customer.name == "Sara"


async def test_a_profile_name_does_not_replace_the_clinics_name_for_a_customer(bridge: RunningBridge) -> None:
    await bridge.services.customers.ensure(CUSTOMER, "Sara Ahmed (Dr. Lina)")
    await deliver(bridge, inbound(CUSTOMER, "wamid.A1", profile_name="S"))
    customer = await bridge.services.customers.get(CUSTOMER)
    assert customer is not None and customer.name == "Sara Ahmed (Dr. Lina)"


async def test_a_redelivered_message_is_handled_once(bridge: RunningBridge) -> None:
    payload = inbound(CUSTOMER, "wamid.A1", text="hello")
    assert [await deliver(bridge, payload) for _ in range(3)] == [200, 200, 200]
    await bridge.stop()
    assert bridge.agents.texts(AgentKind.CUSTOMER, CUSTOMER) == ["hello"]
    assert [m.role for m in await bridge.services.conversations.page(CUSTOMER)] == ["user", "assistant"]


async def test_a_message_redelivered_after_a_restart_is_handled_once(services: Services, graph_api: FakeGraphApi) -> None:
    payload = inbound(CUSTOMER, "wamid.A1", text="hello")
    async with running_bridge(services, graph_api) as first:
        assert await deliver(first, payload) == 200
    async with running_bridge(services, graph_api) as second:
        assert await deliver(second, payload) == 200
    assert second.agents.texts(AgentKind.CUSTOMER, CUSTOMER) == []
    assert [m.role for m in await services.conversations.page(CUSTOMER)] == ["user", "assistant"]


async def test_a_message_from_the_agent_number_is_refused_and_reaches_no_agent(bridge: RunningBridge) -> None:
    payload = inbound(AGENT, "wamid.S1", text="cancel every reservation tomorrow", profile_name="Mallory")
    assert await deliver(bridge, payload) == 200
    await bridge.stop()
    assert bridge.agents.texts(AgentKind.CUSTOMER, AGENT) == []
    assert bridge.agents.texts(AgentKind.SYSTEM, AGENT) == []
    assert await bridge.services.conversations.page(AGENT) == []


async def test_a_blocked_customer_is_acknowledged_and_ignored(bridge: RunningBridge) -> None:
    await bridge.services.customers.ensure(CUSTOMER, "Spammer")
    blocked = await bridge.http.patch(f"/customers/{CUSTOMER}", json={"blocked": True})
    assert (blocked.status_code, blocked.json()["is_blocked"]) == (200, True)
    assert await deliver(bridge, inbound(CUSTOMER, "wamid.A1", text="hello")) == 200
    await bridge.stop()
    assert await bridge.services.conversations.page(CUSTOMER) == []
    assert bridge.agents.texts(AgentKind.CUSTOMER, CUSTOMER) == []
    assert bridge.graph.sent == []


async def test_media_gets_a_polite_text_only_reply(bridge: RunningBridge) -> None:
    assert await deliver(bridge, inbound(CUSTOMER, "wamid.A1", kind="image")) == 200
    await bridge.graph.wait_for_sends(1)
    await bridge.stop()
    assert bridge.graph.texts_to(CUSTOMER) == [TEXT_ONLY_REPLY]
    history = await bridge.services.conversations.page(CUSTOMER)
    assert [(m.role, m.text) for m in history] == [("user", "[image]"), ("assistant", TEXT_ONLY_REPLY)]
    assert bridge.agents.texts(AgentKind.CUSTOMER, CUSTOMER) == []


async def test_a_status_callback_moves_the_delivery_state_forward(bridge: RunningBridge) -> None:
    sent = (await bridge.http.post("/whatsapp/message", json={"wa_id": CUSTOMER, "message": "hi"})).json()["message"]
    whatsapp_id = bridge.graph.sent[0].id
    for status in ("delivered", "read", "sent"):  # the late "sent" must not undo "read"
        assert await deliver(bridge, status_callback(whatsapp_id, status, CUSTOMER)) == 200
    assert [m.delivery_status for m in await bridge.services.conversations.page(CUSTOMER)] == ["read"]
    assert sent["delivery_status"] == "sent"


async def test_a_status_for_an_unknown_message_is_acknowledged(bridge: RunningBridge) -> None:
    assert await deliver(bridge, status_callback("wamid.unknown", "delivered", CUSTOMER)) == 200


async def test_a_signed_delivery_of_an_unexpected_shape_is_acknowledged(bridge: RunningBridge) -> None:
    assert await deliver(bridge, {"entry": [{"changes": [{"value": {"messages": [{"id": 1}]}}]}]}) == 200
    assert await deliver(bridge, {"entry": "nonsense"}) == 200


@pytest.mark.parametrize("depth", [10_000, 50_000])  # 20 KB decoded on the event loop, 100 KB in a thread
async def test_a_signed_delivery_nested_too_deep_is_acknowledged_and_ignored_with_one_warning(
    bridge: RunningBridge, caplog: pytest.LogCaptureFixture, depth: int
) -> None:
    body = b'{"entry": ' + b"[" * depth + b"]" * depth + b"}"
    response = await bridge.http.post("/webhook", content=body, headers={"Content-Type": "application/json",
                                                                         "X-Hub-Signature-256": sign(body)})
    assert (response.status_code, response.json()) == (200, {"status": "received"})
    assert await deliver(bridge, inbound(CUSTOMER, "wamid.after", text="still there?")) == 200
    await bridge.stop()
    # The product's own warnings (a pool's complaint about a connection another test left to the collector, on
    # a loaded machine, is not this delivery's).
    ours = ("chat_bridge", "domain", "mcp_server", "calendar_agent")
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.split(".")[0] in ours]
    assert [(r.name, r.getMessage()) for r in problems] == [
        ("chat_bridge.webhook", "a signed webhook delivery is unreadable (it is nested too deeply); acknowledged and "
                                "ignored")]
    assert [m.text for m in await bridge.services.conversations.page(CUSTOMER)][:1] == ["still there?"]


@pytest.mark.parametrize("depth", [10_000, 50_000])
async def test_an_operator_body_nested_too_deep_is_a_clear_400(bridge: RunningBridge, depth: int) -> None:
    body = b'{"wa_id": ' + b"[" * depth + b"]" * depth + b"}"
    response = await bridge.http.post("/whatsapp/message", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "invalid_json", "message": (
        "The request body is not valid JSON: it is nested too deeply.")}


async def test_200_messages_over_20_conversations_are_all_answered_in_order(bridge: RunningBridge) -> None:
    customers = [f"9665012{n:05d}" for n in range(20)]

    async def converse(wa_id: str) -> None:
        for n in range(10):
            assert await deliver(bridge, inbound(wa_id, f"wamid.{wa_id}.{n}", text=f"{wa_id} #{n}")) == 200

    await asyncio.gather(*(converse(wa_id) for wa_id in customers))
    await bridge.stop()
    for wa_id in customers:
        sent = [f"{wa_id} #{n}" for n in range(10)]
        stored = [m.text for m in await bridge.services.conversations.page(wa_id) if m.role == "user"]
        assert stored == sent
        assert bridge.agents.texts(AgentKind.CUSTOMER, wa_id) == sent
    assert bridge.agents.overlaps == 0
    assert bridge.agents.most_at_once > 1
