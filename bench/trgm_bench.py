"""Fuzzy customer search: this project's in-process index against PostgreSQL's pg_trgm, over the same 100,000
deterministic customers and ~200 queries as `search_bench.py`. Prints one JSON line.

For each, the latency of a search (p50/p95), and how often pg_trgm's best hit is the index's best hit for the
name queries (digit fragments are the index's alone: pg_trgm here indexes names). The index needs telling when
another instance changes a customer (`chat_bridge/instances.py`); pg_trgm reads the table, so it never lags.

    DATABASE_URL_POSTGRES=postgresql+asyncpg://postgres@127.0.0.1:5432/test .venv/bin/python bench/trgm_bench.py
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402

from search_bench import SEED, build_customers, build_queries  # noqa: E402 (bench/ is on the path: the script's folder)
from domain.search.index import CustomerSearchIndex  # noqa: E402

TRGM_QUERY = """
SELECT wa_id, name, similarity(name, $1) AS score FROM customers
WHERE name % $1 OR name ILIKE '%' || $1 || '%'
ORDER BY score DESC, wa_id LIMIT 10
"""


def figures(durations: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(durations), 3),
            "p95_ms": round(statistics.quantiles(durations, n=20)[18], 3)}


async def trgm(url: str, customers: list[tuple[str, str | None]], queries: list[str]) -> tuple[Any, list[str | None]]:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        await connection.execute("CREATE TABLE customers (wa_id text PRIMARY KEY, name text)")
        await connection.copy_records_to_table("customers", records=customers)
        started = time.perf_counter()
        await connection.execute("CREATE INDEX customers_name_trgm ON customers USING gin (name gin_trgm_ops)")
        build_ms = (time.perf_counter() - started) * 1000
        await connection.execute("ANALYZE customers")
        statement = await connection.prepare(TRGM_QUERY)
        for query in queries:  # warm-up
            await statement.fetch(query)
        durations, best = [], []
        for query in queries:
            started = time.perf_counter()
            rows = await statement.fetch(query)
            durations.append((time.perf_counter() - started) * 1000)
            best.append(rows[0]["wa_id"] if rows else None)
        return {"index_build_ms": round(build_ms, 1), **figures(durations)}, best
    finally:
        await connection.close()


async def on_postgres(admin: str, customers: list[tuple[str, str | None]], queries: list[str]) -> Any:
    name = f"trgm_bench_{uuid.uuid4().hex[:8]}"
    plain = admin.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(plain)
    await connection.execute(f"CREATE DATABASE {name}")
    try:
        return await trgm(plain.rsplit("/", 1)[0] + "/" + name, customers, queries)
    finally:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await connection.close()


def main() -> None:
    admin = os.environ.get("DATABASE_URL_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    rng = random.Random(SEED)
    customers = build_customers(rng)
    queries = [q for q in build_queries(rng, customers) if not any(c.isdigit() for c in q)]
    index = CustomerSearchIndex(customers)
    for query in queries:
        index.search(query, limit=10)
    durations, ours = [], []
    for query in queries:
        started = time.perf_counter()
        hits = index.search(query, limit=10)
        durations.append((time.perf_counter() - started) * 1000)
        ours.append(hits[0].wa_id if hits else None)
    trgm_figures, theirs = asyncio.run(on_postgres(admin, customers, queries))
    agree = sum(1 for a, b in zip(ours, theirs) if a is not None and a == b)
    print(json.dumps({"customers": len(customers), "name_queries": len(queries),
                      "index": figures(durations), "pg_trgm": trgm_figures,
                      "same_best_hit": agree, "index_found": sum(a is not None for a in ours),
                      "pg_trgm_found": sum(b is not None for b in theirs)}))


if __name__ == "__main__":
    main()
