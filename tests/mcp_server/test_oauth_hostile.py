"""OAuth on `/mcp` against someone trying: each attempt is a clear refusal and nothing is granted or stored. A
forged consent (another site's page, a form, a missing or wrong answer token), a redirect URI that was never
registered or is no HTTPS, a code used twice, a planted session cookie, a request too long to be real, a token for
another resource, and a caller without a token once accounts exist."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from sqlalchemy import func, select

from domain.services import Services
from domain.staff.oauth import AuthorizationAsk, OAuthStore
from domain.storage.models import OAuthClient, OAuthGrant
from mcp_server.oauth.site import OAuthSite
from oauth_harness import (CALLBACK, CHALLENGE, add_staff, authorization_url, browser, exchange, page_data,
                           registered, running_service)

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}}}
ACCEPT = {"Accept": "application/json, text/event-stream"}


@pytest.fixture
async def service(sqlite_services: Services) -> AsyncIterator[str]:
    await add_staff(sqlite_services)
    async with running_service(sqlite_services) as url:
        yield url


async def grants(services: Services, kind: str | None = None) -> int:
    query = select(func.count()).select_from(OAuthGrant)
    async with services.db.reading() as session:
        return int(await session.scalar(query if kind is None else query.where(OAuthGrant.kind == kind)) or 0)


async def consent_view(url: str, http: httpx2.AsyncClient) -> dict[str, Any]:
    """A signed-in person's consent page for a freshly registered client; what it embeds."""
    started = await http.get(authorization_url(url, await registered(url)))
    view: dict[str, Any] = page_data((await http.get(started.headers["location"])).text)
    return view


async def test_a_consent_posted_from_another_site_is_refused_and_nothing_is_granted(
        service: str, sqlite_services: Services) -> None:
    async with browser(service) as person:
        view = await consent_view(service, person.http)
        answer = {"request": view["request"], "decision": "approve", "scopes": view["grantable"], "csrf": view["csrf"]}
        response = await person.http.post(f"{service}/oauth/consent", json=answer,
                                          headers={"Origin": "http://evil.example"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "invalid_origin"
    assert await grants(sqlite_services, "code") == 0


async def test_a_consent_posted_as_a_form_is_refused_and_nothing_is_granted(service: str,
                                                                             sqlite_services: Services) -> None:
    async with browser(service) as person:
        view = await consent_view(service, person.http)
        response = await person.http.post(f"{service}/oauth/consent", data={
            "request": view["request"], "decision": "approve", "csrf": view["csrf"]})
    assert response.status_code == 415
    assert await grants(sqlite_services, "code") == 0


async def test_a_consent_without_its_token_or_with_a_wrong_one_is_refused_and_the_request_still_waits(
        service: str, sqlite_services: Services) -> None:
    async with browser(service) as person:
        view = await consent_view(service, person.http)
        answer = {"request": view["request"], "decision": "approve", "scopes": view["grantable"]}
        missing = await person.http.post(f"{service}/oauth/consent", json=answer, headers={"Origin": service})
        wrong = await person.http.post(f"{service}/oauth/consent", json={**answer, "csrf": "0" * 64},
                                       headers={"Origin": service})
        assert await grants(sqlite_services, "code") == 0
        right = await person.answer(view)
    assert missing.status_code == 400 and wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "csrf_refused"
    assert right.status_code == 200 and await grants(sqlite_services, "code") == 1


async def test_an_answer_token_from_another_persons_session_is_refused(service: str,
                                                                       sqlite_services: Services) -> None:
    async with browser(service, "amal") as victim, browser(service, "sami") as attacker:
        view = await consent_view(service, victim.http)
        theirs = page_data((await attacker.http.get(f"{service}/oauth/consent",
                                                    params={"request": view["request"]})).text)
        forged = await victim.http.post(f"{service}/oauth/consent", headers={"Origin": service}, json={
            "request": view["request"], "decision": "approve", "scopes": view["grantable"], "csrf": theirs["csrf"]})
    assert forged.status_code == 403 and await grants(sqlite_services, "code") == 0


async def test_an_unregistered_redirect_uri_gets_an_error_page_and_no_redirect(service: str,
                                                                               sqlite_services: Services) -> None:
    client = await registered(service)
    async with httpx2.AsyncClient() as http:
        response = await http.get(authorization_url(service, client, redirect_uri="https://evil.example/cb"))
    assert response.status_code == 400 and "location" not in response.headers
    assert "evil.example" not in response.headers.get("location", "")
    assert response.json()["error"] == "invalid_request"
    assert await grants(sqlite_services) == 0


async def test_an_unknown_client_gets_an_error_page_and_no_redirect(service: str) -> None:
    client = {"client_id": "never-registered", "redirect_uris": ["https://evil.example/cb"]}
    async with httpx2.AsyncClient() as http:
        response = await http.get(authorization_url(service, client))
    assert response.status_code == 400 and "location" not in response.headers


async def test_registering_a_plain_http_redirect_beyond_loopback_is_refused(service: str,
                                                                            sqlite_services: Services) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{service}/register", json={"client_name": "Evil",
                                                                "redirect_uris": ["http://evil.example/cb"]})
    assert response.status_code == 400 and response.json()["error"] == "invalid_redirect_uri"
    async with sqlite_services.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(OAuthClient)) == 0


