"""A cursor page of `system_get_reservations` against the raw keyset queries for the same rows, in one run.

The year of `year_bench.py` (100,000 reservations of 50,000 customers over 365 days), on SQLite and (with
DATABASE_URL_POSTGRES) PostgreSQL. Two listings are paged by cursor, PAGES pages each, taken in turns with
their floor so that the machine's load falls on both alike:
- the default page (every section: reservations, wa_ids, customers), through the real tools server in memory;
  its floor is the keyset statements a hand-written page needs for the same rows: the reservations after the
  last key, joined with their customers' names, and the customers after the last wa_id with their details;
- `include: ["reservations"]`, whose floor is the reservations keyset statement alone.
Each floor reads exactly as many rows as the tool's page showed, on the same engine, with plain SQL.
Prints JSON: p50 of each, the ratio, and where the tool's time goes (reading, fitting and writing the answer).

    .venv/bin/python bench/page_bench.py [--pages 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mcp import Client  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncConnection  # noqa: E402

from year_bench import DAYS, FIRST, NOW, fill, on_each_database, server_for  # noqa: E402
from calendar_agent.migrate import upgrade  # noqa: E402
from domain.config import ClinicConfig  # noqa: E402
from domain.services import build_services  # noqa: E402
from domain.storage.database import create_database  # noqa: E402
from domain.system_agent.queries import SystemAgentQueryService  # noqa: E402
from mcp_server.query_tools import PROBE_ROWS  # noqa: E402

RESERVATIONS_AFTER = text(
    "SELECT r.id, r.wa_id, r.date, r.time_slot, r.type, r.status, c.name FROM reservations r "
    "LEFT JOIN customers c ON c.wa_id = r.wa_id "
    "WHERE r.date BETWEEN :start AND :end AND r.status = 'active' "
    "AND (r.date > :day OR (r.date = :day AND (r.time_slot > :slot OR (r.time_slot = :slot AND r.id > :id)))) "
    "ORDER BY r.date, r.time_slot, r.id LIMIT :count")
PEOPLE_AFTER = text(
    "SELECT DISTINCT r.wa_id FROM reservations r WHERE r.date BETWEEN :start AND :end AND r.status = 'active' "
    "AND r.wa_id > :after ORDER BY r.wa_id LIMIT :count")
CUSTOMER_DETAILS = text(
    "SELECT c.wa_id, c.name, c.is_favorite, c.is_blocked, "
    "(SELECT count(*) FROM reservations m WHERE m.wa_id = c.wa_id AND m.date BETWEEN :start AND :end "
    "AND m.status = 'active') AS matching "
    "FROM customers c WHERE c.wa_id IN (SELECT value FROM json_each(:page))")
CUSTOMER_DETAILS_PG = text(
    "SELECT c.wa_id, c.name, c.is_favorite, c.is_blocked, "
    "(SELECT count(*) FROM reservations m WHERE m.wa_id = c.wa_id AND m.date BETWEEN :start AND :end "
    "AND m.status = 'active') AS matching "
    "FROM customers c WHERE c.wa_id = ANY(CAST(:page AS text[]))")


class Floor:
    """The keyset statements of a hand-written listing, reading from a given position."""

    def __init__(self, connection: AsyncConnection, sqlite: bool) -> None:
        self.connection, self.sqlite = connection, sqlite
        self.range = {"start": FIRST, "end": FIRST + timedelta(days=DAYS - 1)}

    async def reservations(self, after: tuple[Any, str, int], count: int) -> list[Any]:
        day, slot, row_id = after
        values = self.range | {"day": day, "slot": slot, "id": row_id, "count": count}
        return list(await self.connection.execute(RESERVATIONS_AFTER, values))

    async def people(self, after: str, count: int) -> list[Any]:
        wa_ids = list((await self.connection.execute(PEOPLE_AFTER, self.range | {"after": after, "count": count}))
                      .scalars())
        details = CUSTOMER_DETAILS if self.sqlite else CUSTOMER_DETAILS_PG
        page: Any = json.dumps(wa_ids) if self.sqlite else wa_ids
        return list(await self.connection.execute(details, self.range | {"page": page}))


def p50(values: list[float]) -> float:
    return round(statistics.median(values), 2)


async def walk(url: str, pages: int) -> dict[str, Any]:
    upgrade(url)
    await fill(url)
    services = build_services(ClinicConfig(), create_database(url), lambda: NOW)
    year = {"start_date": FIRST.isoformat(), "end_date": (FIRST + timedelta(days=DAYS - 1)).isoformat()}
    out: dict[str, Any] = {}
    async with Client(server_for(services)) as client, services.db.engine.connect() as connection:
        floor = Floor(connection, services.db.is_sqlite)
        for name, sections in (("default page, every section", None), ("reservations only", ["reservations"])):
            base = year | ({"include": sections} if sections else {})
            tool_ms: list[float] = []
            floor_ms: list[float] = []
            rows: list[int] = []
            result = await client.call_tool("system_get_reservations", base)  # the first page, not timed
            for _ in range(pages):
                data = result.structured_content or {}
                shown = data["reservations"]["rows"]
                last = shown[-1]  # id, wa_id, name, date, ... as the table's columns say
                columns = data["reservations"]["columns"]
                key = (FIRST.fromisoformat(last[columns.index("date")]), last[columns.index("time_slot")],
                       last[columns.index("id")])
                started = time.perf_counter()
                result = await client.call_tool("system_get_reservations", base | {"cursor": data["next_cursor"]})
                tool_ms.append((time.perf_counter() - started) * 1000)
                assert not result.is_error, result.content
                count = len((result.structured_content or {})["reservations"]["rows"])
                rows.append(count)
                started = time.perf_counter()
                got = await floor.reservations(key, count)
                if sections is None:
                    after = (data.get("wa_ids") or [""])[-1]
                    got += await floor.people(after, count)
                floor_ms.append((time.perf_counter() - started) * 1000)
                assert got
            out[name] = {"rows_per_page_p50": statistics.median(rows), "tool_p50_ms": p50(tool_ms),
                         "keyset_floor_p50_ms": p50(floor_ms), "ratio": round(p50(tool_ms) / p50(floor_ms), 2)}
        out["where_the_time_goes"] = await split(services, client, year, pages)
    await services.db.dispose()
    return out


async def split(services: Any, client: Client, year: dict[str, Any], pages: int) -> dict[str, float]:
    """The default page's time by part: the service's read, and the rest (fitting and writing the answer, MCP)."""
    service = SystemAgentQueryService(services.db, services.config, services.clock, services.search)
    result = await client.call_tool("system_get_reservations", year)
    reads: list[float] = []
    calls: list[float] = []
    for _ in range(pages):
        cursor = (result.structured_content or {})["next_cursor"]
        started = time.perf_counter()
        await service.reservation_page(start_date=year["start_date"], end_date=year["end_date"],
                                       max_results=PROBE_ROWS[2], cursor=cursor)
        reads.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        result = await client.call_tool("system_get_reservations", year | {"cursor": cursor})
        calls.append((time.perf_counter() - started) * 1000)
    return {"service_read_p50_ms": p50(reads), "whole_call_p50_ms": p50(calls),
            "fitting_writing_and_mcp_p50_ms": round(p50(calls) - p50(reads), 2)}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=60)
    pages = parser.parse_args().pages
    out = {"bench": "a cursor page against the keyset floor", "pages": pages,
           **await on_each_database(lambda url: walk(url, pages))}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
