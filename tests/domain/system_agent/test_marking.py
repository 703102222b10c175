"""Marking attendance is a batch: by id or by a day's selection, recorded, undoable (a no-show undone needs its place
back), counted against the confirmation limits; and every cancel path marks a late cancellation."""

from datetime import UTC, datetime

from sqlalchemy import select

from domain.config import BookingSource
from domain.services import Services, build_services
from domain.storage.models import BatchRecord, Reservation
from domain.system_agent.batch import BatchOptions
from domain.system_agent.effects import EffectLimits
from tests.conftest import FixedClock

TUESDAY = "2026-12-01"
YES = BatchOptions(confirmed=True)
DURING = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)  # 11:30 in Riyadh: the 11:00 slot has started
EVENING = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 18:00: every slot of the day has ended


def wa(n: int) -> str:
    return f"9665015{n:05d}"


async def book(services: Services, count: int, slot: str = "11:00", start: int = 0) -> list[int]:
    report = await services.batch.reserve(
        [{"wa_id": wa(n), "date": TUESDAY, "time_slot": slot} for n in range(start, start + count)], YES)
    return [i.reservation_id for i in report.items if i.reservation_id is not None]


async def rows(services: Services) -> dict[int, tuple[str, str, bool]]:
    async with services.db.reading() as session:
        found = await session.execute(select(Reservation.id, Reservation.status, Reservation.attendance,
                                             Reservation.late_cancel))
        return {r[0]: (str(r[1]), r[2], r[3]) for r in found}


async def test_the_days_unmarked_become_no_shows_and_the_undo_puts_them_back(services: Services,
                                                                         clock: FixedClock) -> None:
    ids = await book(services, 3)
    clock.now = EVENING
    arrived = await services.batch.mark_attendance("arrived", [ids[0]], options=YES)
    assert arrived.status == "applied" and arrived.items[0].action == "arrived"
    missed = await services.batch.mark_attendance(
        "no_show", filters={"date": TUESDAY, "attendance": ["booked", "confirmed"]}, options=YES)
    assert missed.status == "applied" and sorted(i.reservation_id or 0 for i in missed.items) == ids[1:]
    assert await rows(services) == {ids[0]: ("active", "arrived", False), ids[1]: ("no_show", "booked", False),
                                    ids[2]: ("no_show", "booked", False)}
    assert missed.batch_id is not None
    undone = await services.batch.undo(missed.batch_id, YES)
    assert undone.status == "applied" and {i.action for i in undone.items} == {"unmarked"}
    assert {i: r[0] for i, r in (await rows(services)).items()} == dict.fromkeys(ids, "active")
    assert undone.batch_id is not None
    again = await services.batch.undo(undone.batch_id, YES)  # an undo is undoable too
    assert again.status == "applied" and (await rows(services))[ids[1]][0] == "no_show"


async def test_undoing_a_no_show_needs_the_place_it_freed(services: Services, clock: FixedClock) -> None:
    ids = await book(services, 5)
    clock.now = DURING
    missed = await services.batch.mark_attendance("no_show", [ids[0]], options=YES)
    assert missed.status == "applied" and missed.batch_id is not None
    taken = await services.reservations.reserve(wa(50), TUESDAY, "11:00")  # the slot is in progress: bookable
    assert taken.action == "created"
    undone = await services.batch.undo(missed.batch_id, YES)
    assert undone.status == "failed" and undone.items[0].error is not None
    assert undone.items[0].error.code == "slot_full" and (await rows(services))[ids[0]][0] == "no_show"


