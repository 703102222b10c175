"""One `system_batch_modify` moving a whole day to the next, against the SQL floor, at 1,000, 10,000 and
100,000 reservations, on SQLite and (when DATABASE_URL_POSTGRES is set; a database of its own is created
and dropped) PostgreSQL, in two layouts with the capacity raised:
- `many_slots`: the day has 288 five-minute slots (00:00-23:55);
- `three_slots`: the day has the default three slots (11:00, 13:00, 15:00).

Each size is seeded once and its batch measured five times (`--repeats`), each run a process of its own, on data
generated deterministically by another process (the calendar put back after each run), so that its memory figure
is the batch's alone: the resident set before the call (after the services are built and
warmed, the high-water mark reset there) and its high-water mark after. In that process the SQL floor (one plain `UPDATE ... SET date =
next day WHERE date = day AND status = 'active'`, rolled back) runs three times before and three times after the
batch, and the ratio is the batch's time over the floor's median; a size's figure is the median of its runs' times over the median
of their floors (each run's ratio listed beside it), with the highest of their peaks. Prints JSON.

    .venv/bin/python bench/batch_scale_bench.py                 # everything (about 20 minutes)
    .venv/bin/python bench/batch_scale_bench.py --sizes 1000,10000 --layouts three_slots
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, time as clock_time, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from domain.services import build_services  # noqa: E402
from calendar_agent.migrate import upgrade  # noqa: E402
from domain.config import BookingSource, ClinicConfig, OpeningHours  # noqa: E402
from domain.storage.database import create_database  # noqa: E402
from domain.storage.models import Customer, Reservation  # noqa: E402
from domain.system_agent.batch import BatchOptions  # noqa: E402

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # Tuesday 10:00 in Riyadh
DAY = date(2026, 12, 2)
NEXT_DAY = DAY + timedelta(days=1)
LAYOUTS = ("many_slots", "three_slots")


def config_for(layout: str) -> ClinicConfig:
    raised = {BookingSource.AGENT: 10**6, BookingSource.OPERATOR: 10**6}
    if layout == "three_slots":
        return ClinicConfig().model_copy(update={"capacity": raised})
    whole_day = OpeningHours(opens=clock_time(0), closes=clock_time(23, 59))
    week = {day: whole_day for day in ClinicConfig().week}
    return ClinicConfig().model_copy(update={"capacity": raised, "week": week, "slot_minutes": 5})


def slots_of(layout: str) -> list[str]:
    if layout == "three_slots":
        return ["11:00", "13:00", "15:00"]
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 24 * 60, 5)]


async def seed(url: str, layout: str, count: int) -> None:
    upgrade(url)
    slots = slots_of(layout)
    db = create_database(url)
    async with db.unit_of_work() as session:
        for start in range(0, count, 10_000):
            numbers = range(start, min(count, start + 10_000))
            await session.execute(insert(Customer), [{"wa_id": f"9665{n:08d}", "name": f"Customer {n}",
                                                      "created_at": NOW} for n in numbers])
            await session.execute(insert(Reservation), [
                {"id": n + 1, "wa_id": f"9665{n:08d}", "date": DAY, "time_slot": slots[n % len(slots)], "type": 0,
                 "status": "active", "created_at": NOW, "updated_at": NOW} for n in numbers])
    async with db.engine.connect() as connection:
        await connection.execute(text("ANALYZE"))
        await connection.commit()
    await db.dispose()


def resident_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def reset_peak() -> None:
    """Start the high-water mark (VmHWM) from here, so the floor's and the warm-up's own peaks are not counted as
    the batch's (Linux: writing 5 to /proc/self/clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # the peak then also covers what ran before the batch


FLOOR_RUNS = 3  # the floor's own time moves by a third between runs: its median before and after the batch


async def floor_seconds(db: Any, day: date = DAY) -> float:
    """The plain UPDATE moving `day` to the next, rolled back."""
    async with db.engine.connect() as connection:
        started = time.perf_counter()
        await connection.execute(text("UPDATE reservations SET date = :new, updated_at = :now "
                                      "WHERE date = :day AND status = 'active'"),
                                 {"new": day + timedelta(days=1), "now": NOW, "day": day})
        seconds = time.perf_counter() - started
        await connection.rollback()
    return seconds


