"""OAuth 2.1 on `/mcp` end to end, with the official Python SDK's OAuth client against the service as `serve`
builds it on loopback: discovery, registration, PKCE, a person's consent, then tools in their name and as far as
their role and the granted scopes reach; refresh, revocation, expiry and a disabled account each stop a token."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx2
import pytest
from sqlalchemy import func, select

from domain.services import Services
from domain.staff.roles import READ_SCOPE
from domain.storage.models import BatchRecord, Reservation
from mcp_scenario import ALICE, WEDNESDAY, text
from oauth_harness import (Browser, MemoryTokens, add_staff, browser, mcp_session, oauth_client, running_service)
from tests.conftest import FixedClock

RESERVE = {"requests": [{"wa_id": ALICE, "date": WEDNESDAY, "time_slot": "13:00"}]}
CANCEL = {"requests": [{"wa_id": ALICE}]}
WRITES = {"system_batch_reserve", "system_batch_cancel", "system_batch_modify"}
MODERN = "2026-07-28"  # a request carries its protocol version and is served without a session
MODERN_RESERVE = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
    "name": "system_batch_reserve", "arguments": RESERVE, "_meta": {
        "io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}}}
MODERN_HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": MODERN,
                  "Mcp-Method": "tools/call", "Mcp-Name": "system_batch_reserve"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}}}


@pytest.fixture
async def service(sqlite_services: Services) -> AsyncIterator[str]:
    await add_staff(sqlite_services)
    async with running_service(sqlite_services) as url:
        yield url


async def active(services: Services) -> int:
    async with services.db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(Reservation)
                                        .where(Reservation.status == "active")) or 0)


async def actors(services: Services) -> list[str]:
    async with services.db.reading() as session:
        return list((await session.scalars(select(BatchRecord.actor).order_by(BatchRecord.created_at))).all())


async def authorized(url: str, person: Browser, scopes: list[str] | None = None) -> MemoryTokens:
    """A client that went through discovery, registration and the person's consent; its stored tokens."""
    storage = MemoryTokens()
    async with mcp_session(url, oauth_client(url, person, storage, scopes)) as client:
        await client.list_tools()
    return storage


async def mcp_status(url: str, token: str) -> httpx2.Response:
    async with httpx2.AsyncClient() as http:
        return await http.post(f"{url}/mcp", json=INITIALIZE,
                               headers={"Authorization": f"Bearer {token}",
                                        "Accept": "application/json, text/event-stream"})


async def test_discovery_names_this_resource_and_its_authorization_server(service: str) -> None:
    async with httpx2.AsyncClient() as http:
        challenge = (await http.post(f"{service}/mcp", json={})).headers["www-authenticate"]
        resource = (await http.get(f"{service}/.well-known/oauth-protected-resource/mcp")).json()
        server = (await http.get(f"{service}/.well-known/oauth-authorization-server")).json()
    assert challenge == f'Bearer resource_metadata="{service}/.well-known/oauth-protected-resource/mcp"'
    assert resource["resource"] == f"{service}/mcp" and resource["authorization_servers"] == [service]
    assert server["issuer"] == service and server["code_challenge_methods_supported"] == ["S256"]
    assert server["scopes_supported"] == ["calendar.read", "calendar.write"]
    assert {"registration_endpoint", "revocation_endpoint"} <= set(server)


async def test_an_operators_client_books_and_cancels_signed_as_the_operator_through_that_client(
        service: str, sqlite_services: Services) -> None:
    async with browser(service, "amal") as person:
        storage = MemoryTokens()
        async with mcp_session(service, oauth_client(service, person, storage)) as client:
            assert WRITES <= {tool.name for tool in (await client.list_tools()).tools}
            booked = await client.call_tool("system_batch_reserve", RESERVE)
            assert not booked.is_error and await active(sqlite_services) == 1
            cancelled = await client.call_tool("system_batch_cancel", CANCEL)
    assert not cancelled.is_error and await active(sqlite_services) == 0
    assert storage.client_info is not None and storage.tokens is not None
    signed = f"mcp:amal@{storage.client_info.client_id}"
    assert await actors(sqlite_services) == [signed, signed]
    assert storage.tokens.scope == "calendar.read calendar.write" and storage.tokens.expires_in == 900


async def test_a_read_only_grant_lists_no_write_tool_and_a_direct_write_is_refused(
        service: str, sqlite_services: Services) -> None:
    await sqlite_services.reservations.reserve(ALICE, WEDNESDAY, "13:00")
    async with browser(service, "amal") as person:
        storage = MemoryTokens()
        async with mcp_session(service, oauth_client(service, person, storage, [READ_SCOPE])) as client:
            listed = {tool.name for tool in (await client.list_tools()).tools}
            refused = await client.call_tool("system_batch_cancel", CANCEL)
    assert not listed & WRITES and "system_get_reservations" in listed
    assert refused.is_error and "granted calendar.read only" in text(refused)
    assert await active(sqlite_services) == 1 and await actors(sqlite_services) == []