async def test_a_mark_the_booking_cannot_take_fails_alone(services: Services, clock: FixedClock) -> None:
    ids = await book(services, 2)
    await book(services, 1, slot="15:00", start=10)
    clock.now = DURING
    report = await services.batch.mark_attendance("no_show", filters={"date": TUESDAY}, options=YES)
    assert report.status == "applied"
    assert {(i.reservation_id, i.status, i.error.code if i.error else None) for i in report.items} == {
        (ids[0], "ok", None), (ids[1], "ok", None), (ids[1] + 1, "failed", "attendance_too_early")}
    unknown = await services.batch.mark_attendance("arrived", [ids[0], 999_999], options=YES)
    assert [(i.status, i.error.code if i.error else None) for i in unknown.items] == [
        ("ok", None), ("failed", "reservation_not_found")]


async def test_marks_count_against_the_agents_limits_even_when_split(clock: FixedClock, services: Services) -> None:
    limited = build_services(services.config, services.db, clock, limits=EffectLimits())
    ids = await book(limited, 6) + await book(limited, 6, slot="13:00", start=6)
    clock.now = EVENING
    for n in range(0, 4):
        done = await limited.batch.mark_attendance("arrived", ids[n:n + 1], options=BatchOptions(turn="t"))
        assert done.status == "applied"
    asked = await limited.batch.mark_attendance("arrived", ids[4:6], options=BatchOptions(turn="t"))
    assert asked.status == "needs_confirmation" and (await rows(limited))[ids[4]][1] == "booked"


async def test_every_cancel_path_marks_a_cancellation_inside_the_window_late(services: Services,
                                                                            clock: FixedClock) -> None:
    late_customer, early_customer = await book(services, 1), await book(services, 1, start=1)
    wednesday = await services.batch.reserve([{"wa_id": wa(2), "date": "2026-12-03", "time_slot": "11:00"},
                                              {"wa_id": wa(3), "date": "2026-12-01", "time_slot": "13:00"},
                                              {"wa_id": wa(4), "date": "2026-12-01", "time_slot": "15:00"}], YES)
    far, same_day, closed = (i.reservation_id or 0 for i in wednesday.items)
    await services.reservations.cancel(wa(0), source=BookingSource.AGENT)  # the customer's assistant
    single = await services.batch.cancel([{"reservation_id": early_customer[0]}], options=YES)
    await services.batch.cancel([{"reservation_id": far}], options=YES)
    await services.batch.cancel(filters={"dates": [TUESDAY], "wa_ids": [wa(3)]}, options=YES)
    await services.batch.close(TUESDAY, None, "Burst pipe", options=YES, hours=("15:00", "17:00"))
    flags = {i: r[2] for i, r in (await rows(services)).items()}
    assert flags == {late_customer[0]: True, early_customer[0]: True, far: False, same_day: True, closed: True}
    assert single.batch_id is not None
    await services.batch.undo(single.batch_id, YES)
    assert (await rows(services))[early_customer[0]] == ("active", "booked", False)


async def test_a_customer_confirms_only_their_own_upcoming_booking(services: Services, clock: FixedClock) -> None:
    ids = await book(services, 2)
    assert await services.attendance.confirm_by_customer(wa(0), ids[0])
    assert await services.attendance.confirm_by_customer("+" + wa(0), ids[0])  # a second press
    assert not await services.attendance.confirm_by_customer(wa(0), ids[1])  # another customer's
    clock.now = EVENING
    assert not await services.attendance.confirm_by_customer(wa(1), ids[1])  # over
    assert (await rows(services))[ids[0]][1] == "confirmed" and (await rows(services))[ids[1]][1] == "booked"


async def test_the_batch_record_keeps_the_marks_for_the_history(services: Services, clock: FixedClock) -> None:
    ids = await book(services, 1)
    clock.now = EVENING
    report = await services.batch.mark_attendance("no_show", ids, options=YES)
    assert report.batch_id is not None
    recorded = await services.batch.recorded(report.batch_id)
    assert [(c.reservation_id, c.action) for c in recorded.changes] == [(ids[0], "no_show")]
    async with services.db.reading() as session:
        record = await session.get(BatchRecord, report.batch_id)
    assert record is not None and record.tool == "system_mark_attendance"
