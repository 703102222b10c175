"""Fixtures of the MCP server tests: the system and customer servers over the real databases."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp.server import MCPServer

from tests.conftest import PER_CALL
from domain.services import Services, build_services
from domain.clock import Clock
from domain.config import ClinicConfig
from domain.storage.database import create_database
from domain.system_agent.effects import EffectLimits
from domain.system_agent.batch import BatchOptions, SystemAgentBatchService
from domain.system_agent.queries import SystemAgentQueryService
from mcp_server.customer_server import build_customer_server
from mcp_server.system_server import build_system_server
from mcp_server.toolsets import TOOLSETS
from mcp_scenario import ALICE, SLOTS, THRESHOLD, Seed, wa_id


@pytest.fixture
def queries(services: Services) -> SystemAgentQueryService:
    return SystemAgentQueryService(services.db, services.config, services.clock, services.search)


@pytest.fixture
def batch(services: Services) -> SystemAgentBatchService:
    return SystemAgentBatchService(services.db, services.config, services.clock, services.search,
                                   limits=EffectLimits.uniform(THRESHOLD))


@pytest.fixture
def system_server(services: Services, batch: SystemAgentBatchService, queries: SystemAgentQueryService) -> MCPServer:
    return build_system_server(services, batch, queries)


@pytest.fixture
def every_tool_server(services: Services, batch: SystemAgentBatchService, queries: SystemAgentQueryService
                      ) -> MCPServer:
    """The system server listing every toolset (MCP_TOOLSETS=all): each tool's own schema and annotations."""
    return build_system_server(services, batch, queries, tuple(TOOLSETS))


@pytest.fixture
def customer_server(services: Services) -> MCPServer:
    return build_customer_server(services, ALICE)


@pytest.fixture
async def sqlite_services(sqlite_template: Path, tmp_path: Path, config: ClinicConfig, clock: Clock
                          ) -> AsyncIterator[Services]:
    """Services on a SQLite file only: for the transport tests, where the database is not the subject."""
    path = tmp_path / "transport.db"
    shutil.copy(sqlite_template, path)
    db = create_database(f"sqlite+aiosqlite:///{path}")
    yield build_services(config, db, clock, limits=PER_CALL)
    await db.dispose()


@pytest.fixture
def transport_server(sqlite_services: Services) -> MCPServer:
    """The system server over SQLite, for HTTP and conformance tests."""
    queries = SystemAgentQueryService(sqlite_services.db, sqlite_services.config, sqlite_services.clock,
                                      sqlite_services.search)
    batch = SystemAgentBatchService(sqlite_services.db, sqlite_services.config, sqlite_services.clock,
                                    sqlite_services.search, limits=EffectLimits.uniform(THRESHOLD))
    return build_system_server(sqlite_services, batch, queries)


@pytest.fixture
def seed(batch: SystemAgentBatchService) -> Seed:
    """Book `count` new customers on the given days, filling slot after slot (5 per slot)."""

    async def book(days: list[str], count: int, first: int = 0) -> list[int]:
        requests = [{"wa_id": wa_id(first + n), "date": days[n // 15], "time_slot": SLOTS[n % 15 // 5]}
                    for n in range(count)]
        report = await batch.reserve(requests, BatchOptions(confirmed=True))
        assert report.counts()["failed"] == 0, report.to_dict()
        return [item.reservation_id for item in report.items if item.reservation_id is not None]

    return book
