"""A day whose three slots hold thousands (capacity raised), on SQLite. Prints JSON:
- one `system_batch_modify` moving the whole day, for 1,200 and 12,000 reservations, and the ratio
  (linear is about 10);
- the customer assistant's single booking (`ReservationService.reserve`) into that day when it holds
  1,000 bookings: p50 and p95 of 50 bookings by new customers.

    .venv/bin/python bench/dense_slot_bench.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from domain.services import Services, build_services  # noqa: E402
from calendar_agent.migrate import upgrade  # noqa: E402
from domain.config import BookingSource, ClinicConfig  # noqa: E402
from domain.storage.database import create_database  # noqa: E402
from domain.storage.models import Customer, Reservation  # noqa: E402
from domain.system_agent.batch import BatchOptions  # noqa: E402

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # Tuesday 10:00 in Riyadh
DAY, NEXT_DAY = date(2026, 12, 2), "2026-12-03"
SLOTS = ("11:00", "13:00", "15:00")


async def dense_day(folder: Path, count: int) -> Services:
    """Services over a new SQLite file whose DAY holds `count` reservations, capacity raised."""
    url = f"sqlite+aiosqlite:///{folder / f'dense-{count}.db'}"
    upgrade(url)
    config = ClinicConfig().model_copy(update={"capacity": {BookingSource.AGENT: 10**6, BookingSource.OPERATOR: 10**6}})
    services = build_services(config, create_database(url), lambda: NOW)
    rows = [{"id": n + 1, "wa_id": f"9665{n:08d}", "date": DAY, "time_slot": SLOTS[n % 3], "type": 0,
             "status": "active", "created_at": NOW, "updated_at": NOW} for n in range(count)]
    async with services.db.unit_of_work() as session:
        await session.execute(insert(Customer), [{"wa_id": r["wa_id"], "created_at": NOW} for r in rows])
        await session.execute(insert(Reservation), rows)
    return services


async def single_bookings(folder: Path) -> dict[str, Any]:
    services = await dense_day(folder, 1_000)
    await services.reservations.reserve("966590000000", DAY, "13:00")  # warm the connections
    timings = []
    for n in range(1, 51):
        started = time.perf_counter()
        await services.reservations.reserve(f"96659{n:07d}", DAY, SLOTS[n % 3])
        timings.append((time.perf_counter() - started) * 1000)
    await services.db.dispose()
    timings.sort()
    return {"day_bookings": 1_000, "p50_ms": round(timings[24], 2), "p95_ms": round(timings[47], 2)}


async def move_day(folder: Path, count: int) -> dict[str, Any]:
    services = await dense_day(folder, count)
    started = time.perf_counter()
    report = await services.batch.modify(filters={"dates": [DAY.isoformat()]}, updates={"new_date": NEXT_DAY},
                                         options=BatchOptions(confirmed=True))
    seconds = time.perf_counter() - started
    await services.db.dispose()
    assert report.counts()["ok"] == count, report.counts()
    return {"reservations": count, "seconds": round(seconds, 2)}


async def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        small, large = [await move_day(Path(name), n) for n in (1_200, 12_000)]
        single = await single_bookings(Path(name))
    print(json.dumps({"bench": "dense slot move", "database": "sqlite", "runs": [small, large],
                      "ratio": round(large["seconds"] / small["seconds"], 1), "single_booking": single}))


if __name__ == "__main__":
    asyncio.run(main())