async def test_a_code_used_twice_is_refused_the_second_time_and_the_first_tokens_end(
        service: str, sqlite_services: Services) -> None:
    client = await registered(service)
    async with browser(service) as person:
        view = await person.consent_page(authorization_url(service, client))
        redirect = (await person.answer(view)).json()["redirect"]
    query = parse_qs(urlsplit(redirect).query)
    assert redirect.startswith(CALLBACK) and query["state"] == ["st4te"]
    first = await exchange(service, client, query["code"][0])
    second = await exchange(service, client, query["code"][0])
    assert first.status_code == 200 and second.status_code == 400 and second.json()["error"] == "invalid_grant"
    async with httpx2.AsyncClient() as http:
        after = await http.post(f"{service}/mcp", json=INITIALIZE,
                                headers={**ACCEPT, "Authorization": f"Bearer {first.json()['access_token']}"})
    assert after.status_code == 401


async def test_a_denial_sends_the_client_back_with_access_denied_and_no_code(service: str,
                                                                             sqlite_services: Services) -> None:
    async with browser(service) as person:
        view = await person.consent_page(authorization_url(service, await registered(service)))
        redirect = (await person.answer(view, "deny")).json()["redirect"]
    query = parse_qs(urlsplit(redirect).query)
    assert query["error"] == ["access_denied"] and "code" not in query and query["state"] == ["st4te"]
    assert await grants(sqlite_services, "code") == 0


async def test_a_planted_session_cookie_is_never_adopted(service: str, sqlite_services: Services) -> None:
    async with browser(service, None) as person:
        person.http.cookies.set("calendar_session", "attacker-chosen-secret", domain="127.0.0.1")
        view = await consent_view(service, person.http)
        answer = await person.http.post(f"{service}/oauth/consent", headers={"Origin": service}, json={
            "request": view["request"], "decision": "approve", "scopes": ["calendar.read"], "csrf": "x"})
    assert view["step"] == "sign_in" and view["csrf"] is None and view["username"] is None
    assert answer.status_code == 401 and await grants(sqlite_services, "code") == 0


