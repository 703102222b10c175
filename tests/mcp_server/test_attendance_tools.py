"""`system_mark_attendance` through an in-memory MCP client: a no-show batch answered like every batch, undone by
`system_undo_batch`, and arguments that are not its own refused with nothing changed."""

from datetime import UTC, datetime
from typing import Any

from mcp.server import MCPServer
from sqlalchemy import select

from domain.services import Services
from domain.storage.models import Reservation
from tests.conftest import FixedClock
from mcp_scenario import ALICE, BOB, call, data, text

TODAY = "2026-12-01"
EVENING = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 18:00 in Riyadh: the day's slots have ended


async def statuses(services: Services) -> dict[str, tuple[str, str]]:
    async with services.db.reading() as session:
        rows = await session.execute(select(Reservation.wa_id, Reservation.status, Reservation.attendance))
        return {r[0]: (str(r[1]), r[2]) for r in rows}


async def booked_today(services: Services, clock: FixedClock) -> list[int]:
    ids = []
    for who, slot in ((ALICE, "11:00"), (BOB, "13:00")):
        made = await services.reservations.reserve(who, TODAY, slot)
        assert made.reservation is not None
        ids.append(made.reservation.id)
    clock.now = EVENING
    return ids


async def test_the_days_unmarked_are_marked_no_show_and_the_undo_tool_reverts_it(
        system_server: MCPServer, services: Services, clock: FixedClock) -> None:
    ids = await booked_today(services, clock)
    await call(system_server, "system_mark_attendance", {"mark": "arrived", "reservation_ids": [ids[0]]})
    result = await call(system_server, "system_mark_attendance",
                        {"mark": "no_show", "filters": {"date": TODAY, "attendance": ["booked", "confirmed"]}})
    answer = data(result)
    assert answer["status"] == "applied" and answer["summary"]["by_action"] == {"no_show": 1}
    assert text(result).startswith("Applied: 1 ok (no_show 1), 0 failed, 0 skipped of 1 item(s).")
    assert await statuses(services) == {ALICE: ("active", "arrived"), BOB: ("no_show", "booked")}
    undone = data(await call(system_server, "system_undo_batch", {"batch_id": answer["batch_id"]}))
    assert undone["status"] == "applied" and undone["summary"]["by_action"] == {"unmarked": 1}
    assert await statuses(services) == {ALICE: ("active", "arrived"), BOB: ("active", "booked")}


async def test_a_mark_before_the_slot_starts_fails_with_its_reason(system_server: MCPServer, services: Services) -> None:
    made = await services.reservations.reserve(ALICE, TODAY, "15:00")
    assert made.reservation is not None
    result = await call(system_server, "system_mark_attendance",
                        {"mark": "no_show", "reservation_ids": [made.reservation.id]})
    assert data(result)["status"] == "failed"
    assert "A reservation can be marked no_show only once its time slot has started." in text(result)
    assert await statuses(services) == {ALICE: ("active", "booked")}


async def test_hostile_arguments_are_refused_before_anything_runs(system_server: MCPServer, services: Services,
                                                                 clock: FixedClock) -> None:
    ids = await booked_today(services, clock)
    malformed: list[dict[str, Any]] = [
        {"mark": "vanished", "reservation_ids": ids}, {"mark": "no_show", "reservation_ids": [True]},
        {"mark": "no_show", "filters": {"date": TODAY, "status": "x"}},
        {"mark": "no_show", "filters": {"date": TODAY, "attendance": ["cancelled"]}},
        {"mark": "no_show", "reservation_ids": list(range(1, 502))}]
    refused: list[tuple[dict[str, Any], str]] = [
        ({"mark": "no_show"}, "Name the reservations to mark"),
        ({"mark": "no_show", "filters": {"time_slot": "11:00"}}, "Name the reservations to mark"),
        ({"mark": "no_show", "filters": {"start_date": "2026-11-01", "end_date": "2026-12-31"}}, "at most 31 days"),
        ({"mark": "no_show", "filters": {"date": "2026-13-45"}}, "The date '2026-13-45' is not valid")]
    for arguments in malformed:
        assert (await call(system_server, "system_mark_attendance", arguments)).is_error, arguments
    for arguments, sentence in refused:
        answer = await call(system_server, "system_mark_attendance", arguments)
        assert answer.is_error and sentence in text(answer), arguments
    assert await statuses(services) == {ALICE: ("active", "booked"), BOB: ("active", "booked")}


async def late_flags(services: Services) -> dict[int, bool]:
    async with services.db.reading() as session:
        rows = await session.execute(select(Reservation.id, Reservation.late_cancel))
        return {r[0]: bool(r[1]) for r in rows}


async def test_the_customers_own_cancel_inside_the_window_is_late(customer_server: MCPServer,
                                                                 services: Services) -> None:
    made = await services.reservations.reserve(ALICE, "2026-12-02", "11:00")  # 25 hours ahead: not late yet
    assert made.reservation is not None
    data(await call(customer_server, "cancel_reservation", {}))
    assert await late_flags(services) == {made.reservation.id: False}
    again = await services.reservations.reserve(ALICE, "2026-12-02", "11:00")  # reinstated: the flag is cleared
    assert again.reservation is not None and again.action == "reinstated"
    data(await call(customer_server, "cancel_reservation", {"reservation_id": again.reservation.id}))
    made_today = await services.reservations.reserve(ALICE, TODAY, "15:00")
    assert made_today.reservation is not None
    data(await call(customer_server, "cancel_reservation", {}))
    assert await late_flags(services) == {made.reservation.id: False, made_today.reservation.id: True}
