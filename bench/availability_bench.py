"""Available slots over a 90-day range of a calendar holding 5,000 active reservations, on SQLite.

The reservations are spread over the coming year (90 days cannot hold 5,000 within capacity), so
the query filters a large table. Prints JSON.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from domain.services import build_services  # noqa: E402
from calendar_agent.migrate import upgrade  # noqa: E402
from domain.config import ClinicConfig  # noqa: E402
from domain.storage.database import create_database  # noqa: E402
from domain.storage.models import Customer, Reservation  # noqa: E402
from domain.rules.schedule import slots_for  # noqa: E402

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
RESERVATIONS = 5000
FILLED_DAYS = 365


async def fill(url: str, config: ClinicConfig) -> int:
    rng = random.Random(7)
    db = create_database(url)
    slots = [(d, s) for n in range(FILLED_DAYS) for d in [date(2026, 12, 1) + timedelta(days=n)] for s in slots_for(config, d)]
    rows = []
    for n in range(RESERVATIONS):
        day, slot = slots[n % len(slots)]
        rows.append({"wa_id": f"9665{n:08d}", "date": day, "time_slot": slot, "type": rng.choice([0, 1]),
                     "status": "active", "created_at": NOW, "updated_at": NOW})
    async with db.unit_of_work() as session:
        await session.execute(insert(Customer), [{"wa_id": r["wa_id"], "created_at": NOW} for r in rows])
        await session.execute(insert(Reservation), rows)
    await db.dispose()
    return len(slots)


async def main() -> None:
    config = ClinicConfig()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        upgrade(url)
        slot_count = await fill(url, config)
        services = build_services(config, create_database(url), lambda: NOW)
        timings = []
        for _ in range(30):
            started = time.perf_counter()
            days = await services.availability.search("2026-12-01", "2027-02-28", only_available=False)
            timings.append((time.perf_counter() - started) * 1000)
        await services.db.dispose()
    print(json.dumps({
        "bench": "available slots over 90 days", "database": "sqlite", "reservations": RESERVATIONS,
        "filled_slots": slot_count, "days": len(days), "p50_ms": round(statistics.median(timings), 2),
        "max_ms": round(max(timings), 2),
    }))


if __name__ == "__main__":
    asyncio.run(main())
