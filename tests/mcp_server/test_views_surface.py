"""The MCP Apps views as a client sees them: bound to their tools and served as `ui://` documents for a client that
negotiated Apps; for every other client, the server lists, reads and answers exactly as one built without views."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.client.extension import advertise
from mcp.server import MCPServer
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp_types import CallToolResult, TextResourceContents

from chat_bridge.agent.acting import acting_for
from domain.clock import Clock
from domain.config import ClinicConfig
from domain.services import Services, build_services
from domain.staff.roles import Principal, Role
from domain.storage.database import Database
from domain.system_agent.effects import EffectLimits
from mcp_server.http import build_mcp_http_app
from mcp_server.system_server import build_system_server
from mcp_server.toolkit import READ_ONLY
from mcp_server.toolsets import TOOLSETS
from mcp_server.views import PREVIEW_URI, VIEW_WEEK_TOOL, WEEK_URI
from mcp_server.views.documents import VIEW_CSP
from mcp_server.views.surface import PREVIEWED_TOOLS
from tests.console.conftest import D1, seed
from tests.fakes.loopback import serve_on_loopback

APPS = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
MODES = ["auto", "legacy"]  # a 2026-07-28 client, and one of the initialize handshake
VIEWER = Principal("huda", Role.VIEWER)
BATCH_TOOLS = ("system_batch_reserve", "system_batch_modify", "system_batch_cancel", "system_undo_batch")


@pytest.fixture
async def seeded(db: Database, config: ClinicConfig, clock: Clock) -> Services:
    """The console's seeded week (`tests/console/conftest.py`), with the product's default confirmation limits."""
    services = build_services(config, db, clock, limits=EffectLimits())
    await seed(services)
    return services


def server_of(services: Services, views: bool = True) -> MCPServer:
    """The system server as the composition root builds it (`calendar_agent.bootstrap.mcp`)."""
    return build_system_server(services, services.batch, services.queries, views=views)


def wire(value: Any) -> str:
    """What goes on the wire, as JSON text."""
    return json.dumps(value.model_dump(mode="json", by_alias=True, exclude_none=True), ensure_ascii=False)


async def listings(server: MCPServer, **client: Any) -> tuple[str, str]:
    async with Client(server, **client) as connected:
        return wire(await connected.list_tools()), wire(await connected.list_resources())


@pytest.mark.parametrize("mode", MODES)
async def test_an_apps_client_is_listed_each_tool_with_its_view(seeded: Services, mode: str) -> None:
    async with Client(server_of(seeded), extensions=[APPS], mode=mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert tools["system_get_reservations"].meta == {"ui": {"resourceUri": WEEK_URI}}
    assert tools[VIEW_WEEK_TOOL].meta == {"ui": {"resourceUri": WEEK_URI, "visibility": ["app"]}}
    assert tools[VIEW_WEEK_TOOL].annotations is not None and tools[VIEW_WEEK_TOOL].annotations.read_only_hint
    assert all(tools[name].meta == {"ui": {"resourceUri": PREVIEW_URI}} for name in BATCH_TOOLS)
    assert tools["system_get_batch"].meta is None


async def test_every_tool_that_writes_a_batch_shows_the_preview(seeded: Services) -> None:
    """Every write answering as a batch does (it may ask for confirmation), in every toolset, opens the preview."""
    server = build_system_server(seeded, seeded.batch, seeded.queries, tuple(TOOLSETS))
    async with Client(server, extensions=[APPS]) as client:
        tools = (await client.list_tools()).tools
    batch_answer = next(t.output_schema for t in tools if t.name == "system_batch_cancel")
    writes = [t for t in tools if t.output_schema == batch_answer and not (t.annotations or READ_ONLY).read_only_hint]
    assert {t.name for t in writes} == set(PREVIEWED_TOOLS) and set(BATCH_TOOLS) < set(PREVIEWED_TOOLS)
    assert all(t.meta == {"ui": {"resourceUri": PREVIEW_URI}} for t in writes)


@pytest.mark.parametrize(("uri", "view"), [(WEEK_URI, "week"), (PREVIEW_URI, "batch-preview")])
async def test_an_apps_client_reads_each_view_as_an_app_document_that_reaches_no_network(
        seeded: Services, uri: str, view: str) -> None:
    async with Client(server_of(seeded), extensions=[APPS]) as client:
        listed = {str(r.uri): r for r in (await client.list_resources()).resources}
        contents = (await client.read_resource(uri)).contents
    assert listed[uri].mime_type == APP_MIME_TYPE
    [document] = contents
    assert isinstance(document, TextResourceContents) and document.mime_type == APP_MIME_TYPE
    assert f'<body data-view="{view}">' in document.text
    assert '<meta http-equiv="Content-Security-Policy"' in document.text and "connect-src 'none'" in document.text
    assert document.meta == {"ui": {"csp": VIEW_CSP.model_dump(by_alias=True, exclude_none=True)}}
    assert document.meta["ui"]["csp"]["connectDomains"] == []


@pytest.mark.parametrize("client", [
    {}, {"mode": "legacy"},
    {"extensions": [advertise(EXTENSION_ID)]},  # Apps named, but no HTML app mime type: not negotiated
    {"extensions": [advertise(EXTENSION_ID, {"mimeTypes": ["text/html"]})]},
])
async def test_a_client_without_apps_is_listed_exactly_what_a_server_without_views_lists(
        seeded: Services, client: dict[str, Any]) -> None:
    assert await listings(server_of(seeded), **client) == await listings(server_of(seeded, views=False), **client)


async def test_a_viewer_without_apps_is_listed_exactly_what_a_server_without_views_lists(seeded: Services) -> None:
    with acting_for(VIEWER):
        assert await listings(server_of(seeded)) == await listings(server_of(seeded, views=False))


def same_answer(result: CallToolResult) -> str:
    """The answer as sent, its one-time confirmation token (random by design) written as <token>."""
    token = ((result.structured_content or {}).get("confirmation") or {}).get("token")
    sent = wire(result)
    return sent.replace(token, "<token>") if token else sent


async def answers(server: MCPServer, tool: str, arguments: dict[str, Any]) -> str:
    async with Client(server) as client:
        return same_answer(await client.call_tool(tool, arguments))


@pytest.mark.parametrize(("tool", "arguments"), [
    ("system_get_reservations", {"dates": [D1]}),
    ("system_batch_cancel", {"filters": {"dates": [D1]}}),  # the whole day: it asks, with its token, as before
    (VIEW_WEEK_TOOL, {"day": D1}),  # the views' own tool does not exist for this client
])
async def test_a_client_without_apps_gets_the_answers_of_a_server_without_views(
        seeded: Services, tool: str, arguments: dict[str, Any]) -> None:
    with_views = await answers(server_of(seeded), tool, arguments)
    assert with_views == await answers(server_of(seeded, views=False), tool, arguments)
    if tool == "system_batch_cancel":
        assert '"status": "needs_confirmation"' in with_views and "confirmation_token=<token>" in with_views
    if tool == VIEW_WEEK_TOOL:
        assert "Unknown tool: system_view_week" in with_views


async def test_a_client_without_apps_reads_no_view(seeded: Services) -> None:
    async with Client(server_of(seeded)) as client:
        with pytest.raises(MCPError) as refused:
            await client.read_resource(WEEK_URI)
    assert "Unknown resource: ui://calendar/week.html" in str(refused.value)


@pytest.mark.parametrize("apps", [True, False])
async def test_over_streamable_http_only_an_apps_client_is_listed_the_views(transport_server: MCPServer,
                                                                           apps: bool) -> None:
    """Whether a client negotiated Apps is read per request on the wire too (the SDK's runner, not memory)."""
    async with serve_on_loopback(build_mcp_http_app(transport_server, auth_token=None)) as url:
        async with httpx2.AsyncClient() as http:
            transport = streamable_http_client(f"{url}/mcp", http_client=http)
            async with Client(transport, extensions=[APPS] if apps else None) as client:
                tools = {tool.name: tool for tool in (await client.list_tools()).tools}
                resources = {str(r.uri) for r in (await client.list_resources()).resources}
    assert (VIEW_WEEK_TOOL in tools) is apps and ({WEEK_URI, PREVIEW_URI} <= resources) is apps
    assert (tools["system_get_reservations"].meta is not None) is apps