async def test_the_token_reaches_the_tool_on_the_stateless_protocol_too(service: str,
                                                                        sqlite_services: Services) -> None:
    async with browser(service, "amal") as person:
        storage = await authorized(service, person)
    assert storage.tokens is not None and storage.client_info is not None
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{service}/mcp", json=MODERN_RESERVE, headers={
            **MODERN_HEADERS, "Authorization": f"Bearer {storage.tokens.access_token}"})
    assert response.status_code == 200 and await active(sqlite_services) == 1
    assert await actors(sqlite_services) == [f"mcp:amal@{storage.client_info.client_id}"]


async def test_a_viewer_can_grant_reading_only(service: str, sqlite_services: Services) -> None:
    async with browser(service, "huda") as person:
        storage = await authorized(service, person)
    assert storage.tokens is not None and storage.tokens.scope == READ_SCOPE


async def test_a_client_of_localhost_finds_metadata_naming_localhost_and_is_served(service: str) -> None:
    local = service.replace("127.0.0.1", "localhost")
    async with browser(local, "amal") as person:
        storage = MemoryTokens()
        async with mcp_session(local, oauth_client(local, person, storage)) as client:
            assert (await client.call_tool("get_current_datetime", {})).is_error is False


async def test_refresh_gives_a_new_access_token_and_the_spent_refresh_token_is_refused_after(
        service: str, sqlite_services: Services) -> None:
    async with browser(service, "amal") as person:
        storage = MemoryTokens()
        provider = oauth_client(service, person, storage)
        async with mcp_session(service, provider) as client:
            await client.list_tools()
            first = storage.tokens
            provider.context.token_expiry_time = time.time() - 1  # the client believes its token is over
            assert not (await client.call_tool("get_current_datetime", {})).is_error
    assert first is not None and storage.tokens is not None and storage.client_info is not None
    assert storage.tokens.access_token != first.access_token and storage.tokens.refresh_token != first.refresh_token
    assert len(person.answered) == 1  # refreshed, not asked again
    async with httpx2.AsyncClient() as http:
        again = await http.post(f"{service}/token", data={
            "grant_type": "refresh_token", "refresh_token": first.refresh_token or "",
            "client_id": storage.client_info.client_id, "client_secret": storage.client_info.client_secret or ""})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # the spent token was presented again, so it was copied: the consent's newer tokens end too
    assert (await mcp_status(service, storage.tokens.access_token)).status_code == 401


async def test_a_revoked_token_is_refused_at_the_next_call(service: str) -> None:
    async with browser(service, "amal") as person:
        storage = await authorized(service, person)
    assert storage.tokens is not None and storage.client_info is not None
    assert (await mcp_status(service, storage.tokens.access_token)).status_code == 200
    async with httpx2.AsyncClient() as http:
        revoked = await http.post(f"{service}/revoke", data={
            "token": storage.tokens.access_token, "client_id": storage.client_info.client_id,
            "client_secret": storage.client_info.client_secret or ""})
    assert revoked.status_code == 200
    refused = await mcp_status(service, storage.tokens.access_token)
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["www-authenticate"]


async def test_an_expired_access_token_is_refused_as_invalid_token(service: str, clock: FixedClock) -> None:
    async with browser(service, "amal") as person:
        storage = await authorized(service, person)
    assert storage.tokens is not None
    clock.now += timedelta(minutes=15)
    refused = await mcp_status(service, storage.tokens.access_token)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert f'resource_metadata="{service}/.well-known/oauth-protected-resource/mcp"' in \
        refused.headers["www-authenticate"]
    assert refused.json()["error"]["code"] == "invalid_token"


async def test_a_disabled_persons_token_is_refused(service: str, sqlite_services: Services) -> None:
    async with browser(service, "amal") as person:
        storage = await authorized(service, person)
    assert storage.tokens is not None
    await sqlite_services.staff.disable("amal")
    assert (await mcp_status(service, storage.tokens.access_token)).status_code == 401


async def test_the_static_token_still_acts_as_the_system_agent_beside_accounts(sqlite_services: Services) -> None:
    await add_staff(sqlite_services)
    async with running_service(sqlite_services, mcp_auth_token="local-token") as url:
        allowed = await mcp_status(url, "local-token")
        async with httpx2.AsyncClient() as http:
            bare = await http.post(f"{url}/mcp", json={})
    assert allowed.status_code == 200
    assert bare.status_code == 401 and "resource_metadata=" in bare.headers["www-authenticate"]
