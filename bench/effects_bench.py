"""What confirming by effect costs an agent's call, on SQLite. Prints JSON.

One-reservation cancels by an agent, each in its own turn (so none asks), timed two ways in the same run over the
same calendar: with the limits that add up (the defaults, without a window limit on bookings, which 200 calls
would pass: each call reads what its turn and the last hour applied without asking, under the caller's lock) and
with each call counted alone (`EffectLimits.uniform`, the older per-call rule). Before the timed calls the window
already holds `HISTORY` applied batches of the caller, as a busy hour would. p50 and p95 of each, and the ratio of
the p50s.

    .venv/bin/python bench/effects_bench.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from calendar_agent.migrate import upgrade  # noqa: E402
from domain.config import ClinicConfig  # noqa: E402
from domain.storage.database import create_database  # noqa: E402
from domain.storage.models import BatchRecord, Customer, Reservation  # noqa: E402
from domain.services import build_services  # noqa: E402
from domain.system_agent.batch import BatchOptions  # noqa: E402
from domain.system_agent.effects import EffectLimits, Limit  # noqa: E402

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # Tuesday 10:00 in Riyadh
FIRST_DAY = date(2026, 12, 2)
SLOTS = ("11:00", "13:00", "15:00")
CALLS = 200
HISTORY = 25  # applied batches of the caller already in the window (a busy hour; 30 bookings is the window's limit)


async def timings(folder: Path, name: str, limits: EffectLimits) -> list[float]:
    """Milliseconds of each of CALLS one-reservation cancels, over a fresh calendar of 3 × CALLS bookings."""
    url = f"sqlite+aiosqlite:///{folder / f'{name}.db'}"
    upgrade(url)
    services = build_services(ClinicConfig(), create_database(url), lambda: NOW, limits=limits)
    rows = [{"id": n + 1, "wa_id": f"9665{n:08d}", "date": FIRST_DAY + timedelta(days=n // 15),
             "time_slot": SLOTS[n % 15 // 5], "type": 0, "status": "active", "created_at": NOW, "updated_at": NOW}
            for n in range(3 * CALLS)]
    history = [{"id": str(uuid.uuid4()), "tool": "system_batch_cancel", "actor": "system_agent", "arguments": {},
                "result": {}, "changes": [], "created_at": NOW - timedelta(minutes=30), "turn": uuid.uuid4().hex,
                "effects": {"bookings": 1}, "asked": False} for _ in range(HISTORY)]
    async with services.db.unit_of_work() as session:
        await session.execute(insert(Customer), [{"wa_id": r["wa_id"], "created_at": NOW} for r in rows])
        await session.execute(insert(Reservation), rows)
        await session.execute(insert(BatchRecord), history)
    spent: list[float] = []
    for n in range(CALLS):
        reservation = 3 * n + 1  # one of each day's first slot: no day is emptied
        started = time.perf_counter()
        report = await services.batch.cancel([{"reservation_id": reservation}],
                                             options=BatchOptions(turn=uuid.uuid4().hex))
        spent.append((time.perf_counter() - started) * 1000)
        assert report.status == "applied", report.to_dict()["summary"]
    await services.db.dispose()
    return spent


def shape(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2)}


async def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        await timings(Path(name), "warm", EffectLimits.uniform(10**6))  # imports and first connections
        alone = shape(await timings(Path(name), "alone", EffectLimits.uniform(10**6)))
        # The defaults, but no window limit on bookings: the 200 calls would pass it, and then ask.
        adding = shape(await timings(Path(name), "adding", EffectLimits(bookings=Limit(5, None))))
    result: dict[str, Any] = {"bench": "confirming by effect", "database": "sqlite", "calls": CALLS,
                              "history": HISTORY, "counted_alone": alone, "adding_up": adding,
                              "p50_ratio": round(adding["p50_ms"] / alone["p50_ms"], 2)}
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
