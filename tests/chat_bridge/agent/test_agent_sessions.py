"""Remote MCP sessions: streamable HTTP to a real server on loopback, with a bearer token and confirmations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mcp.client import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitResult, ErrorData, TextContent
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from domain.services import Services
from calendar_agent.settings import load_settings
from chat_bridge.agent.agents import system_agent_sessions
from chat_bridge.agent.loop import SessionFactory
from chat_bridge.agent.sessions import remote_sessions
from chat_bridge.confirmations import ConfirmationBroker
from domain.errors import error_body
from tests.chat_bridge.agent.support import build_toolbox
from tests.fakes.events import RecordingSink
from tests.fakes.loopback import serve_in_thread

TOKEN = "s3cret"


class RequireBearer:
    """Refuses an HTTP request without the bearer token, as the real /mcp endpoint does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"authorization") != f"Bearer {TOKEN}".encode():
            await JSONResponse(error_body("unauthorized", "A bearer token is required."), status_code=401)(
                scope, receive, send)
            return
        await self.app(scope, receive, send)


@pytest.fixture
def mcp_url() -> Iterator[str]:
    with serve_in_thread(RequireBearer(build_toolbox().streamable_http_app()), lifespan="on") as url:
        yield f"{url}/mcp"


async def accept(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult | ErrorData:
    return ElicitResult(action="accept", content={"confirm": True})


async def call(sessions: SessionFactory, tool: str, arguments: dict[str, object]) -> str:
    async with sessions() as client:
        result = await client.call_tool(tool, arguments)
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def test_a_remote_session_carries_the_bearer_token(mcp_url: str) -> None:
    assert await call(remote_sessions(mcp_url, TOKEN), "add", {"a": 2, "b": 3}) == "5"


async def test_a_remote_tool_can_ask_for_confirmation(mcp_url: str) -> None:
    sessions = remote_sessions(mcp_url, TOKEN, accept)

    assert await call(sessions, "cancel_day", {"date": "2026-12-03"}) == "Cancelled 3 reservations on 2026-12-03."


async def test_the_system_agent_uses_the_configured_remote_server(mcp_url: str, services: Services) -> None:
    settings = load_settings(system_agent_mcp_url=mcp_url, system_agent_mcp_token=TOKEN)
    broker = ConfirmationBroker(services.conversations, services.confirmations, RecordingSink())

    assert await call(system_agent_sessions(settings.agent_config(), broker), "add", {"a": 1, "b": 1}) == "2"
