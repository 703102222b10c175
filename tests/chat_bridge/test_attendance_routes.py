"""`POST /attendance` as the served app answers it (SQLite and PostgreSQL): the day's unmarked marked no-show as the
operator's batch, listed in the history and undone by `POST /batches/{id}/undo`; another origin and a malformed
body are refused with nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from domain.services import Services
from domain.storage.models import BatchRecord, Reservation
from tests.conftest import FixedClock
from tests.fakes.graph_api import RunningBridge, bridge, graph_api  # noqa: F401

SARA, OMAR = "966501234567", "966502222222"
TODAY = "2026-12-01"  # the fixed clock's Tuesday
EVENING = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


async def marks(services: Services) -> dict[str, tuple[str, str]]:
    async with services.db.reading() as session:
        rows = await session.execute(select(Reservation.wa_id, Reservation.status, Reservation.attendance))
        return {r[0]: (str(r[1]), r[2]) for r in rows}


async def batches(services: Services) -> int:
    async with services.db.reading() as session:
        return len((await session.scalars(select(BatchRecord.id))).all())


async def booked_today(services: Services, clock: FixedClock) -> list[int]:
    ids = []
    for wa_id, slot in ((SARA, "11:00"), (OMAR, "13:00")):
        made = await services.reservations.reserve(wa_id, TODAY, slot)
        assert made.reservation is not None
        ids.append(made.reservation.id)
    clock.now = EVENING
    return ids


async def post(bridge: RunningBridge, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    response = await bridge.http.post(path, json=body)
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_the_days_unmarked_become_no_shows_listed_and_undone(bridge: RunningBridge, clock: FixedClock) -> None:
    ids = await booked_today(bridge.services, clock)
    arrived = await post(bridge, "/attendance", {"mark": "arrived", "reservation_ids": [ids[0]]})
    assert arrived["status"] == "applied" and arrived["items"][0]["action"] == "arrived"
    clock.now += timedelta(minutes=1)
    missed = await post(bridge, "/attendance", {"mark": "no_show",
                                                "filters": {"date": TODAY, "attendance": ["booked", "confirmed"]}})
    assert missed["status"] == "applied" and missed["summary"]["by_action"] == {"no_show": 1}
    assert await marks(bridge.services) == {SARA: ("active", "arrived"), OMAR: ("no_show", "booked")}
    newest = (await bridge.http.get("/batches")).json()["batches"][0]
    assert (newest["batch_id"], newest["by"], newest["tool"], newest["what"]) == (
        missed["batch_id"], "operator", "system_mark_attendance",
        "mark no_show; filters: day 2026-12-01, marked booked/confirmed")
    recorded = (await bridge.http.get(f"/batches/{missed['batch_id']}")).json()
    assert [(c["reservation_id"], c["action"]) for c in recorded["changes"]] == [(ids[1], "no_show")]
    clock.now += timedelta(minutes=1)
    undone = await post(bridge, f"/batches/{missed['batch_id']}/undo", {})
    assert undone["status"] == "applied" and undone["undone_batch_id"] == missed["batch_id"]
    assert await marks(bridge.services) == {SARA: ("active", "arrived"), OMAR: ("active", "booked")}


async def test_another_origin_and_a_malformed_body_change_nothing(bridge: RunningBridge, clock: FixedClock) -> None:
    ids = await booked_today(bridge.services, clock)
    elsewhere = await bridge.http.post("/attendance", json={"mark": "no_show", "reservation_ids": ids},
                                       headers={"Origin": "http://127.0.0.1:1"})
    assert elsewhere.status_code == 403 and elsewhere.json()["error"]["code"] == "invalid_origin"
    for body in ({"mark": "gone", "reservation_ids": ids}, {"mark": "no_show", "reservation_ids": [True]},
                 {"mark": "no_show", "reservation_ids": ids, "actor": "system"},
                 {"mark": "no_show", "filters": {"date": TODAY, "wa_id": SARA}}):
        refused = await post(bridge, "/attendance", body, status=422)
        assert refused["error"]["code"] == "invalid_body"
    missing = await post(bridge, "/attendance", {"mark": "no_show"}, status=422)
    assert missing["error"]["code"] == "attendance_filters_needed"
    assert await marks(bridge.services) == {SARA: ("active", "booked"), OMAR: ("active", "booked")}
    assert await batches(bridge.services) == 0


async def test_the_consoles_cancel_inside_the_window_is_late_and_its_undo_clears_it(bridge: RunningBridge,
                                                                                   clock: FixedClock) -> None:
    made = await bridge.services.reservations.reserve(SARA, TODAY, "15:00")
    assert made.reservation is not None
    cancelled = await post(bridge, "/batches/cancel", {"requests": [{"reservation_id": made.reservation.id}]})
    assert cancelled["status"] == "applied"
    assert await late_flag(bridge.services, made.reservation.id) is True
    clock.now += timedelta(minutes=1)
    await post(bridge, f"/batches/{cancelled['batch_id']}/undo", {})
    assert await late_flag(bridge.services, made.reservation.id) is False


async def late_flag(services: Services, reservation_id: int) -> bool:
    async with services.db.reading() as session:
        return bool(await session.scalar(select(Reservation.late_cancel).where(Reservation.id == reservation_id)))
