"""The operator token: required beyond loopback for the operator API and /ws, never for the webhook; the role each
endpoint needs; and the OAuth server's own endpoints, which other sites' applications call."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from domain.services import Services
from calendar_agent.settings import SettingsError
from calendar_agent.bootstrap.serve import build_service_app
from calendar_agent.network import is_loopback_host
from chat_bridge.roles import role_needed
from chat_bridge.security import FOREIGN_CALLERS, StaffPresence, is_open_path, is_under
from domain.staff.roles import Role
from tests.fakes.loopback import serve_on_loopback
from tests.fakes.graph_api import (VERIFY_TOKEN, FakeGraphApi, RunningBridge, bridge_settings,  # noqa: F401
                                   graph_api, inbound, running_bridge, signed)

TOKEN = "operator-secret"
MCP_TOKEN = "mcp-secret"
CUSTOMER = "966501234567"
AGENT = "12125550123"
OPERATOR_CALLS = [("GET", "/customers/names"), ("GET", "/customers/search?q=sara"),
                  ("GET", f"/conversations/{CUSTOMER}"), ("POST", "/whatsapp/message"), ("POST", "/confirmations/c-1"),
                  ("PATCH", f"/customers/{CUSTOMER}"), ("POST", "/notices/1/resend"), ("POST", "/notices/1/dismiss")]


@pytest.fixture
async def public_bridge(services: Services, graph_api: FakeGraphApi) -> AsyncIterator[RunningBridge]:
    settings = bridge_settings(graph_api, operator_token=TOKEN, mcp_auth_token=MCP_TOKEN)
    async with running_bridge(services, graph_api, settings=settings, public=True) as running:
        yield running


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                                ("[::1]", True), ("0.0.0.0", False), ("192.168.1.5", False),
                                                ("clinic.example", False)])
def test_only_loopback_hosts_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(("path", "extra", "is_open"), [
    ("/webhook", (), True), ("/mcp", (), True), ("/mcp/", (), True), ("/health", (), True),
    ("/webhooks", (), False), ("/customers/names", (), False), ("/ws", (), False),
    ("/", ("/",), True), ("/customers/names", ("/",), False), ("/static/app.js", ("/static",), True),
])
def test_open_paths_are_the_listed_ones_and_what_is_under_them(path: str, extra: tuple[str, ...],
                                                               is_open: bool) -> None:
    assert is_open_path(path, extra) is is_open


def test_a_public_service_without_a_token_refuses_to_start(graph_api: FakeGraphApi) -> None:
    with pytest.raises(SettingsError, match="OPERATOR_TOKEN"):
        build_service_app(bridge_settings(graph_api), public=True)


@pytest.mark.parametrize(("method", "path"), OPERATOR_CALLS)
async def test_operator_calls_without_the_token_are_unauthorised(public_bridge: RunningBridge, method: str,
                                                                 path: str) -> None:
    response = await public_bridge.http.request(method, path, json={"wa_id": CUSTOMER, "message": "hi"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_wrong_token_is_unauthorised(public_bridge: RunningBridge) -> None:
    response = await public_bridge.http.get("/customers/names", headers={"Authorization": "Bearer guess"})
    assert response.status_code == 401


async def test_the_token_in_a_query_string_does_not_open_http_endpoints(public_bridge: RunningBridge) -> None:
    assert (await public_bridge.http.get("/customers/names", params={"token": TOKEN})).status_code == 401


async def test_the_bearer_token_opens_the_operator_api(public_bridge: RunningBridge) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert (await public_bridge.http.get("/customers/names", headers=headers)).status_code == 200
    sent = await public_bridge.http.post("/whatsapp/message", headers=headers, json={"wa_id": CUSTOMER, "message": "hi"})
    assert sent.status_code == 200


async def test_the_realtime_channel_without_the_token_is_refused(public_bridge: RunningBridge) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(public_bridge.ws_url):
            pass
    assert refused.value.response.status_code == 403


async def test_the_realtime_channel_opens_with_the_token_in_the_query(public_bridge: RunningBridge) -> None:
    async with connect(f"{public_bridge.ws_url}?token={TOKEN}") as sidebar:
        await sidebar.ping()


async def test_the_realtime_channel_opens_with_a_bearer_header(public_bridge: RunningBridge) -> None:
    async with connect(public_bridge.ws_url, additional_headers={"Authorization": f"Bearer {TOKEN}"}) as sidebar:
        await sidebar.ping()


async def test_the_webhook_and_health_need_no_operator_token(public_bridge: RunningBridge) -> None:
    verification = await public_bridge.http.get("/webhook", params={
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"})
    body, headers = signed(inbound(CUSTOMER, "wamid.A1"))
    delivery = await public_bridge.http.post("/webhook", content=body, headers=headers)
    health = await public_bridge.http.get("/health")
    assert (verification.text, delivery.status_code, health.status_code) == ("42", 200, 200)


async def test_a_token_set_on_loopback_is_enforced(services: Services, graph_api: FakeGraphApi) -> None:
    settings = bridge_settings(graph_api, operator_token=TOKEN)
    async with running_bridge(services, graph_api, settings=settings) as bridge:
        assert (await bridge.http.get("/customers/names")).status_code == 401


async def test_loopback_without_a_token_is_open(services: Services, graph_api: FakeGraphApi) -> None:
    async with running_bridge(services, graph_api) as bridge:
        assert (await bridge.http.get("/customers/names")).status_code == 200


OTHER_SITES = ["http://localhost:9999", "http://127.0.0.1:9999", "https://127.0.0.1:{port}", "http://localhost:{port}",
               "null"]
MCP_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28",
               "Mcp-Method": "tools/list"}


@pytest.mark.parametrize("site", OTHER_SITES)
async def test_a_page_of_another_origin_on_this_machine_is_refused_everywhere(
    services: Services, graph_api: FakeGraphApi, site: str
) -> None:
    async with running_bridge(services, graph_api) as bridge:
        origin = site.format(port=bridge.url.rsplit(":", 1)[1])
        sent = await bridge.http.post("/whatsapp/message", json={"wa_id": CUSTOMER, "message": "hi"},
                                      headers={"Origin": origin})
        mcp = await bridge.http.post("/mcp", json=MCP_LIST, headers=MCP_HEADERS | {"Origin": origin})
        with pytest.raises(InvalidStatus) as refused:
            async with connect(bridge.ws_url, origin=Origin(origin)):
                pass
    assert [sent.status_code, mcp.status_code, refused.value.response.status_code] == [403, 403, 403]
    assert sent.json()["error"]["code"] == mcp.json()["error"]["code"] == "invalid_origin"
    assert await services.conversations.page(CUSTOMER) == [] and graph_api.sent == []


async def test_the_page_the_service_serves_and_a_configured_origin_are_accepted(
    services: Services, graph_api: FakeGraphApi
) -> None:
    settings = bridge_settings(graph_api, allowed_origins="https://clinic.example")
    async with running_bridge(services, graph_api, settings=settings) as bridge:
        for origin in (bridge.url, "https://clinic.example"):
            sent = await bridge.http.post("/whatsapp/message", json={"wa_id": CUSTOMER, "message": "hi"},
                                          headers={"Origin": origin})
            mcp = await bridge.http.post("/mcp", json=MCP_LIST, headers=MCP_HEADERS | {"Origin": origin})
            async with connect(bridge.ws_url, origin=Origin(origin)) as sidebar:
                await sidebar.ping()
            assert (sent.status_code, mcp.status_code) == (200, 200)
    assert graph_api.texts_to(CUSTOMER) == ["hi", "hi"]


def test_an_allowed_origin_that_is_not_an_origin_stops_the_service(graph_api: FakeGraphApi) -> None:
    with pytest.raises(SettingsError, match="ALLOWED_ORIGINS"):
        bridge_settings(graph_api, allowed_origins="clinic.example")


def test_a_public_service_without_an_mcp_token_refuses_to_start(graph_api: FakeGraphApi) -> None:
    with pytest.raises(SettingsError, match="Invalid setting MCP_AUTH_TOKEN: it must be set when the service"):
        build_service_app(bridge_settings(graph_api, operator_token=TOKEN), public=True)


PROXIED = [{"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "127.0.0.1"},
           {"Forwarded": "for=203.0.113.7;proto=https"}, {"X-Real-IP": "203.0.113.7"}]


@pytest.mark.parametrize("proxy", PROXIED)
async def test_without_tokens_a_request_through_a_proxy_is_refused_and_this_machine_served(
    services: Services, graph_api: FakeGraphApi, proxy: dict[str, str]
) -> None:
    async with running_bridge(services, graph_api) as bridge:
        names = await bridge.http.get("/customers/names", headers=proxy)
        sent = await bridge.http.post("/whatsapp/message", json={"wa_id": CUSTOMER, "message": "hi"}, headers=proxy)
        tools = await bridge.http.post("/mcp", json=MCP_LIST, headers=MCP_HEADERS | proxy)
        with pytest.raises(InvalidStatus) as refused:
            async with connect(bridge.ws_url, additional_headers=proxy):
                pass
        health = await bridge.http.get("/health", headers=proxy)
        local = [await bridge.http.get("/customers/names"),
                 await bridge.http.post("/mcp", json=MCP_LIST, headers=MCP_HEADERS)]
    assert [names.status_code, sent.status_code, tools.status_code] == [401, 401, 401]
    assert "Without OPERATOR_TOKEN only this machine" in names.json()["error"]["message"]
    assert "Without MCP_AUTH_TOKEN only this machine" in tools.json()["error"]["message"]
    assert refused.value.response.status_code == 403 and health.status_code == 200
    assert [r.status_code for r in local] == [200, 200]
    assert "system_batch_cancel" in local[1].text
    assert await services.conversations.page(CUSTOMER) == [] and graph_api.sent == []


async def test_without_tokens_a_trusted_proxys_address_is_never_this_machine(
    services: Services, graph_api: FakeGraphApi
) -> None:
    settings = bridge_settings(graph_api, trusted_proxies="127.0.0.1, 10.0.0.0/8")
    async with running_bridge(services, graph_api, settings=settings) as bridge:
        names = await bridge.http.get("/customers/names")
        tools = await bridge.http.post("/mcp", json=MCP_LIST, headers=MCP_HEADERS)
        health = await bridge.http.get("/health")
    assert (names.status_code, tools.status_code, health.status_code) == (401, 401, 200)


async def test_behind_a_tls_proxy_the_tokens_open_the_api_and_the_pages_origin_is_its_https_one(
    services: Services, graph_api: FakeGraphApi
) -> None:
    settings = bridge_settings(graph_api, operator_token=TOKEN, mcp_auth_token=MCP_TOKEN,
                               mcp_allowed_hosts="clinic.example")
    proxy = {"Host": "clinic.example", "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    app = build_service_app(settings, services=services, host="127.0.0.1")
    async with serve_on_loopback(app, settings) as url, httpx2.AsyncClient(base_url=url) as http:
        bare = await http.get("/customers/names", headers=proxy)
        page = await http.post("/whatsapp/message", json={"wa_id": AGENT, "message": "hi"}, headers=proxy | {
            "Authorization": f"Bearer {TOKEN}", "Origin": "https://clinic.example"})
        plain_page = await http.get("/customers/names", headers=proxy | {
            "Authorization": f"Bearer {TOKEN}", "Origin": "http://clinic.example"})
        tools = await http.post("/mcp", json=MCP_LIST, headers=MCP_HEADERS | proxy | {
            "Authorization": f"Bearer {MCP_TOKEN}"})
    assert (bare.status_code, page.status_code, plain_page.status_code, tools.status_code) == (401, 202, 403, 200)
    assert [m.text for m in await services.conversations.page(AGENT)] == ["hi"]


@pytest.mark.parametrize(("method", "template", "needed"), [
    ("GET", "/calendar", Role.VIEWER), ("WEBSOCKET", "/ws", Role.VIEWER), ("GET", "/batches", Role.VIEWER),
    ("POST", "/whatsapp/message", Role.VIEWER), ("POST", "/batches/cancel", Role.OPERATOR),
    ("PATCH", "/customers/{wa_id}", Role.OPERATOR), ("DELETE", "/waitlist/{entry_id}", Role.OPERATOR),
    ("POST", "/attendance", Role.OPERATOR), ("POST", "/closures", Role.ADMIN),
    ("DELETE", "/closures/{closure_id}", Role.ADMIN), ("GET", "/closures", Role.VIEWER), ("GET", "/staff", Role.ADMIN),
    ("GET", "/audit", Role.ADMIN), ("POST", "/an/endpoint/added/later", Role.OPERATOR)])
def test_reads_need_a_viewer_changes_an_operator_and_closing_days_or_the_staff_an_admin(
        method: str, template: str, needed: Role) -> None:
    assert role_needed(method, template) is needed


@pytest.mark.parametrize(("path", "foreign"), [
    ("/token", True), ("/register", True), ("/revoke", True), ("/authorize", True),
    ("/.well-known/oauth-authorization-server", True), ("/.well-known/oauth-protected-resource/mcp", True),
    ("/oauth/consent", False), ("/session", False), ("/tokens", False)])
def test_the_oauth_servers_own_endpoints_may_be_called_from_other_sites_and_its_consent_may_not(
        path: str, foreign: bool) -> None:
    assert is_under(path, FOREIGN_CALLERS) is foreign


async def test_whether_accounts_exist_is_asked_of_the_database_at_most_every_two_seconds(services: Services) -> None:
    now = [100.0]
    presence = StaffPresence(seconds=2.0, clock=lambda: now[0])
    before = await presence(services)
    await services.staff.add("amal", "admin", "correct horse battery")
    cached = await presence(services)
    now[0] += 2.5
    assert (before, cached, await presence(services), await presence(None)) == (False, False, True, False)
