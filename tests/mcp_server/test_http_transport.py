"""Streamable HTTP on loopback: the real client, bearer tokens, Host/Origin checks, mounting in a host app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import MCPServer
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from domain.services import Services
from mcp_scenario import ALICE, WEDNESDAY
from tests.fakes.loopback import serve_on_loopback
from mcp_server.http import LocalCallers, MCPHttpApp, build_mcp_http_app

TOKEN = "s3cret-token"
MODERN = "2026-07-28"
ENVELOPE = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
RESERVE = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
    "name": "system_batch_reserve", "_meta": ENVELOPE,
    "arguments": {"requests": [{"wa_id": ALICE, "date": WEDNESDAY, "time_slot": "13:00"}]}}}
HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": MODERN,
           "Mcp-Method": "tools/call", "Mcp-Name": "system_batch_reserve"}


@asynccontextmanager
async def client_for(url: str, token: str | None = None, path: str = "/mcp") -> AsyncIterator[Client]:
    """The SDK's client over streamable HTTP; the HTTP client it is given is ours to close."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers) as http:
        async with Client(streamable_http_client(f"{url}{path}", http_client=http)) as client:
            yield client


async def post(url: str, body: dict[str, Any], **headers: str) -> httpx2.Response:
    async with httpx2.AsyncClient() as http:
        return await http.post(f"{url}/mcp", json=body, headers=HEADERS | headers)


async def test_a_loopback_client_without_a_token_lists_the_tools_when_none_is_configured(
    transport_server: MCPServer,
) -> None:
    async with serve_on_loopback(build_mcp_http_app(transport_server, auth_token=None)) as url, client_for(url) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert "system_batch_cancel" in names


async def test_the_right_token_runs_the_tool(transport_server: MCPServer, sqlite_services: Services) -> None:
    async with serve_on_loopback(build_mcp_http_app(transport_server, auth_token=TOKEN)) as url:
        response = await post(url, RESERVE, Authorization=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert len(await sqlite_services.reservations.customer_reservations(ALICE)) == 1


async def test_no_token_is_401_and_nothing_runs(transport_server: MCPServer, sqlite_services: Services) -> None:
    async with serve_on_loopback(build_mcp_http_app(transport_server, auth_token=TOKEN)) as url:
        response = await post(url, RESERVE)
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "unauthorized",
                                         "message": "A valid bearer token (MCP_AUTH_TOKEN) is required."}}
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await sqlite_services.reservations.customer_reservations(ALICE) == []


async def test_a_wrong_token_is_401_and_nothing_runs(transport_server: MCPServer, sqlite_services: Services) -> None:
    async with serve_on_loopback(build_mcp_http_app(transport_server, auth_token=TOKEN)) as url:
        response = await post(url, RESERVE, Authorization="Bearer guess")
    assert response.status_code == 401
    assert await sqlite_services.reservations.customer_reservations(ALICE) == []


async def test_the_real_client_with_the_token_calls_a_tool(transport_server: MCPServer) -> None:
    async with serve_on_loopback(build_mcp_http_app(transport_server, auth_token=TOKEN)) as url, client_for(url, TOKEN) as client:
        result = await client.call_tool("get_current_datetime", {})
    assert result.structured_content is not None and result.structured_content["timezone"] == "Asia/Riyadh"


async def test_a_foreign_host_header_is_rejected_and_nothing_runs(
    transport_server: MCPServer, sqlite_services: Services
) -> None:
    async with serve_on_loopback(build_mcp_http_app(transport_server, auth_token=None)) as url:
        response = await post(url, RESERVE, Host="evil.example")
    assert response.status_code == 421
    assert await sqlite_services.reservations.customer_reservations(ALICE) == []


async def test_a_foreign_origin_is_rejected_and_nothing_runs(
    transport_server: MCPServer, sqlite_services: Services
) -> None:
    async with serve_on_loopback(build_mcp_http_app(transport_server, auth_token=None)) as url:
        response = await post(url, RESERVE, Origin="http://evil.example")
    assert response.status_code == 403
    assert await sqlite_services.reservations.customer_reservations(ALICE) == []


async def test_another_path_is_not_found(transport_server: MCPServer) -> None:
    async with serve_on_loopback(build_mcp_http_app(transport_server, auth_token=None)) as url:
        async with httpx2.AsyncClient() as http:
            response = await http.post(f"{url}/admin", json=RESERVE)
    assert response.status_code == 404


@pytest.mark.parametrize("proxy", [{"X-Forwarded-For": "127.0.0.1"}, {"Forwarded": "for=203.0.113.7"},
                                   {"X-Real-IP": "203.0.113.7"}])
async def test_without_a_token_a_call_through_a_proxy_on_this_machine_is_401_and_nothing_runs(
    transport_server: MCPServer, sqlite_services: Services, proxy: dict[str, str]
) -> None:
    async with serve_on_loopback(build_mcp_http_app(transport_server, auth_token=None)) as url:
        response = await post(url, RESERVE, **proxy)
    assert response.status_code == 401 and "came through a proxy" in response.json()["error"]["message"]
    assert await sqlite_services.reservations.customer_reservations(ALICE) == []


def test_a_trusted_proxys_address_is_never_a_local_caller() -> None:
    local = LocalCallers(["127.0.0.1", "10.0.0.0/8"])
    assert not local({"type": "http", "client": ("127.0.0.1", 51000), "headers": []})
    assert local({"type": "http", "client": ("127.0.0.2", 51000), "headers": []})
    assert not local({"type": "http", "client": ("10.1.2.3", 51000), "headers": []})


async def test_a_caller_beyond_loopback_without_a_configured_token_is_refused(transport_server: MCPServer) -> None:
    app = build_mcp_http_app(transport_server, auth_token=None)
    assert not app.authorized({"type": "http", "client": ("203.0.113.9", 51000), "headers": []})
    assert app.authorized({"type": "http", "client": ("::1", 51000), "headers": []})


def host_app(mcp: MCPHttpApp, mounted: bool) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with mcp.lifespan():
            yield

    route = Mount("/mcp", app=mcp) if mounted else Route("/mcp", endpoint=mcp)
    return Starlette(routes=[route], lifespan=lifespan)


async def test_routed_in_a_host_app_the_endpoint_serves_once_the_host_enters_its_lifespan(
    transport_server: MCPServer,
) -> None:
    app = host_app(build_mcp_http_app(transport_server, auth_token=TOKEN), mounted=False)
    async with serve_on_loopback(app) as url, client_for(url, TOKEN) as client:
        assert (await client.call_tool("get_current_datetime", {})).is_error is False


async def test_mounted_in_a_host_app_the_endpoint_serves_at_the_mount_path(transport_server: MCPServer) -> None:
    app = host_app(build_mcp_http_app(transport_server, auth_token=TOKEN), mounted=True)
    async with serve_on_loopback(app) as url, client_for(url, TOKEN, path="/mcp/") as client:
        assert (await client.call_tool("get_current_datetime", {})).is_error is False
