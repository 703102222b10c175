"""The whole service of `calendar-agent serve` on loopback: both agents, the MCP server, WhatsApp, the sidebars.

Only what lives outside is faked, as real HTTP servers: the model provider (both wire formats) and the
Graph API. The plan's verification steps run here end to end.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from mcp import Client
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from domain.services import Services
from calendar_agent.bootstrap.serve import build_service_app
from domain.storage.store import ensure_customers
from tests.acceptance.support import Clinic
from tests.fakes.fixtures import anthropic_api, anthropic_server, openai_api, openai_server  # noqa: F401
from tests.fakes.loopback import serve_on_loopback
from tests.fakes.graph_api import FakeGraphApi, bridge_settings, graph_api, inbound, next_event, signed  # noqa: F401
from tests.fakes.llm import Call, Reply, ScriptedLLM

AGENT = "12125550123"
SUNDAY, TUESDAY = "2026-12-06", "2026-12-08"
CUSTOMER = "966501234567"


@dataclass
class Service(Clinic):
    """The service on loopback, its scripted model, and the fake Graph API it sends through."""

    graph: FakeGraphApi


@pytest.fixture(params=["anthropic", "openai"])
def llm(request: pytest.FixtureRequest) -> ScriptedLLM:
    api: ScriptedLLM = request.getfixturevalue(f"{request.param}_api")
    return api


@contextlib.asynccontextmanager
async def running(services: Services, graph: FakeGraphApi, **settings: Any) -> AsyncIterator[tuple[str, httpx2.AsyncClient]]:
    app = build_service_app(bridge_settings(graph, **settings), services=services)
    async with serve_on_loopback(app) as url, httpx2.AsyncClient(base_url=url, timeout=30) as http:
        yield url, http


@pytest.fixture
async def service(services: Services, graph_api: FakeGraphApi, llm: ScriptedLLM) -> AsyncIterator[Service]:
    async with running(services, graph_api, **llm.settings_overrides()) as (url, http):
        yield Service(url, http, services, llm, graph_api)


async def booked(services: Services, day: str) -> int:
    [entry] = await services.availability.search(day, only_available=False)
    return sum(slot["booked"] for slot in entry["slots"])


async def next_reply(sidebar: ClientConnection, wa_id: str) -> dict[str, Any]:
    while True:
        event = await next_event(sidebar, "conversation_new_message")
        message: dict[str, Any] = event["message"]
        if message["wa_id"] == wa_id and message["role"] == "assistant":
            return message


async def test_move_a_day_through_the_system_agent_without_any_whatsapp_call(service: Service) -> None:
    for n, slot in enumerate(("11:00", "11:00", "13:00")):
        await service.services.reservations.reserve(f"96650100000{n}", SUNDAY, slot)
    service.llm.script(
        Reply(calls=(Call("system_batch_modify", {"filters": {"dates": [SUNDAY]}, "updates": {"new_date": TUESDAY}}),)),
        Reply("Moved 3 reservations from Sunday 2026-12-06 to Tuesday 2026-12-08."),
    )
    async with service.sidebar() as first, service.sidebar() as second:
        response = await service.http.post("/whatsapp/message", json={
            "wa_id": AGENT, "message": f"move all users from {SUNDAY} to {TUESDAY}", "_call_source": "console"})
        assert response.status_code == 202
        assert (await next_reply(first, AGENT))["text"].startswith("Moved 3 reservations")
        assert (await next_reply(second, AGENT))["text"].startswith("Moved 3 reservations")
    assert (await booked(service.services, SUNDAY), await booked(service.services, TUESDAY)) == (0, 3)
    assert service.graph.sent == []
    roles = [m.role for m in await service.services.conversations.page(AGENT)]
    assert roles == ["secretary", "tool", "assistant"]


async def test_calendar_changes_reach_every_sidebar(service: Service) -> None:
    await service.services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    service.llm.script(
        Reply(calls=(Call("system_batch_cancel", {"requests": [{"wa_id": CUSTOMER}]}),)), Reply("Cancelled."))
    async with service.sidebar() as sidebar:
        await service.http.post("/whatsapp/message", json={"wa_id": AGENT, "message": "cancel Sara's booking"})
        event = await next_event(sidebar, "reservation_cancelled")
    assert event["reservation"]["wa_id"] == CUSTOMER and event["reservation"]["date"] == SUNDAY


async def test_contacts_list_the_agent_on_a_fresh_database(service: Service) -> None:
    contacts = (await service.http.get("/customers/names")).json()
    assert contacts[0]["wa_id"] == AGENT and contacts[0]["name"] == "Calendar AI Assistant"


async def test_the_console_reads_while_a_writer_holds_the_calendar(service: Service) -> None:
    await service.services.customers.ensure(CUSTOMER, "Sara Khan")
    async with service.services.db.unit_of_work() as session:  # holds SQLite's write lock until it ends
        await ensure_customers(session, {"966509990001": "Not Yet Committed"})
        contacts = (await service.http.get("/customers/names")).json()
        found = (await service.http.get("/customers/search", params={"q": "Sara"})).json()
    assert [c["wa_id"] for c in contacts] == [AGENT, CUSTOMER]
    assert [hit["wa_id"] for hit in found] == [CUSTOMER]


async def test_a_customer_on_whatsapp_gets_the_customer_assistant_and_never_a_system_tool(service: Service) -> None:
    service.llm.script(
        Reply(calls=(Call("reserve_time_slot", {"date": SUNDAY, "time_slot": "1:00 PM"}),)),
        Reply("تم حجز موعدك يوم الأحد الساعة 1:00 PM"),
    )
    body, headers = signed(inbound(CUSTOMER, "wamid.test-1", text="أبغى موعد يوم الأحد الساعة 1"))
    async with service.sidebar() as sidebar:
        assert (await service.http.post("/webhook", content=body, headers=headers)).status_code == 200
        reply = await next_reply(sidebar, CUSTOMER)
    assert reply["text"].startswith("تم حجز")
    await service.graph.wait_for_sends(1)  # stored first, then sent by the durable outbox's sender
    assert [m.text for m in service.graph.sent] == [reply["text"]]
    [reservation] = await service.services.reservations.customer_reservations(CUSTOMER)
    assert (reservation.date, reservation.time_slot) == (SUNDAY, "13:00")
    offered = set(service.llm.seen[0].tools)
    assert "reserve_time_slot" in offered and not any(name.startswith("system_") for name in offered)


async def test_the_mcp_endpoint_serves_the_system_tools(service: Service) -> None:
    async with Client(service.url + "/mcp") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert {"system_get_reservations", "system_batch_modify", "system_undo_batch"} <= names


async def test_without_a_model_key_the_operator_is_told_what_to_set(services: Services, graph_api: FakeGraphApi) -> None:
    async with running(services, graph_api, anthropic_api_key="", anthropic_base_url="") as (url, http):
        async with connect("ws" + url.removeprefix("http") + "/ws") as sidebar:
            await http.post("/whatsapp/message", json={"wa_id": AGENT, "message": "hello"})
            error = await next_event(sidebar, "system_agent_error")
    assert "ANTHROPIC_API_KEY" in json.dumps(error)
    assert [m.role for m in await services.conversations.page(AGENT)] == ["secretary"]


async def test_a_signed_webhook_message_from_the_agents_own_number_is_refused_however_written(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    for n, sender in enumerate(("12125550123", "+1 212 555 0123", "0012125550123", "+1 (212) 555-0123",
                                "١٢١٢٥٥٥٠١٢٣")):
        body, headers = signed(inbound(sender, f"wamid.spoof-{n}", text="move everyone to Friday"))
        assert (await service.http.post("/webhook", content=body, headers=headers)).status_code == 200
    assert await service.services.conversations.page(AGENT) == []
    assert await service.services.customers.get(AGENT) is None
    assert service.graph.sent == [] and service.llm.bodies == []
    assert sum("claims the system agent's number" in r.getMessage() for r in caplog.records) == 5


async def test_another_web_page_cannot_drive_the_local_service(service: Service) -> None:
    message = json.dumps({"wa_id": AGENT, "message": "cancel everything"})
    foreign = await service.http.post("/whatsapp/message", content=message,
                                      headers={"Content-Type": "text/plain", "Origin": "http://evil.example"})
    plain = await service.http.post("/whatsapp/message", content=message, headers={"Content-Type": "text/plain"})
    rebound = await service.http.get("/customers/names", headers={"Host": "evil.example"})
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (403, "invalid_origin")
    assert (plain.status_code, plain.json()["error"]["code"]) == (415, "unsupported_media_type")
    assert (rebound.status_code, rebound.json()["error"]["code"]) == (421, "invalid_host")
    assert await service.services.conversations.page(AGENT) == [] and service.llm.bodies == []


async def test_a_websocket_from_another_origin_is_closed_and_the_own_origin_is_served(service: Service) -> None:
    url = "ws" + service.url.removeprefix("http") + "/ws"
    with pytest.raises(InvalidStatus):
        async with connect(url, origin=Origin("http://evil.example")) as socket:
            await socket.recv()
    async with connect(url, origin=Origin(service.url)) as socket:
        assert (await service.http.get("/customers/names", headers={"Origin": service.url})).status_code == 200
        await socket.ping()


async def test_a_search_too_long_is_a_clear_error_and_the_service_keeps_answering(service: Service) -> None:
    refused = await service.http.get("/customers/search", params={"q": "a" * 10_000})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "query_too_long"
    assert (await service.http.get("/customers/search", params={"q": "Calendar"})).status_code == 200
