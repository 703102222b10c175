"""The first fuzzy search after `calendar-agent serve` says it is ready, at 100,000 customers.

`serve` runs in a process of its own on a SQLite calendar holding the customers of `search_bench.py` (generated,
deterministic). The bench polls `/ready` from the moment the process starts, then sends the first
`/customers/search` and twenty more, and prints JSON: seconds until `/ready` answered 200, the first search's
milliseconds, the p50 of the following ones, and, as the baseline of the same run, how long building the search
index takes in this process (what a first search waited for when the index was built on first use).

    .venv/bin/python bench/cold_start_bench.py
"""

from __future__ import annotations

import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx2  # noqa: E402
from sqlalchemy import create_engine, insert  # noqa: E402

from calendar_agent.migrate import upgrade  # noqa: E402
from domain.search.index import CustomerSearchIndex  # noqa: E402
from domain.storage.models import Customer  # noqa: E402
from search_bench import SEED, build_customers, build_queries  # noqa: E402

REPEATS = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fill(path: Path, customers: list[tuple[str, str | None]]) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    engine = create_engine(f"sqlite:///{path}")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with engine.begin() as connection:
        for start in range(0, len(customers), 10_000):
            connection.execute(insert(Customer), [{"wa_id": w, "name": n, "created_at": now}
                                                  for w, n in customers[start:start + 10_000]])
    engine.dispose()
    return url


def measure(url: str, queries: list[str], folder: Path) -> dict[str, Any]:
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": url, "REMINDER_TIME": "",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "calendar_agent.cli", "serve", "--port", str(port)],
                               cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx2.Client(base_url=base, timeout=30) as http:
            while True:
                try:
                    if http.get("/ready").status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                if time.perf_counter() - started > 120:
                    raise RuntimeError("serve did not become ready in 120 s")
                time.sleep(0.02)
            ready_s = time.perf_counter() - started
            timings = []
            for query in queries[: REPEATS + 1]:
                began = time.perf_counter()
                answer = http.get("/customers/search", params={"q": query})
                timings.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, answer.text
    finally:
        process.terminate()
        process.wait(30)
    return {"ready_s": round(ready_s, 2), "first_search_ms": round(timings[0], 1),
            "next_searches_p50_ms": round(statistics.median(timings[1:]), 1)}


def main() -> None:
    rng = random.Random(SEED)
    customers = build_customers(rng)
    queries = build_queries(rng, customers)
    started = time.perf_counter()
    CustomerSearchIndex(customers)
    build_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        url = fill(Path(folder) / "calendar.db", customers)
        served = measure(url, queries, Path(folder))
    print(json.dumps({"bench": "first search after ready", "customers": len(customers),
                      "index_build_s_in_this_process": round(build_s, 2), **served}))


if __name__ == "__main__":
    main()
