"""Two `serve` instances on one PostgreSQL database act as one service: an event on A reaches a console on
B, a customer created or renamed on A is found by B's search, a message accepted by A is answered once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.shared.subscriptions import ResourceUpdated
from sqlalchemy import func, select
from websockets.asyncio.client import ClientConnection, connect

from calendar_agent.bootstrap.serve import build_service_app

from chat_bridge.queue import AgentKind
from domain.config import ClinicConfig
from domain.calendar.customers import rename_customer
from domain.storage.database import create_database
from domain.storage.models import AgentJob, BatchRecord, Reservation
from domain.services import Services, build_services
from tests.acceptance.support import SUNDAY, TUESDAY, fill
from tests.conftest import PER_CALL, FixedClock, emptied
from tests.fakes.fixtures import anthropic_api, anthropic_server  # noqa: F401 (fixtures)
from tests.fakes.graph_api import (FakeGraphApi, RunningBridge, ScriptedAgents, graph_api,  # noqa: F401
                                   bridge_settings, inbound, next_event, running_bridge, signed)
from tests.fakes.llm import Call, Reply, ScriptedLLM
from tests.fakes.loopback import serve_on_loopback

pytestmark = pytest.mark.postgres
AGENT, CUSTOMER = "12125550123", "966501234567"


@pytest.fixture
async def two_services(postgres_url: str, config: ClinicConfig, clock: FixedClock) -> AsyncIterator[list[Services]]:
    """Two processes' worth of services (each its own engine and search index) over one database."""
    databases = [create_database(postgres_url) for _ in range(2)]
    await emptied(databases[0])
    yield [build_services(config, db, clock, limits=PER_CALL) for db in databases]
    for db in databases:
        await db.dispose()


async def eventually(check: Callable[[], Any], seconds: float = 5) -> Any:
    async with asyncio.timeout(seconds):
        while not (found := await check()):
            await asyncio.sleep(0.02)
    return found


async def test_an_event_on_one_instance_reaches_a_console_on_the_other(
    two_services: list[Services], graph_api: FakeGraphApi  # noqa: F811 (fixture)
) -> None:
    a, b = two_services
    async with running_bridge(a, graph_api) as first, running_bridge(b, graph_api) as second:
        async with connect(second.ws_url) as sidebar:
            await first.http.post("/whatsapp/message", json={"wa_id": AGENT, "message": "hello from A"})
            stored = await next_event(sidebar, "conversation_new_message")
            await a.reservations.reserve(CUSTOMER, "2026-12-06", "11:00")
            created = await next_event(sidebar, "reservation_created")
    assert stored["message"]["text"] == "hello from A"
    assert created["reservation"]["wa_id"] == CUSTOMER


async def test_a_customer_created_or_renamed_on_one_instance_is_found_on_the_other(
    two_services: list[Services], graph_api: FakeGraphApi  # noqa: F811 (fixture)
) -> None:
    a, b = two_services
    async with running_bridge(a, graph_api) as first, running_bridge(b, graph_api) as second:
        assert (await second.http.get("/customers/search", params={"q": "Zubaida"})).json() == []  # B's index built

        async def found_on_b(query: str) -> list[dict[str, Any]]:
            hits: list[dict[str, Any]] = (await second.http.get("/customers/search", params={"q": query})).json()
            return [h for h in hits if h["wa_id"] == CUSTOMER]

        await a.customers.ensure(CUSTOMER, "Zubaida Haddad")
        created = await eventually(lambda: found_on_b("Zubaida"), 1)
        async with a.db.unit_of_work() as session:
            await rename_customer(session, CUSTOMER, "Marwa Saleh")
        renamed = await eventually(lambda: found_on_b("Marwa"), 1)
        gone = await found_on_b("Zubaida")
    assert created[0]["name"] == "Zubaida Haddad" and renamed[0]["name"] == "Marwa Saleh" and gone == []


async def test_messages_accepted_by_both_instances_are_answered_once_each_in_order(
    two_services: list[Services], graph_api: FakeGraphApi  # noqa: F811 (fixture)
) -> None:
    a, b = two_services
    agents = ScriptedAgents()
    async with running_bridge(a, graph_api, agents) as first, running_bridge(b, graph_api, agents) as second:
        for n in range(10):
            bridge: RunningBridge = (first, second)[n % 2]
            accepted = await bridge.http.post("/whatsapp/message", json={"wa_id": AGENT, "message": f"m{n}"})
            assert accepted.status_code == 202
        await agents.wait_for_seen(AgentKind.SYSTEM, AGENT, 10)
    assert agents.texts(AgentKind.SYSTEM, AGENT) == [f"m{n}" for n in range(10)]
    assert agents.overlaps == 0


async def test_a_message_too_large_for_one_notification_reaches_the_other_console_shortened(
    two_services: list[Services], graph_api: FakeGraphApi  # noqa: F811 (fixture)
) -> None:
    a, b = two_services
    long = "ب" * 6_000  # 12,000 bytes of UTF-8: more than PostgreSQL lets one NOTIFY carry
    async with running_bridge(a, graph_api) as first, running_bridge(b, graph_api) as second:
        async with connect(second.ws_url) as sidebar:
            accepted = await first.http.post("/whatsapp/message", json={"wa_id": AGENT, "message": long})
            shown = await next_event(sidebar, "conversation_new_message")
    assert accepted.status_code == 202
    assert shown["truncated"] is True and shown["message"]["id"] == accepted.json()["message"]["id"]
    assert shown["message"]["meta"] is None
    assert long.startswith(shown["message"]["text"].removesuffix(" …"))


