"""Shared fixtures: the clinic's default configuration, a fixed clock, and real databases."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from domain.services import Services, build_services
from calendar_agent.migrate import upgrade
from domain.config import ClinicConfig
from domain.system_agent.effects import EffectLimits
from domain.storage.database import Database, create_database

# The tests of other features ask a person only about a call of more than 20 of anything, whatever came before;
# the product's defaults (`EffectLimits()`, as `serve` builds them) are proven by tests/acceptance/test_asking.py
# and tests/mcp_server/test_effects.py.
PER_CALL = EffectLimits.uniform(20)
# Tuesday 2026-12-01 10:00 in Riyadh: far from Ramadan, before the first slot of the day.
NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
TABLES = ("agent_jobs", "batches", "vacations", "conversation_messages", "reservations", "customers",
          "confirmation_uses", "pending_confirmations", "notices", "scheduler_runs", "waitlist_offers",
          "waitlist_places", "waitlist_entries", "staff_sessions", "oauth_grants", "oauth_clients", "audit_log",
          "staff_users", "reservation_history")


class FixedClock:
    """A clock tests can move."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def config() -> ClinicConfig:
    return ClinicConfig()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "calendar.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


def _admin(url: str, statement: str) -> None:
    """Run one statement on the server's given database, outside a transaction."""
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test session's own on the server, so parallel runs never share tables."""
    url = os.environ.get("DATABASE_URL_POSTGRES", "")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("DATABASE_URL_POSTGRES is not set: in CI the PostgreSQL tests must run")
        pytest.skip("DATABASE_URL_POSTGRES is not set; PostgreSQL tests skipped")
    name = f"calendar_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        _admin(url, f"CREATE DATABASE {name}")
    except Exception as error:  # noqa: BLE001 - any failure to reach the server means the same thing here
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {url} is not reachable: {error}")
        pytest.skip(f"PostgreSQL at {url} is not reachable: {error}")
    own = url.rsplit("/", 1)[0] + "/" + name
    upgrade(own)
    yield own
    _admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "calendar.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def emptied(database: Database) -> None:
    """Every table of a PostgreSQL test database emptied. The audit log refuses to be (its trigger): a test's
    database is, with triggers off for this transaction only."""
    async with database.engine.begin() as connection:
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        await connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database: a SQLite file, then the PostgreSQL server."""
    database = create_database(database_url(request, tmp_path))
    if not database.is_sqlite:
        await emptied(database)
    yield database
    await database.dispose()


@pytest.fixture
def services(db: Database, config: ClinicConfig, clock: FixedClock) -> Services:
    return build_services(config, db, clock, limits=PER_CALL)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(Path(__file__).parent)
    yield
