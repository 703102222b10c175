"""Fixtures of the operator stories: the service of `calendar-agent serve` on loopback, over the real database
(SQLite, then PostgreSQL), with a scripted model behind each provider's real client (Anthropic, then OpenAI)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from domain.services import Services
from calendar_agent.bootstrap.serve import build_service_app
from tests.acceptance.support import Clinic
from tests.fakes.fixtures import anthropic_api, anthropic_server, openai_api, openai_server  # noqa: F401 (fixtures)
from tests.fakes.loopback import serve_on_loopback
from tests.fakes.graph_api import FakeGraphApi, bridge_settings, graph_api  # noqa: F401 (fixtures)
from tests.fakes.llm import ScriptedLLM


@pytest.fixture(params=["anthropic", "openai"])
def llm(request: pytest.FixtureRequest) -> ScriptedLLM:
    """The fake model API of one provider, with an empty script."""
    api: ScriptedLLM = request.getfixturevalue(f"{request.param}_api")
    return api


@pytest.fixture
async def clinic(services: Services, graph_api: FakeGraphApi, llm: ScriptedLLM) -> AsyncIterator[Clinic]:  # noqa: F811
    """`build_service_app` as `calendar-agent serve` runs it, with the real system MCP tools inside."""
    app = build_service_app(bridge_settings(graph_api, **llm.settings_overrides()), services=services)
    async with serve_on_loopback(app) as url, httpx2.AsyncClient(base_url=url, timeout=30) as http:
        yield Clinic(url, http, services, llm)
