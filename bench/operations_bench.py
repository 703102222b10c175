"""Issue 15's reads over a busy year: the dashboard and a recall, through the real tools server in memory.

The year of `year_bench.py` (100,000 reservations of 50,000 customers over 365 days, after ANALYZE), read
with the clinic's clock at the year's end, so most bookings are visits. For each database (SQLite, and
PostgreSQL when DATABASE_URL_POSTGRES is set, in a database of its own): 20 calls each of
- `system_get_dashboard` over the whole year;
- `system_find_customers` with {"last_visit_before": <mid-year>, "upcoming": false}, first page;
p50 and p95 in milliseconds. Prints JSON.

    .venv/bin/python bench/operations_bench.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mcp import Client  # noqa: E402

from year_bench import CUSTOMERS, DAYS, FIRST, RESERVATIONS, fill, on_each_database, server_for, spread  # noqa: E402
from calendar_agent.migrate import upgrade  # noqa: E402
from domain.config import ClinicConfig  # noqa: E402
from domain.storage.database import create_database  # noqa: E402
from domain.services import build_services  # noqa: E402

YEAR_END = datetime.combine(FIRST + timedelta(days=DAYS), datetime.min.time(), tzinfo=UTC)
CALLS = 20


async def timed(client: Client, tool: str, arguments: dict[str, Any]) -> float:
    started = time.perf_counter()
    result = await client.call_tool(tool, arguments)
    elapsed = (time.perf_counter() - started) * 1000
    assert result.is_error is False, result.content
    return elapsed


async def figures(url: str) -> dict[str, Any]:
    upgrade(url)
    await fill(url)
    services = build_services(ClinicConfig(), create_database(url), lambda: YEAR_END)
    year = {"start_date": FIRST.isoformat(), "end_date": (FIRST + timedelta(days=DAYS - 1)).isoformat()}
    recall = {"recall": {"last_visit_before": (FIRST + timedelta(days=DAYS // 2)).isoformat(), "upcoming": False}}
    async with Client(server_for(services)) as client:
        dashboard = [await timed(client, "system_get_dashboard", year) for _ in range(CALLS)]
        recalled = [await timed(client, "system_find_customers", recall) for _ in range(CALLS)]
    await services.db.dispose()
    return {"dashboard_year": spread(dashboard), "recall_first_page": spread(recalled)}


async def main() -> None:
    out = {"bench": "dashboard and recall over a year", "reservations": RESERVATIONS, "customers": CUSTOMERS,
           **await on_each_database(figures)}
    print(json.dumps(out, indent=1))

if __name__ == "__main__":
    asyncio.run(main())
