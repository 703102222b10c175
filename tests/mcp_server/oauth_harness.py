"""What the OAuth tests drive: the service as `calendar-agent serve` builds it, on loopback, with staff accounts; a
person's browser, done with an HTTP client (sign in, read the consent page, approve); and the official Python
SDK's OAuth client (`OAuthClientProvider`) whose redirect handler is that browser."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from pydantic import AnyUrl

from calendar_agent.bootstrap.serve import build_service_app
from calendar_agent.settings import load_settings
from domain.services import Services
from tests.fakes.loopback import serve_on_loopback

PASSWORD = "correct horse battery"
CALLBACK = "http://127.0.0.1:3030/callback"
DATA = re.compile(r'<script type="application/json" id="consent-data">(.*?)</script>', re.S)


async def add_staff(services: Services) -> None:
    """An operator (amal), a viewer (huda) and an admin (sami)."""
    for name, role in (("amal", "operator"), ("huda", "viewer"), ("sami", "admin")):
        await services.staff.add(name, role, PASSWORD)


@asynccontextmanager
async def running_service(services: Services, **settings: Any) -> AsyncIterator[str]:
    """The whole service on a loopback port; its base URL."""
    app = build_service_app(load_settings(**settings), services=services)
    async with serve_on_loopback(app) as url:
        yield url


def page_data(html: str) -> dict[str, Any]:
    """What the server embedded in the consent page for its script."""
    found = DATA.search(html)
    assert found is not None, html[:500]
    data: dict[str, Any] = json.loads(found.group(1))
    return data


@dataclass
class Browser:
    """A person's browser on the service: a cookie jar, and what it last saw."""

    url: str
    http: httpx2.AsyncClient
    answered: list[str] = field(default_factory=list)  # the redirects the consent page sent the browser to

    async def sign_in(self, username: str) -> None:
        response = await self.http.post(f"{self.url}/session", json={"username": username, "password": PASSWORD},
                                        headers={"Origin": self.url})
        assert response.status_code == 200, response.text

    async def consent_page(self, authorization_url: str) -> dict[str, Any]:
        """Follow the client's authorization URL to the consent page; what the page shows."""
        response = await self.http.get(authorization_url)
        assert response.status_code == 302, response.text
        page = await self.http.get(response.headers["location"])
        return page_data(page.text)

    async def answer(self, view: dict[str, Any], decision: str = "approve",
                     scopes: list[str] | None = None) -> httpx2.Response:
        body = {"request": view["request"], "decision": decision, "csrf": view["csrf"],
                "scopes": view["grantable"] if scopes is None else scopes}
        return await self.http.post(f"{self.url}/oauth/consent", json=body, headers={"Origin": self.url})

    async def approve(self, authorization_url: str, scopes: list[str] | None = None) -> None:
        """The redirect handler of the SDK's client: the person approves what the page asks."""
        response = await self.answer(await self.consent_page(authorization_url), scopes=scopes)
        assert response.status_code == 200, response.text
        self.answered.append(response.json()["redirect"])

    async def callback(self) -> AuthorizationCodeResult:
        """The callback handler of the SDK's client: the code and state the client was sent back with."""
        query = parse_qs(urlsplit(self.answered[-1]).query)
        return AuthorizationCodeResult(code=query["code"][0], state=query["state"][0])


@asynccontextmanager
async def browser(url: str, username: str | None = "amal") -> AsyncIterator[Browser]:
    async with httpx2.AsyncClient(timeout=30) as http:
        person = Browser(url, http)
        if username is not None:
            await person.sign_in(username)
        yield person


class MemoryTokens:
    """The client's token storage, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


def oauth_client(url: str, person: Browser, storage: MemoryTokens, scopes: list[str] | None = None,
                 path: str = "/mcp") -> OAuthClientProvider:
    """The official SDK's OAuth client for `/mcp`, registering itself as "Test client"."""
    metadata = OAuthClientMetadata(client_name="Test client", redirect_uris=[AnyUrl(CALLBACK)],
                                   grant_types=["authorization_code", "refresh_token"], response_types=["code"])

    async def approve(authorization_url: str) -> None:
        await person.approve(authorization_url, scopes)

    return OAuthClientProvider(f"{url}{path}", metadata, storage, redirect_handler=approve,
                               callback_handler=person.callback)


@asynccontextmanager
async def mcp_session(url: str, auth: httpx2.Auth, path: str = "/mcp") -> AsyncIterator[Client]:
    """An MCP session with the SDK's client over streamable HTTP, authenticated by `auth`."""
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        async with Client(streamable_http_client(f"{url}{path}", http_client=http)) as client:
            yield client


VERIFIER = "dBjftJeZ4CVP-mJ92K9cK7ZrPOkyFUkSC5BUWnA4oCDU"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode().rstrip("=")  # S256


async def registered(url: str, redirect_uri: str = CALLBACK) -> dict[str, Any]:
    """A client registered by dynamic registration, as the server answered."""
    async with httpx2.AsyncClient() as http:
        response = await http.post(f"{url}/register", json={"client_name": "Test client",
                                                            "redirect_uris": [redirect_uri]})
    assert response.status_code == 201, response.text
    client: dict[str, Any] = response.json()
    return client


def authorization_url(url: str, client: dict[str, Any], **overrides: str) -> str:
    """`/authorize` for `client` with PKCE (S256) and state, as a client would send its person there."""
    query = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": client["redirect_uris"][0],
             "state": "st4te", "code_challenge": CHALLENGE, "code_challenge_method": "S256",
             "scope": "calendar.read calendar.write", **overrides}
    return f"{url}/authorize?{urlencode(query)}"


async def exchange(url: str, client: dict[str, Any], code: str) -> httpx2.Response:
    """The token request of `client` for `code`, with the PKCE verifier."""
    async with httpx2.AsyncClient() as http:
        return await http.post(f"{url}/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": client["redirect_uris"][0],
            "code_verifier": VERIFIER, "client_id": client["client_id"], "client_secret": client["client_secret"]})
