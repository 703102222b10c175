"""A batch of tens of thousands of reservations works on both databases: no statement passes PostgreSQL's
32,767 parameters, no transaction takes more locks than the server's default lock table holds."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select

from domain.services import Services
from domain.storage.models import Customer, Reservation
from domain.rules.schedule import slots_for
from domain.system_agent.batch import BatchOptions

COUNT = 35_000  # more ids than one PostgreSQL statement may carry as separate parameters
NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


async def booked(services: Services, count: int) -> tuple[date, date]:
    """`count` customers booked 5 per slot from Wednesday on, in bulk; the first and last day."""
    places: list[tuple[date, str]] = []
    day = date(2026, 12, 2)
    while len(places) < count:
        places += [(day, slot) for slot in slots_for(services.config, day) for _ in range(5)]
        day += timedelta(days=1)
    rows = [{"id": n + 1, "wa_id": f"9665{n:08d}", "date": d, "time_slot": s, "type": 0, "status": "active",
             "created_at": NOW, "updated_at": NOW} for n, (d, s) in enumerate(places[:count])]
    async with services.db.unit_of_work() as session:
        await session.execute(insert(Customer), [{"wa_id": r["wa_id"], "created_at": NOW} for r in rows])
        await session.execute(insert(Reservation), rows)
    return places[0][0], places[count - 1][0]


async def test_a_batch_of_thirty_five_thousand_changes_applies_whole(services: Services) -> None:
    first, last = await booked(services, COUNT)
    report = await services.batch.modify(filters={"start_date": first.isoformat(), "end_date": last.isoformat()},
                                         updates={"new_type": 1}, options=BatchOptions(confirmed=True))
    assert report.status == "applied" and report.counts() == {"ok": COUNT}
    async with services.db.unit_of_work() as session:
        retyped = await session.scalar(select(func.count()).where(Reservation.type == 1))
    assert retyped == COUNT


async def test_thirty_five_thousand_cancellations_by_filter_are_recorded_and_undone_whole(services: Services) -> None:
    first, last = await booked(services, COUNT)
    dates = {"start_date": first.isoformat(), "end_date": last.isoformat()}
    report = await services.batch.cancel(filters=dates, options=BatchOptions(confirmed=True))
    assert report.status == "applied" and report.counts() == {"ok": COUNT}
    assert report.batch_id is not None
    recorded = await services.batch.recorded(report.batch_id)
    assert len(recorded.changes) == COUNT
    assert recorded.changes[0].model_dump() == {
        "index": 0, "status": "ok", "reservation_id": 1, "wa_id": "966500000000", "customer_name": None,
        "action": "cancelled", "from_date": first.isoformat(), "from_time": "11:00", "date": first.isoformat(),
        "time_slot": "11:00"}
    undone = await services.batch.undo(report.batch_id, BatchOptions(confirmed=True))
    assert undone.status == "applied" and undone.counts() == {"ok": COUNT}
    async with services.db.unit_of_work() as session:
        active = await session.scalar(select(func.count()).where(Reservation.status == "active"))
    assert active == COUNT
