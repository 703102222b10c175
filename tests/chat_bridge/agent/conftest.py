"""Fixtures of the agent runtime's tests: both fake providers, a small MCP server, the broker and turns."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from mcp.server import MCPServer

from domain.services import Services
from calendar_agent.settings import Settings
from chat_bridge.agent.agents import build_provider, build_system_agent_turn
from chat_bridge.agent.providers import LLMProvider
from chat_bridge.agent.sessions import in_memory_sessions
from chat_bridge.agent.turns import ConversationTurn
from chat_bridge.confirmations import ConfirmationBroker
from tests.chat_bridge.agent.support import build_toolbox, settings_for
from tests.fakes.events import RecordingSink
from tests.fakes.fixtures import anthropic_api, anthropic_server, openai_api, openai_server  # noqa: F401 (fixtures)
from tests.fakes.llm import ScriptedLLM


@pytest.fixture(params=["anthropic", "openai"])
def llm(request: pytest.FixtureRequest) -> ScriptedLLM:
    """Each fake provider in turn: every test using it runs against both wire formats."""
    api: ScriptedLLM = request.getfixturevalue(f"{request.param}_api")
    return api


@pytest.fixture
def settings(llm: ScriptedLLM) -> Settings:
    return settings_for(llm, llm_max_rounds=4)


@pytest.fixture
async def provider(settings: Settings) -> AsyncIterator[LLMProvider]:
    provider = build_provider(settings.agent_config().model)
    yield provider
    await provider.aclose()


@pytest.fixture
def toolbox() -> MCPServer:
    return build_toolbox()


@pytest.fixture
def events() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def broker(services: Services, events: RecordingSink) -> ConfirmationBroker:
    return ConfirmationBroker(services.conversations, services.confirmations, events, timeout_seconds=5.0)


@pytest.fixture
def turn(settings: Settings, services: Services, toolbox: MCPServer, events: RecordingSink,
         broker: ConfirmationBroker, provider: LLMProvider) -> ConversationTurn:
    """The system agent's turn over the toolbox, on the fake provider and a real database."""
    return build_system_agent_turn(settings.agent_config(), services, provider, in_memory_sessions(toolbox, broker.elicit), events)
