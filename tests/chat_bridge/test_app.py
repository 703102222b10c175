"""The service as `calendar-agent serve` builds it: its own database, the MCP server at /mcp, calendar events,
the agents plugged in."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import httpx2
import pytest
from mcp import Client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from websockets.asyncio.client import connect

from calendar_agent.bootstrap.serve import build_service_app
from chat_bridge.app import build_app
from chat_bridge.queue import SYSTEM_AGENT_FAILED, AgentKind
from chat_bridge.state import BridgeContext, State
from mcp_server.http import LocalCallers
from domain.errors import DomainError, error_body
from domain.services import Services
from tests.fakes.loopback import serve_on_loopback
from tests.fakes.graph_api import (FakeGraphApi, bridge_settings, graph_api, next_event,  # noqa: F401
                                   running_bridge)

AGENT = "12125550123"
CUSTOMER = "966501234567"


class Broken:
    async def __call__(self, wa_id: str) -> None:
        raise RuntimeError("provider down")


def broken_agents(kind: AgentKind, context: BridgeContext) -> Broken:
    return Broken()


async def test_the_app_opens_and_closes_its_own_database(sqlite_template: Path, tmp_path: Path,
                                                         graph_api: FakeGraphApi) -> None:
    shutil.copy(sqlite_template, tmp_path / "calendar.db")
    settings = bridge_settings(graph_api, database_url=f"sqlite+aiosqlite:///{tmp_path / 'calendar.db'}")
    async with serve_on_loopback(build_service_app(settings)) as url, httpx2.AsyncClient(base_url=url) as http:
        names = (await http.get("/customers/names")).json()
    assert [c["wa_id"] for c in names] == [AGENT]


async def test_an_mcp_client_reaches_the_system_tools_at_mcp(services: Services, graph_api: FakeGraphApi) -> None:
    async with running_bridge(services, graph_api) as bridge:
        async with Client(f"{bridge.url}/mcp") as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            result = await client.call_tool("system_get_reservations", {"dates": ["2026-12-06"]})
    assert {"system_batch_modify", "system_get_reservations"} <= tools
    assert result.is_error is False


async def test_reservation_changes_are_broadcast_to_the_sidebars(services: Services, graph_api: FakeGraphApi) -> None:
    async with running_bridge(services, graph_api) as bridge:
        async with connect(bridge.ws_url) as sidebar:
            await services.reservations.reserve(CUSTOMER, "2026-12-06", "11:00")
            created = await next_event(sidebar, "reservation_created")
            await services.reservations.cancel(CUSTOMER)
            cancelled = await next_event(sidebar, "reservation_cancelled")
    assert created["reservation"]["date"] == "2026-12-06"
    assert cancelled["reservation"]["status"] == "cancelled"
    assert services.events.listeners == []


async def test_the_console_page_needs_no_token_and_its_data_does(services: Services, graph_api: FakeGraphApi) -> None:
    settings = bridge_settings(graph_api, operator_token="t", mcp_auth_token="m")
    async with running_bridge(services, graph_api, settings=settings, public=True) as bridge:
        page = await bridge.http.get("/")
        config = await bridge.http.get("/config")
        calendar = await bridge.http.get("/calendar", params={"start": "2026-12-06"})
        names = await bridge.http.get("/customers/names")
    assert (page.status_code, config.status_code, config.json()["token_required"]) == (200, 200, True)
    assert calendar.status_code == names.status_code == 401


async def test_a_failing_system_agent_shows_the_operator_an_error(services: Services, graph_api: FakeGraphApi) -> None:
    app = build_service_app(bridge_settings(graph_api), services=services, agents=broken_agents)
    async with serve_on_loopback(app) as url, httpx2.AsyncClient(base_url=url) as http:
        async with connect(f"ws{url.removeprefix('http')}/ws") as sidebar:
            response = await http.post("/whatsapp/message", json={"wa_id": AGENT, "message": "move everyone"})
            event = await next_event(sidebar, "system_agent_error")
    assert response.status_code == 202
    assert event == {"type": "system_agent_error", "wa_id": AGENT, "error": SYSTEM_AGENT_FAILED}
    assert [m.text for m in await services.conversations.page(AGENT)] == ["move everyone", SYSTEM_AGENT_FAILED]


async def test_without_a_model_the_operator_is_told_which_key_to_set(services: Services,
                                                                     graph_api: FakeGraphApi) -> None:
    app = build_service_app(bridge_settings(graph_api, anthropic_api_key=""), services=services)
    async with serve_on_loopback(app) as url, httpx2.AsyncClient(base_url=url) as http:
        async with connect(f"ws{url.removeprefix('http')}/ws") as sidebar:
            await http.post("/whatsapp/message", json={"wa_id": AGENT, "message": "hello"})
            event: dict[str, Any] = await next_event(sidebar, "system_agent_error")
    assert "ANTHROPIC_API_KEY is not set" in event["error"]


@contextlib.asynccontextmanager
async def no_state(app: Starlette) -> AsyncIterator[State]:
    yield cast(State, {})


@pytest.mark.parametrize(("code", "status"), [("invalid_date", 422), ("customer_not_found", 404), ("slot_full", 409),
                                              ("already_cancelled", 409), ("has_future_reservation", 409),
                                              ("changed_since", 409), ("reservation_not_found", 404)])
async def test_a_domain_error_is_answered_with_the_status_of_its_kind(code: str, status: int) -> None:
    async def refuse(request: Request[Any]) -> Response:
        raise DomainError(code)

    app = build_app(no_state, operator_token=None, local_caller=LocalCallers(), allowed_hosts=["127.0.0.1:*"],
                    allowed_origins=[],
                    extra_routes=[Route("/refuse", refuse)])
    async with serve_on_loopback(app) as url, httpx2.AsyncClient(base_url=url) as http:
        response = await http.get("/refuse")
    assert (response.status_code, response.json()) == (status, error_body(code, DomainError(code).message()))