async def test_a_confirmation_asked_on_one_instance_is_answered_on_the_other_and_applied_once(
    two_services: list[Services], graph_api: FakeGraphApi, anthropic_api: ScriptedLLM  # noqa: F811 (fixture)
) -> None:
    a, b = two_services
    await fill(a, SUNDAY, 25)
    cancel = Call("system_batch_cancel", {"filters": {"start_date": SUNDAY, "end_date": TUESDAY}})
    anthropic_api.script(Reply(calls=(cancel,)), Reply("Cancelled the 25 reservations."))
    settings = bridge_settings(graph_api, **anthropic_api.settings_overrides())
    async with serve_on_loopback(build_service_app(settings, services=a)) as first_url, connect(
            ws_url(first_url)) as on_a, httpx2.AsyncClient(base_url=first_url) as first:
        await first.post("/whatsapp/message", json={"wa_id": AGENT, "message": "Cancel Sunday to Tuesday"})
        request = await next_event(on_a, "confirmation_request")  # A's worker runs the turn and waits
        async with serve_on_loopback(build_service_app(settings, services=b)) as second_url, connect(
                ws_url(second_url)) as on_b, httpx2.AsyncClient(base_url=second_url) as second:
            answer = f"/confirmations/{request['confirmation_id']}"
            on_second = await second.post(answer, json={"accept": True})
            resolved = await next_event(on_b, "confirmation_resolved")
            reply = await agent_reply(on_b)
            again = await first.post(answer, json={"accept": False})
    assert (on_second.status_code, again.status_code) == (200, 404)
    assert resolved["state"] == "accepted" and reply == "Cancelled the 25 reservations."
    async with b.db.reading() as session:
        statuses = (await session.scalars(select(Reservation.status))).all()
        batches = await session.scalar(select(func.count()).select_from(BatchRecord))
    assert (sorted(set(statuses)), len(statuses), batches) == (["cancelled"], 25, 2)  # the booking, the cancel


def ws_url(url: str) -> str:
    return "ws" + url.removeprefix("http") + "/ws"


async def agent_reply(sidebar: ClientConnection) -> str:
    """The text of the next assistant message the sidebar is shown."""
    while True:
        message = (await next_event(sidebar, "conversation_new_message"))["message"]
        if message["role"] == "assistant" and not (message.get("meta") or {}).get("kind"):
            return str(message["text"])


async def test_a_webhook_delivered_to_both_instances_at_once_is_stored_and_answered_once(
    two_services: list[Services], graph_api: FakeGraphApi  # noqa: F811 (fixture)
) -> None:
    a, b = two_services
    agents = ScriptedAgents()
    body, headers = signed(inbound(CUSTOMER, "wamid.twice", text="is Sunday free?"))
    async with running_bridge(a, graph_api, agents) as first, running_bridge(b, graph_api, agents) as second:
        answers = await asyncio.gather(*(bridge.http.post("/webhook", content=body, headers=headers)
                                         for bridge in (first, second, first, second)))
        await agents.wait_for_seen(AgentKind.CUSTOMER, CUSTOMER, 1)
        stored = await a.conversations.page(CUSTOMER)
        async with a.db.reading() as session:
            jobs = await session.scalar(select(func.count()).select_from(AgentJob).where(AgentJob.wa_id == CUSTOMER))
    assert [answer.status_code for answer in answers] == [200] * 4
    assert [(m.role, m.text) for m in stored if m.role == "user"] == [("user", "is Sunday free?")]
    assert agents.texts(AgentKind.CUSTOMER, CUSTOMER) == ["is Sunday free?"] and jobs == 1


async def test_a_day_changed_on_one_instance_is_told_to_its_subscribers_on_the_other(
    two_services: list[Services], graph_api: FakeGraphApi  # noqa: F811 (fixture)
) -> None:
    a, b = two_services
    await a.customers.ensure(CUSTOMER, "Omar Haddad")
    booked = await a.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    assert booked.reservation is not None
    async with running_bridge(a, graph_api) as first, running_bridge(b, graph_api) as second:
        async with Client(f"{second.url}/mcp") as watcher, Client(f"{first.url}/mcp") as mover:
            async with watcher.listen(resource_subscriptions=[f"calendar://day/{SUNDAY}"]) as events:
                moved = await mover.call_tool("system_batch_modify", {"requests": [
                    {"reservation_id": booked.reservation.id, "new_date": TUESDAY}]})
                assert moved.is_error is False
                async with asyncio.timeout(10):
                    event = await anext(aiter(events))
    assert event == ResourceUpdated(f"calendar://day/{SUNDAY}")


async def test_lines_accepted_by_one_instance_reach_the_other_in_order_even_when_it_stops_at_once(
    two_services: list[Services], graph_api: FakeGraphApi  # noqa: F811 (fixture)
) -> None:
    """A's 202 does not wait for B to be told (one sender tells B, in order): twenty lines accepted by A reach B's
    console in the order A accepted them, the last ones too when A stops right after accepting them."""
    a, b = two_services
    async with running_bridge(b, graph_api) as second, connect(second.ws_url) as sidebar:
        async with running_bridge(a, graph_api) as first:
            for n in range(20):
                accepted = await first.http.post("/whatsapp/message", json={"wa_id": AGENT, "message": f"line {n}"})
                assert accepted.status_code == 202
        seen: list[str] = []
        while len(seen) < 20:
            text = (await next_event(sidebar, "conversation_new_message"))["message"]["text"]
            if text.startswith("line "):
                seen.append(text)
    assert seen == [f"line {n}" for n in range(20)]
