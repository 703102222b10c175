"""Every change signed by its author, in the domain (on SQLite and PostgreSQL): a batch's record and its one audit
line written together, a change made alone kept in the reservation's history and the audit log, each reservation's
history read back from both with readable names, the dashboard's activity by person, and the confirmation limits
counted per actor."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from domain.config import BookingSource
from domain.services import Services
from domain.staff.audit import AuditLine
from domain.staff.roles import Principal, Role, author_of, signed
from domain.storage.models import BatchRecord, Reservation, ReservationChange
from domain.system_agent.batch import BatchOptions, SystemAgentBatchService
from tests.conftest import NOW, FixedClock

SARA, OMAR, NEW_SARA = "966501234567", "966502222222", "966503333333"
SUNDAY, MONDAY = "2026-12-06", "2026-12-07"
AMAL = Principal("amal", Role.OPERATOR)
BASIL = Principal("basil", Role.OPERATOR)
PASSWORD = "correct horse battery"


def by_person(principal: Principal, *, agent: bool = False, **values: object) -> BatchOptions:
    """Confirmed options signed by `principal` in person, or by the agent answering them."""
    signature = signed(principal, principal.agent_actor if agent else principal.actor)
    return BatchOptions.model_validate({"actor": signature.actor, "role": signature.role, "confirmed": True,
                                        **values})


async def lines(services: Services, prefix: str) -> list[AuditLine]:
    return [line for line in await services.audit.recent() if line.action.startswith(prefix)]


async def booked(services: Services, wa_id: str = SARA, slot: str = "11:00") -> int:
    result = await services.reservations.reserve(wa_id, SUNDAY, slot)
    assert result.reservation is not None
    return result.reservation.id


def test_an_actor_says_what_kind_of_author_signed_and_who() -> None:
    actors = ["operator", "operator:amal", "agent:amal", "system_agent", "mcp:amal@inspector", f"customer:{SARA}",
              "system", "customer"]
    assert [author_of(actor) for actor in actors] == [
        ("operator", None), ("operator", "amal"), ("agent", "amal"), ("agent", None), ("client", "amal"),
        ("customer", SARA), ("system", None), ("customer", None)]


async def test_an_applied_batch_and_its_undo_each_write_one_audit_line_signed_by_their_author(
        services: Services, clock: FixedClock) -> None:
    made = await services.batch.reserve([{"wa_id": SARA, "date": SUNDAY, "time_slot": "11:00"}], by_person(AMAL))
    clock.now += timedelta(minutes=1)
    assert made.batch_id is not None
    undone = await services.batch.undo(made.batch_id, by_person(AMAL, agent=True))
    dry = await services.batch.reserve([{"wa_id": OMAR, "date": SUNDAY, "time_slot": "11:00"}],
                                       by_person(AMAL, dry_run=True))

    assert [(line.actor, line.role, line.action, line.target, line.outcome, line.detail)
            for line in await lines(services, "batch ")] == [
        ("agent:amal", "operator", "batch system_undo_batch", undone.batch_id, "ok",
         {"ok": 1, "failed": 0, "by_action": {"cancelled": 1}, "undoes": made.batch_id}),
        ("operator:amal", "operator", "batch system_batch_reserve", made.batch_id, "ok",
         {"ok": 1, "failed": 0, "by_action": {"created": 1}})]
    async with services.db.reading() as session:
        actors = (await session.execute(select(BatchRecord.id, BatchRecord.actor))).all()
    assert dict(actors) == {made.batch_id: "operator:amal", undone.batch_id: "agent:amal"}
    assert dry.status == "dry_run"  # nothing written, nothing audited


async def test_a_change_made_alone_is_kept_in_the_reservations_history_and_the_audit_log(
        services: Services, clock: FixedClock) -> None:
    reservation = await booked(services)  # a customer's own booking (their assistant's default signature)
    clock.now += timedelta(minutes=1)
    await services.reservations.modify(reservation_id=reservation, new_time="13:00", source=BookingSource.OPERATOR,
                                       by=signed(AMAL, AMAL.actor))
    await services.reservations.reserve(SARA, SUNDAY, "13:00")  # the same slot again: unchanged, nothing kept
    clock.now += timedelta(minutes=1)
    assert await services.attendance.confirm_by_customer(SARA, reservation)
    assert await services.attendance.confirm_by_customer(SARA, reservation)  # a second press changes nothing

    async with services.db.reading() as session:
        kept = (await session.scalars(select(ReservationChange).order_by(ReservationChange.id))).all()
    assert [(row.reservation_id, row.actor, row.action, (row.after or {}).get("time_slot")) for row in kept] == [
        (reservation, f"customer:{SARA}", "created", "11:00"), (reservation, "operator:amal", "moved", "13:00"),
        (reservation, f"customer:{SARA}", "confirmed", "13:00")]
    assert [(line.actor, line.role, line.action, line.target) for line in await lines(services, "reservation ")] == [
        (f"customer:{SARA}", None, "reservation confirmed", str(reservation)),
        ("operator:amal", "operator", "reservation moved", str(reservation)),
        (f"customer:{SARA}", None, "reservation created", str(reservation))]


async def test_a_reservations_history_lists_each_change_with_when_and_who_by_name(
        services: Services, clock: FixedClock) -> None:
    await services.staff.add("amal", "operator", PASSWORD, "Amal Saeed")
    await services.customers.ensure(SARA, "Sara Khan")
    reservation = await booked(services)
    clock.now += timedelta(minutes=1)
    moved = await services.batch.modify([{"reservation_id": reservation, "new_time": "13:00"}], options=by_person(AMAL))
    clock.now += timedelta(minutes=1)
    cancelled = await services.batch.cancel([{"reservation_id": reservation}], options=by_person(AMAL, agent=True))
    clock.now += timedelta(minutes=1)
    assert cancelled.batch_id is not None
    restored = await services.batch.undo(cancelled.batch_id, BatchOptions(confirmed=True))

    history = await services.queries.reservation_history(reservation)
    assert (history.wa_id, history.customer_name) == (SARA, "Sara Khan")
    assert [(e.action, e.by, e.author, e.author_name, e.from_time, e.time_slot, e.status, e.batch_id)
            for e in history.events] == [
        ("created", "customer", SARA, "Sara Khan", None, "11:00", "active", None),
        ("moved", "operator", "amal", "Amal Saeed", "11:00", "13:00", "active", moved.batch_id),
        ("cancelled", "agent", "amal", "Amal Saeed", "13:00", "13:00", "cancelled", cancelled.batch_id),
        ("restored", "agent", None, None, "13:00", "13:00", "active", restored.batch_id)]
    assert [e.at for e in history.events] == [f"2026-12-01T10:0{n}:00+03:00" for n in range(4)]


async def test_a_day_moved_at_once_lists_each_reservations_own_move_only(services: Services,
                                                                          clock: FixedClock) -> None:
    made = await services.batch.reserve([{"wa_id": f"96650440{n:04d}", "date": SUNDAY, "time_slot": slot}
                                         for n, slot in enumerate(["11:00"] * 5 + ["13:00"] * 5)],
                                        BatchOptions(confirmed=True))
    clock.now += timedelta(minutes=1)
    moved = await services.batch.modify(filters={"dates": [SUNDAY]}, updates={"new_date": MONDAY},
                                        options=by_person(AMAL))
    seventh = made.items[7].reservation_id
    assert seventh is not None and moved.summary()["by_action"] == {"moved": 10}

    history = await services.queries.reservation_history(seventh)
    assert [(e.action, e.by, e.author, e.from_date, e.date, e.time_slot) for e in history.events] == [
        ("created", "agent", None, None, SUNDAY, "13:00"), ("moved", "operator", "amal", SUNDAY, MONDAY, "13:00")]


async def test_a_renumbered_customers_history_keeps_what_their_former_number_did(services: Services,
                                                                                  clock: FixedClock) -> None:
    made = await services.batch.reserve([{"wa_id": SARA, "date": SUNDAY, "time_slot": "11:00"}], by_person(AMAL))
    clock.now += timedelta(minutes=1)
    reservation = made.items[0].reservation_id
    assert reservation is not None
    await services.batch.modify([{"wa_id": SARA, "new_wa_id": NEW_SARA}], options=by_person(AMAL))
    clock.now += timedelta(minutes=1)
    moved = await services.batch.modify([{"reservation_id": reservation, "new_time": "15:00"}],
                                        options=by_person(AMAL, agent=True))

    history = await services.queries.reservation_history(reservation)
    assert history.wa_id == NEW_SARA
    assert [(e.action, e.batch_id, e.by) for e in history.events] == [
        ("created", made.batch_id, "operator"), ("moved", moved.batch_id, "agent")]


async def test_a_booking_older_than_its_records_says_when_it_was_made_and_not_by_whom(services: Services) -> None:
    await services.customers.ensure(SARA)
    async with services.db.unit_of_work() as session:
        reservation = await session.scalar(insert(Reservation).values(
            wa_id=SARA, date=NOW.date() + timedelta(days=5), time_slot="11:00", type=0, status="active",
            created_at=NOW - timedelta(days=30), updated_at=NOW).returning(Reservation.id))
    assert reservation is not None
    history = await services.queries.reservation_history(reservation)
    assert [(e.action, e.by, e.at) for e in history.events] == [("created", None, "2026-11-01T10:00:00+03:00")]


async def test_the_dashboard_names_who_changed_the_calendar(services: Services, clock: FixedClock) -> None:
    await services.staff.add("amal", "operator", PASSWORD, "Amal Saeed")
    await services.batch.reserve([{"wa_id": OMAR, "date": SUNDAY, "time_slot": "11:00"}], by_person(AMAL))
    await services.batch.cancel([{"wa_id": OMAR, "date": SUNDAY}], options=by_person(AMAL, agent=True))
    await booked(services, SARA)
    await booked(services, OMAR, "13:00")
    await services.batch.mark_attendance("confirmed", [await booked(services, NEW_SARA, "15:00")],
                                         options=BatchOptions(actor="system", confirmed=True))

    figures = await services.dashboard.figures("2026-12-01")
    assert [(p.by, p.author, p.author_name, p.batches, p.changes) for p in figures.activity.people] == [
        ("customer", None, None, {}, 3),
        ("agent", "amal", "Amal Saeed", {"system_batch_cancel": 1}, 0),
        ("operator", "amal", "Amal Saeed", {"system_batch_reserve": 1}, 0),
        ("system", None, None, {"system_mark_attendance": 1}, 0)]


async def test_each_persons_agent_has_its_own_confirmation_window(services: Services) -> None:
    batch = SystemAgentBatchService(services.db, services.config, services.clock, services.search)  # the defaults
    made = await batch.reserve([{"wa_id": f"96650550{n:04d}", "date": SUNDAY, "time_slot": slot}
                                for n, slot in enumerate(["11:00"] * 5 + ["13:00"] * 5)], BatchOptions(confirmed=True))
    ids = [item.reservation_id for item in made.items]

    def cancels(start: int) -> list[dict[str, object]]:
        return [{"reservation_id": i} for i in ids[start:start + 3]]
    amal, basil = by_person(AMAL, agent=True, confirmed=False), by_person(BASIL, agent=True, confirmed=False)
    statuses = [(await batch.cancel(cancels(0), options=amal)).status,
                (await batch.cancel(cancels(3), options=basil)).status,  # five a turn: Basil's agent spent none
                (await batch.cancel(cancels(6), options=amal)).status]  # Amal's agent would reach six
    assert statuses == ["applied", "applied", "needs_confirmation"]
