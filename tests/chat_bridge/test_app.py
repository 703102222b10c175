"""The composition root: its own database, the MCP app at /mcp, calendar events, the agents plugged in."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from websockets.asyncio.client import connect

from calendar_agent.composition import Services
from chat_bridge.app import BridgeContext, build_app
from chat_bridge.queue import SYSTEM_AGENT_FAILED, AgentKind
from chat_bridge.events import Hub
from tests.fakes.graph_api import (FakeGraphApi, bridge_settings, graph_api, next_event,  # noqa: F401
                                   running_bridge, serve_on_loopback)

AGENT = "12125550123"
CUSTOMER = "966501234567"


class Broken:
    async def __call__(self, wa_id: str) -> None:
        raise RuntimeError("provider down")


def broken_agents(kind: AgentKind, context: BridgeContext) -> Broken:
    return Broken()


def tiny_mcp_app(log: list[str]) -> Starlette:
    """An ASGI app with a lifespan, standing in for the MCP server's app."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        log.append("started")
        yield
        log.append("stopped")

    async def root(request: Request) -> JSONResponse:
        return JSONResponse({"route_path": request.url.path, "root_path": request.scope["root_path"]})

    return Starlette(routes=[Route("/", root, methods=["GET", "POST"])], lifespan=lifespan)


async def test_the_app_opens_and_closes_its_own_database(sqlite_template: Path, tmp_path: Path,
                                                         graph_api: FakeGraphApi) -> None:
    shutil.copy(sqlite_template, tmp_path / "calendar.db")
    settings = bridge_settings(graph_api, database_url=f"sqlite+aiosqlite:///{tmp_path / 'calendar.db'}")
    async with serve_on_loopback(build_app(settings)) as url, httpx2.AsyncClient(base_url=url) as http:
        names = (await http.get("/customers/names")).json()
    assert [c["wa_id"] for c in names] == [AGENT]


async def test_the_mcp_app_is_served_at_mcp_and_its_lifespan_runs(services: Services, graph_api: FakeGraphApi) -> None:
    log: list[str] = []
    async with running_bridge(services, graph_api, mcp_app=tiny_mcp_app(log)) as bridge:
        assert log == ["started"]
        exact = await bridge.http.post("/mcp")
        slash = await bridge.http.get("/mcp/")
    assert exact.status_code == slash.status_code == 200
    assert exact.json()["root_path"] == slash.json()["root_path"] == "/mcp"
    assert log == ["started", "stopped"]


async def test_an_mcp_client_reaches_a_real_mcp_server_at_mcp(services: Services, graph_api: FakeGraphApi) -> None:
    server = MCPServer("clinic")

    @server.tool()
    def ping() -> str:
        """Answer pong."""
        return "pong"

    mcp_app = server.streamable_http_app(streamable_http_path="/")
    async with running_bridge(services, graph_api, mcp_app=mcp_app) as bridge:
        async with Client(f"{bridge.url}/mcp") as client:
            result = await client.call_tool("ping", {})
    assert "pong" in json.dumps(result.model_dump(mode="json"))


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


async def test_events_published_on_a_given_hub_reach_the_sidebars(services: Services, graph_api: FakeGraphApi) -> None:
    hub = Hub()
    async with running_bridge(services, graph_api, hub=hub) as bridge:
        async with connect(bridge.ws_url) as sidebar:
            await hub.publish({"type": "confirmation_request", "confirmation_id": "c-1"})
            event = await next_event(sidebar, "confirmation_request")
    assert event == {"type": "confirmation_request", "confirmation_id": "c-1"}


async def test_extra_routes_are_served_and_their_open_paths_need_no_token(services: Services,
                                                                          graph_api: FakeGraphApi) -> None:
    async def page(request: Request) -> JSONResponse:
        return JSONResponse({"page": request.url.path})

    extra = [Route("/", page), Route("/calendar", page)]
    settings = bridge_settings(graph_api, operator_token="t")
    async with running_bridge(services, graph_api, settings=settings, public=True, extra_routes=extra,
                              open_paths=("/",)) as bridge:
        root = await bridge.http.get("/")
        calendar = await bridge.http.get("/calendar")
        names = await bridge.http.get("/customers/names")
    assert (root.status_code, root.json()) == (200, {"page": "/"})
    assert calendar.status_code == names.status_code == 401


async def test_a_failing_system_agent_shows_the_operator_an_error(services: Services, graph_api: FakeGraphApi) -> None:
    app = build_app(bridge_settings(graph_api), services=services, agent_turn_factory=broken_agents)
    async with serve_on_loopback(app) as url, httpx2.AsyncClient(base_url=url) as http:
        async with connect(f"ws{url.removeprefix('http')}/ws") as sidebar:
            response = await http.post("/whatsapp/message", json={"wa_id": AGENT, "message": "move everyone"})
            event = await next_event(sidebar, "system_agent_error")
    assert response.status_code == 202
    assert event == {"type": "system_agent_error", "wa_id": AGENT, "error": SYSTEM_AGENT_FAILED}
    assert [m["text"] for m in await services.conversations.page(AGENT)] == ["move everyone"]


async def test_without_agents_the_operator_is_told_none_is_configured(services: Services,
                                                                      graph_api: FakeGraphApi) -> None:
    app = build_app(bridge_settings(graph_api), services=services)
    async with serve_on_loopback(app) as url, httpx2.AsyncClient(base_url=url) as http:
        async with connect(f"ws{url.removeprefix('http')}/ws") as sidebar:
            await http.post("/whatsapp/message", json={"wa_id": AGENT, "message": "hello"})
            event: dict[str, Any] = await next_event(sidebar, "system_agent_error")
    assert "No system agent is configured" in event["error"]
