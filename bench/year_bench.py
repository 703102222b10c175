"""Reads over a busy year: 100,000 reservations of 50,000 customers over 365 days (generated, deterministic).

For each database (SQLite, and PostgreSQL when DATABASE_URL_POSTGRES is set; a database of its own is
created and dropped), after ANALYZE (VACUUM ANALYZE on PostgreSQL, as autovacuum would have run):
`system_get_reservations` over the whole year through the real tools server in memory,
- the first page, 50 consecutive calls: p50, p95, and the slowest of calls 6-50 (a plan that flips after
  five executions shows there);
- 50 consecutive pages by cursor: p50, p95;
- paging through everything at 500 per page: pages and seconds.
Prints JSON.

    .venv/bin/python bench/year_bench.py
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402
from mcp import Client  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from domain.services import Services, build_services  # noqa: E402
from calendar_agent.migrate import upgrade  # noqa: E402
from domain.config import ClinicConfig  # noqa: E402
from domain.storage.database import create_database  # noqa: E402
from domain.storage.models import Customer, Reservation  # noqa: E402
from domain.system_agent.batch import SystemAgentBatchService  # noqa: E402
from domain.system_agent.queries import SystemAgentQueryService  # noqa: E402
from mcp_server.system_server import build_system_server  # noqa: E402

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
FIRST = date(2026, 12, 2)
DAYS, CUSTOMERS, RESERVATIONS = 365, 50_000, 100_000
SLOTS = ("11:00", "13:00", "15:00")
NAMES = ["فاطمة الزهراني", "Omar Haddad", "Sara Khan", "ليلى العتيبي", "Khalid Al-Harbi", "محمد القحطاني",
         "Mohammed Ali", "نورة الشمري", "Abdullah Al-Saud", "Aisha Rahman"]
CALLS = 50


async def fill(url: str) -> None:
    rng = random.Random(2026)
    customers = [{"wa_id": f"9665{n:08d}", "name": f"{NAMES[n % 10]} {n}", "created_at": NOW}
                 for n in range(CUSTOMERS)]
    reservations = [{"id": n + 1, "wa_id": customers[rng.randrange(CUSTOMERS)]["wa_id"],
                     "date": FIRST + timedelta(days=rng.randrange(DAYS)), "time_slot": rng.choice(SLOTS),
                     "type": rng.randrange(2), "status": "cancelled" if rng.random() < 0.1 else "active",
                     "created_at": NOW, "updated_at": NOW} for n in range(RESERVATIONS)]
    db = create_database(url)
    async with db.unit_of_work() as session:
        for start in range(0, CUSTOMERS, 10_000):
            await session.execute(insert(Customer), customers[start:start + 10_000])
        for start in range(0, RESERVATIONS, 10_000):
            await session.execute(insert(Reservation), reservations[start:start + 10_000])
    # Statistics and the visibility map, as a server that has run a while has them from autovacuum.
    async with db.engine.connect() as connection:
        if db.is_sqlite:
            await connection.execute(text("ANALYZE"))
            await connection.commit()
        else:  # VACUUM runs outside a transaction
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE"))
    await db.dispose()


def server_for(services: Services) -> Any:
    args = (services.db, services.config, services.clock, services.search)
    return build_system_server(services, SystemAgentBatchService(*args), SystemAgentQueryService(*args))


async def timed(client: Client, arguments: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    result = await client.call_tool("system_get_reservations", arguments)
    ms = (time.perf_counter() - started) * 1000
    assert not result.is_error, result.content
    return ms, result.structured_content or {}


def spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered), 1), "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 1)}


async def figures(url: str) -> dict[str, Any]:
    upgrade(url)
    await fill(url)
    services = build_services(ClinicConfig(), create_database(url), lambda: NOW)
    year = {"start_date": FIRST.isoformat(), "end_date": (FIRST + timedelta(days=DAYS - 1)).isoformat()}
    async with Client(server_for(services)) as client:
        first = [(await timed(client, year))[0] for _ in range(CALLS)]
        pages: list[float] = []
        arguments: dict[str, Any] = dict(year)
        for _ in range(CALLS):
            ms, data = await timed(client, arguments)
            pages.append(ms)
            arguments = year | {"cursor": data["next_cursor"]}
        started, count = time.perf_counter(), 0
        arguments = {**year, "max_results": 500, "include": ["reservations"]}
        while True:
            _, data = await timed(client, arguments)
            count += 1
            if "next_cursor" not in data:
                break
            arguments = year | {"max_results": 500, "include": ["reservations"], "cursor": data["next_cursor"]}
        everything = round(time.perf_counter() - started, 1)
    await services.db.dispose()
    return {"first_page": spread(first) | {"slowest_of_calls_6_to_50_ms": round(max(first[5:]), 1)},
            "pages_by_cursor": spread(pages), "all_at_500": {"pages": count, "seconds": everything}}


@asynccontextmanager
async def postgres_database(url: str) -> AsyncIterator[str]:
    name = f"year_bench_{uuid.uuid4().hex[:8]}"
    admin = url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(admin)
    await connection.execute(f"CREATE DATABASE {name}")
    await connection.close()
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        connection = await asyncpg.connect(admin)
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await connection.close()


async def on_each_database(measure: Callable[[str], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    """`measure` on a new SQLite file, then (with DATABASE_URL_POSTGRES) on a PostgreSQL database of its own."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        out["sqlite"] = await measure(f"sqlite+aiosqlite:///{folder}/year.db")
    if postgres := os.environ.get("DATABASE_URL_POSTGRES"):
        async with postgres_database(postgres) as url:
            out["postgres"] = await measure(url)
    return out


async def main() -> None:
    out = {"bench": "a year of reads", "reservations": RESERVATIONS, "customers": CUSTOMERS,
           **await on_each_database(figures)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
