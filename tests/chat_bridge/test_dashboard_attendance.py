"""The dashboard's no-show figures (`GET /dashboard` and `system_get_dashboard`) over generated histories whose past
bookings were marked through the attendance batch: the rate by day and by type equals direct SQL (SQLite and
PostgreSQL). The rate is no-shows / (arrived + no-shows); bookings never marked are left out."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from mcp import Client
from sqlalchemy import Date, bindparam, select, text

from domain.services import Services
from domain.storage.models import Reservation
from domain.system_agent.batch import BatchOptions
from tests.fakes.graph_api import RunningBridge, bridge, graph_api  # noqa: F401
from tests.fakes.histories import generated

FIRST, LAST = date(2026, 3, 1), date(2026, 11, 30)
YES = BatchOptions(confirmed=True)
COUNTS = ("SELECT {key}, sum(CASE WHEN status = 'no_show' THEN 1 ELSE 0 END), "
          "sum(CASE WHEN status = 'active' AND attendance = 'arrived' THEN 1 ELSE 0 END) FROM reservations "
          "WHERE date BETWEEN :a AND :b GROUP BY {key}")


async def sql(services: Services, query: str, **values: Any) -> list[Any]:
    statement = text(query).bindparams(*(bindparam(k, type_=Date) for k in values if isinstance(values[k], date)))
    async with services.db.reading() as session:
        return list((await session.execute(statement, values)).all())


async def marked_histories(services: Services) -> None:
    """Generated histories, their past active bookings marked arrived or no-show at random (some left unmarked)."""
    await generated(services, count=120, seed=5)
    async with services.db.reading() as session:
        past = list(await session.scalars(select(Reservation.id).where(
            Reservation.status == "active", Reservation.date < date(2026, 12, 1)).order_by(Reservation.id)))
    rng = random.Random(5)
    chosen: dict[str, list[int]] = {"arrived": [], "no_show": []}
    for reservation_id in past:
        if (pick := rng.choice(["arrived", "no_show", None])) is not None:
            chosen[pick].append(reservation_id)
    for mark, ids in chosen.items():
        for start in range(0, len(ids), 500):
            report = await services.batch.mark_attendance(mark, ids[start:start + 500], options=YES)
            assert report.counts() == {"ok": len(ids[start:start + 500])}


def rate(no_shows: int, arrived: int) -> dict[str, Any]:
    return {"arrived": arrived, "no_shows": no_shows,
            "rate": round(no_shows / (arrived + no_shows), 4) if arrived + no_shows else None}


async def test_the_no_show_rate_by_day_and_type_matches_direct_sql(services: Services,
                                                                   bridge: RunningBridge) -> None:  # noqa: F811
    await marked_histories(services)
    period = {"a": FIRST, "b": LAST}
    figures = (await bridge.http.get("/dashboard", params={"start": FIRST.isoformat(), "end": LAST.isoformat()})).json()
    by_day = {str(d)[:10]: rate(int(n), int(a)) for d, n, a in await sql(services, COUNTS.format(key="date"), **period)}
    assert {d["date"]: d["no_shows"] for d in figures["days"] if d["no_shows"]["rate"] is not None} == {
        day: shown for day, shown in by_day.items() if shown["rate"] is not None}
    names = {str(t.id): t.name for t in services.config.reservation_types}
    by_type = {names[str(t)]: rate(int(n), int(a)) for t, n, a in await sql(services, COUNTS.format(key="type"),
                                                                         **period)}
    assert figures["totals"]["no_shows_by_type"] == by_type
    every = [sum(r[k] for r in by_type.values()) for k in ("no_shows", "arrived")]
    assert figures["totals"]["no_shows"] == rate(*every) and 0 < every[0] and 0 < every[1]
    [(late,)] = await sql(services, "SELECT count(*) FROM reservations WHERE status = 'cancelled' AND late_cancel "
                                    "AND date BETWEEN :a AND :b", **period)
    assert figures["totals"]["late_cancelled"] == late


async def test_the_model_reads_the_same_rate(services: Services, bridge: RunningBridge) -> None:  # noqa: F811
    await marked_histories(services)
    figures = (await bridge.http.get("/dashboard", params={"start": "2026-11-01", "end": "2026-11-30"})).json()
    async with Client(f"{bridge.url}/mcp") as client:
        result = await client.call_tool("system_get_dashboard", {"start_date": "2026-11-01", "end_date": "2026-11-30"})
    data = result.structured_content or {}
    assert data["totals"] == figures["totals"] and data["days"] == figures["days"]
    marked = figures["totals"]["no_shows"]
    assert (f"No-shows: {marked['no_shows']} of {marked['no_shows'] + marked['arrived']} marked"
            in result.content[0].text)  # type: ignore[union-attr]
