"""The dashboard as the served app gives it, at `GET /dashboard` and through `system_get_dashboard` at /mcp,
over generated histories, conversations and batches: every number equals what direct SQL says."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from mcp import Client
from sqlalchemy import Date, bindparam, text

from domain.storage.models import BatchRecord, ConversationMessage
from domain.services import Services
from tests.conftest import NOW
from tests.fakes.graph_api import RunningBridge, bridge, graph_api  # noqa: F401
from tests.fakes.histories import generated

FIRST, LAST = date(2026, 3, 1), date(2026, 11, 30)


async def sql(services: Services, query: str, **values: Any) -> list[Any]:
    """Rows of a plain SQL statement, dates bound as dates."""
    statement = text(query).bindparams(*(bindparam(k, type_=Date) for k in values if isinstance(values[k], date)))
    async with services.db.reading() as session:
        return list((await session.execute(statement, values)).all())


async def activity(services: Services) -> None:
    """Messages of every kind and two batches, all inside the period."""
    at = NOW - timedelta(days=3)
    system = services.config.system_agent_wa_id
    rows = [(system, "secretary")] * 3 + [(system, "assistant")] * 2 + [("966508800001", "user")] * 4 + \
        [("966508800001", "assistant")] * 4 + [("966508800002", "secretary")]
    async with services.db.unit_of_work() as session:
        session.add_all([ConversationMessage(wa_id=w, role=r, text="x", timestamp=at) for w, r in rows])
        session.add_all([BatchRecord(id=f"b{n}", tool="system_batch_cancel", actor=actor, arguments={}, result={},
                                     changes=[], created_at=at) for n, actor in enumerate(["operator", "system_agent"])])


async def test_the_dashboard_numbers_match_direct_sql(services: Services,
                                                     bridge: RunningBridge) -> None:  # noqa: F811
    await generated(services, count=150, seed=11)
    await activity(services)
    period = {"a": FIRST, "b": LAST}
    figures = (await bridge.http.get("/dashboard", params={"start": FIRST.isoformat(), "end": LAST.isoformat()})).json()

    per_day = await sql(services, "SELECT date, type, count(*) FROM reservations WHERE status = 'active' AND "
                                  "date BETWEEN :a AND :b GROUP BY date, type", **period)
    want_days = Counter({(str(d)[:10], str(t)): n for d, t, n in per_day})
    got_days = Counter({(d["date"], t): n for d in figures["days"] for t, n in d["by_type"].items() if n})
    assert got_days == want_days and len(figures["days"]) == (LAST - FIRST).days + 1

    [(cancelled,)] = await sql(services, "SELECT count(*) FROM reservations WHERE status = 'cancelled' AND "
                                         "date BETWEEN :a AND :b", **period)
    bookings = sum(want_days.values())
    assert figures["totals"]["bookings"] == bookings and figures["totals"]["cancelled"] == cancelled
    assert figures["totals"]["cancelled_share"] == round(cancelled / (bookings + cancelled), 4)

    [(booked,)] = await sql(services, "SELECT count(DISTINCT wa_id) FROM reservations WHERE status = 'active' AND "
                                      "date BETWEEN :a AND :b", **period)
    [(returning,)] = await sql(services, "SELECT count(DISTINCT r.wa_id) FROM reservations r WHERE r.status = "
                                         "'active' AND r.date BETWEEN :a AND :b AND EXISTS (SELECT 1 FROM "
                                         "reservations e WHERE e.wa_id = r.wa_id AND e.date < :a)", **period)
    assert figures["customers"] == {"total": booked, "new": booked - returning, "returning": returning}
    assert 0 < returning < booked

    slots = await sql(services, "SELECT date, time_slot, count(*) FROM reservations WHERE status = 'active' AND "
                                "date BETWEEN :a AND :b GROUP BY date, time_slot", **period)
    by_weekday: Counter[tuple[str, str]] = Counter()
    for day, slot, n in slots:
        by_weekday[(date.fromisoformat(str(day)[:10]).strftime("%a"), slot)] += n
    top = sorted(by_weekday.values(), reverse=True)[:10]
    assert [s["bookings"] for s in figures["busiest_slots"]] == top
    assert all(by_weekday[(s["weekday"], s["time_slot"])] == s["bookings"] for s in figures["busiest_slots"])

    assert figures["activity"]["messages"] == {"customer_assistant": 4, "customers": 4, "operator_to_customers": 1,
                                               "operator_to_system_agent": 3, "system_agent": 2}
    assert figures["activity"]["batches"] == {"operator": {"system_batch_cancel": 1},
                                              "system_agent": {"system_batch_cancel": 1}}


async def test_the_tool_gives_the_model_the_same_numbers(services: Services,
                                                        bridge: RunningBridge) -> None:  # noqa: F811
    await generated(services, count=60, seed=3)
    figures = (await bridge.http.get("/dashboard", params={"start": "2026-11-01", "end": "2026-11-30"})).json()
    async with Client(f"{bridge.url}/mcp") as client:
        result = await client.call_tool("system_get_dashboard", {"start_date": "2026-11-01", "end_date": "2026-11-30"})
    data = result.structured_content or {}
    text_answer = result.content[0].text  # type: ignore[union-attr]
    totals, customers = figures["totals"], figures["customers"]
    assert data["totals"] == totals and data["customers"] == customers and data["days"] == figures["days"]
    assert text_answer.startswith(f"2026-11-01 to 2026-11-30 (Asia/Riyadh): {totals['bookings']} booking(s), "
                                  f"{totals['cancelled']} cancelled")


async def test_a_year_of_days_is_cut_for_the_model_and_says_so(services: Services,
                                                               bridge: RunningBridge) -> None:  # noqa: F811
    async with Client(f"{bridge.url}/mcp") as client:
        year = await client.call_tool("system_get_dashboard", {"start_date": "2026-01-01", "end_date": "2026-12-31"})
        too_long = await client.call_tool("system_get_dashboard", {"start_date": "2026-01-01",
                                                                   "end_date": "2027-01-02"})
    data = year.structured_content or {}
    assert data["truncated"] == {"days": 365} and "Cut to keep this answer small" in year.content[0].text  # type: ignore[union-attr]
    assert too_long.is_error is True and "at most 366 days" in too_long.content[0].text  # type: ignore[union-attr]


async def test_the_endpoint_refuses_a_missing_or_bad_period(bridge: RunningBridge) -> None:  # noqa: F811
    missing = await bridge.http.get("/dashboard")
    backwards = await bridge.http.get("/dashboard", params={"start": "2026-12-05", "end": "2026-12-01"})
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "missing_parameter"
    assert backwards.status_code == 422 and backwards.json()["error"]["code"] == "invalid_range"