async def measure(url: str, layout: str, count: int) -> dict[str, Any]:
    """The batch and its floor, in this process (run after `seed`)."""
    services = build_services(config_for(layout), create_database(url), lambda: NOW)
    await services.batch.modify(filters={"dates": ["2027-06-01"]}, updates={"new_date": "2027-06-02"},
                                options=BatchOptions(dry_run=True))  # warm connections and code paths
    before = statistics.median([await floor_seconds(services.db) for _ in range(FLOOR_RUNS)])
    gc.collect()
    reset_peak()
    baseline = resident_kb("VmRSS")
    started = time.perf_counter()
    report = await services.batch.modify(filters={"dates": [DAY.isoformat()]},
                                         updates={"new_date": NEXT_DAY.isoformat()},
                                         options=BatchOptions(confirmed=True))
    seconds = time.perf_counter() - started
    peak = resident_kb("VmHWM")
    ok = report.counts()["ok"]
    del report
    # the floor moves the same rows back and forth on the moved calendar: NEXT_DAY -> NEXT_DAY + 1
    after = statistics.median([await floor_seconds(services.db, NEXT_DAY) for _ in range(FLOOR_RUNS)])
    async with services.db.engine.connect() as connection:
        # the calendar as it was, for the next repeat (the floor above only rolled back)
        await connection.execute(text("UPDATE reservations SET date = :day WHERE date = :new"),
                                 {"day": DAY, "new": NEXT_DAY})
        await connection.commit()
    await services.db.dispose()
    assert ok == count, (ok, count)
    floor = (before + after) / 2
    return {"reservations": count, "batch_s": round(seconds, 3), "floor_s": round(floor, 3),
            "ratio": round(seconds / floor, 1), "peak_mb_above_baseline": round(max(0, peak - baseline) / 1024, 1)}


def run_child(url: str, layout: str, count: int, repeats: int) -> dict[str, Any]:
    """Seed once, then measure `repeats` times, each in a process of its own: the median time and floor, and the
    highest peak."""
    script = str(Path(__file__).resolve())
    runs = []
    for step in ("seed", *["measure"] * repeats):
        done = subprocess.run([sys.executable, script, "--child", step, url, layout, str(count)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        if step == "measure":
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    batch, floor = statistics.median(r["batch_s"] for r in runs), statistics.median(r["floor_s"] for r in runs)
    return {"reservations": count, "batch_s": batch, "floor_s": floor, "ratio": round(batch / floor, 1),
            "ratios": [r["ratio"] for r in runs], "peak_mb_above_baseline": max(r["peak_mb_above_baseline"] for r in runs)}


def postgres_url(admin_url: str) -> tuple[str, str]:
    name = f"batch_bench_{uuid.uuid4().hex[:8]}"
    return name, admin_url.rsplit("/", 1)[0] + "/" + name


async def postgres_admin(admin_url: str, statement: str) -> None:
    connection = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    await connection.execute(statement)
    await connection.close()


def database_runs(database: str, layouts: list[str], sizes: list[int], repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    admin = os.environ.get("DATABASE_URL_POSTGRES", "")
    for layout in layouts:
        runs = []
        for count in sizes:
            with tempfile.TemporaryDirectory() as folder:
                if database == "sqlite":
                    runs.append(run_child(f"sqlite+aiosqlite:///{folder}/batch.db", layout, count, repeats))
                else:
                    name, url = postgres_url(admin)
                    asyncio.run(postgres_admin(admin, f"CREATE DATABASE {name}"))
                    try:
                        runs.append(run_child(url, layout, count, repeats))
                    finally:
                        asyncio.run(postgres_admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            print(json.dumps({"database": database, "layout": layout} | runs[-1]), file=sys.stderr)
        growth = [round(b["batch_s"] / a["batch_s"] / (b["reservations"] / a["reservations"]) * 10, 1)
                  for a, b in zip(runs, runs[1:], strict=False)]
        out[layout] = {"runs": runs, "time_for_10x_items": growth}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--repeats", type=int, default=5, help="batches measured per size (median time, highest peak)")
    parser.add_argument("--child", nargs=4, metavar=("STEP", "URL", "LAYOUT", "COUNT"))
    args = parser.parse_args()
    if args.child:
        step, url, layout, count = args.child
        if step == "seed":
            asyncio.run(seed(url, layout, int(count)))
        else:
            print(json.dumps(asyncio.run(measure(url, layout, int(count)))))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    layouts = args.layouts.split(",")
    out: dict[str, Any] = {"bench": "move a day", "sizes": sizes}
    for database in args.databases.split(","):
        if database == "postgres" and not os.environ.get("DATABASE_URL_POSTGRES"):
            continue
        out[database] = database_runs(database, layouts, sizes, args.repeats)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