async def raw_get(url: str, target: str) -> tuple[int, bytes]:
    """`GET target` over a plain socket (an HTTP client library refuses to send a megabyte address): the status and
    the head and body of the answer."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    return int(answer.split(b" ", 2)[1]), answer


@pytest.mark.parametrize("field", ["scope", "state"])
async def test_a_megabyte_authorization_parameter_is_a_clear_400_and_nothing_is_stored(
        service: str, sqlite_services: Services, field: str) -> None:
    client = await registered(service)
    target = authorization_url(service, client, **{field: "x" * 1_000_000}).removeprefix(service)
    status, answer = await raw_get(service, target)  # refused by the HTTP server before the app reads it
    assert status == 400 and b"location:" not in answer.lower()
    async with httpx2.AsyncClient() as http:  # as long as an HTTP client library sends: refused by the app
        page = await http.get(authorization_url(service, client, **{field: "x" * 50_000}))
    assert page.status_code == 400 and "location" not in page.headers and "too long" in page.text
    assert await grants(sqlite_services) == 0


async def test_a_registration_of_a_megabyte_is_refused_and_nothing_is_stored(service: str,
                                                                             sqlite_services: Services) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{service}/register", json={"client_name": "x" * 1_000_000,
                                                                "redirect_uris": [CALLBACK]})
    assert response.status_code == 400
    async with sqlite_services.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(OAuthClient)) == 0


async def test_an_authorization_for_another_resource_is_refused(service: str, sqlite_services: Services) -> None:
    client = await registered(service)
    async with httpx2.AsyncClient() as http:
        response = await http.get(authorization_url(service, client, resource="https://other.example/mcp"))
    assert response.status_code == 302 and response.headers["location"].startswith(CALLBACK)
    assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["invalid_target"]
    assert await grants(sqlite_services) == 0


async def test_a_token_issued_for_another_resource_is_refused_at_mcp(service: str, sqlite_services: Services) -> None:
    store = OAuthStore(sqlite_services.db, sqlite_services.audit, sqlite_services.clock)
    client = await registered(service)
    ask = AuthorizationAsk(client_id=client["client_id"], redirect_uri=CALLBACK, redirect_uri_explicit=True,
                           scopes=["calendar.read"], code_challenge=CHALLENGE, resource="https://other.example/mcp",
                           issuer="https://other.example")
    approved = await store.approve(await store.open_request(ask), "amal", ["calendar.read"])
    assert approved is not None and approved.code is not None
    issued = await store.exchange_code(approved.code)
    assert issued is not None
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{service}/mcp", json=INITIALIZE,
                                   headers={**ACCEPT, "Authorization": f"Bearer {issued.access_token}"})
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_once_accounts_exist_a_loopback_caller_without_a_token_is_refused(service: str) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{service}/mcp", json=INITIALIZE, headers=ACCEPT)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == \
        f'Bearer resource_metadata="{service}/.well-known/oauth-protected-resource/mcp"'


async def test_without_accounts_a_loopback_caller_without_a_token_is_served_as_before(
        sqlite_services: Services) -> None:
    async with running_service(sqlite_services) as url, httpx2.AsyncClient() as http:
        response = await http.post(f"{url}/mcp", json=INITIALIZE, headers=ACCEPT)
        guessed = await http.post(f"{url}/mcp", json=INITIALIZE, headers={**ACCEPT, "Authorization": "Bearer x"})
    assert response.status_code == 200 and guessed.status_code == 200


async def test_metadata_never_names_a_host_the_service_does_not_answer_to(service: str) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.get(f"{service}/.well-known/oauth-authorization-server",
                                  headers={"Host": "evil.example"})
        registration = await http.post(f"{service}/register", headers={"Host": "evil.example"},
                                       json={"client_name": "Evil", "redirect_uris": [CALLBACK]})
    assert response.status_code == 404 and "evil.example" not in response.text
    assert registration.status_code == 404


def test_plain_http_beyond_loopback_offers_no_oauth_and_https_or_public_url_does() -> None:
    site = OAuthSite(None, ("127.0.0.1:*", "clinic.lan:*"))

    def origin(scheme: str, host: str, public: OAuthSite = site) -> str | None:
        return public.origin({"type": "http", "scheme": scheme, "headers": [(b"host", host.encode())]})

    assert origin("http", "127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert origin("http", "clinic.lan:8000") is None
    assert origin("https", "clinic.lan:8443") == "https://clinic.lan:8443"
    assert origin("http", "evil.example:80") is None
    public = OAuthSite("https://clinic.example", ())
    assert origin("http", "127.0.0.1:8000", public) == "https://clinic.example"
    assert public.metadata_url("https://clinic.example") == \
        "https://clinic.example/.well-known/oauth-protected-resource/mcp"
