"""SystemAgentBatchService on real SQLite and PostgreSQL."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from domain.services import Services
from domain.config import BookingSource
from domain.errors import DomainError
from domain.storage.models import Reservation
from domain.system_agent.batch import BatchOptions
from domain.views import ReservationView
from tests.conftest import FixedClock

SUNDAY, MONDAY, TUESDAY = "2026-12-06", "2026-12-07", "2026-12-08"


def wa(n: int) -> str:
    return f"9665013{n:05d}"


async def book(services: Services, count: int, day: str = SUNDAY, slot: str = "11:00", start: int = 0) -> list[int]:
    report = await services.batch.reserve(
        [{"wa_id": wa(n), "date": day, "time_slot": slot} for n in range(start, start + count)],
        BatchOptions(source=BookingSource.OPERATOR),
    )
    return [i.reservation_id for i in report.items if i.reservation_id is not None]


async def active_on(services: Services, day: str) -> list[dict[str, Any]]:
    [entry] = await services.availability.search(day, only_available=False)
    return [dict(slot) for slot in entry["slots"]]


async def test_batch_reserve_reports_each_item(services: Services) -> None:
    report = await services.batch.reserve([
        {"wa_id": wa(1), "date": SUNDAY, "time_slot": "11:00", "customer_name": "Sara"},
        {"wa_id": "123", "date": SUNDAY, "time_slot": "11:00"},
        {"wa_id": wa(2), "date_str": "06-12-2026", "time_slot": "1:00 PM", "type": 1},
    ])
    assert [(i.status, i.action) for i in report.items] == [("ok", "created"), ("failed", None), ("ok", "created")]
    assert report.items[1].error is not None and report.items[1].error.code == "invalid_wa_id"
    assert report.status == "applied" and report.batch_id is not None
    assert report.to_dict()["summary"]["ok"] == 2


async def test_batch_reserve_applies_earlier_items_to_capacity(services: Services) -> None:
    report = await services.batch.reserve([{"wa_id": wa(n), "date": SUNDAY, "time_slot": "11:00"} for n in range(7)])
    assert [i.status for i in report.items] == ["ok"] * 5 + ["failed"] * 2
    assert {i.error.code for i in report.items if i.error} == {"slot_full"}


async def test_batch_reserve_moves_a_customers_upcoming_reservation(services: Services) -> None:
    await services.reservations.reserve(wa(1), SUNDAY, "11:00")
    report = await services.batch.reserve([{"wa_id": wa(1), "date": MONDAY, "time_slot": "13:00"}])
    assert report.items[0].action == "moved"
    assert len(await services.reservations.customer_reservations(wa(1))) == 1


async def test_unknown_fields_fail_their_item_only(services: Services) -> None:
    report = await services.batch.reserve([
        {"wa_id": wa(1), "date": SUNDAY, "time_slot": "11:00", "colour": "red"},
        {"wa_id": wa(2), "date": SUNDAY, "time_slot": "11:00"},
    ])
    assert [i.status for i in report.items] == ["failed", "ok"]
    assert report.items[0].error is not None and "Unknown field 'colour'" in report.items[0].error.message()


async def test_an_empty_batch_is_refused(services: Services) -> None:
    with pytest.raises(DomainError) as error:
        await services.batch.reserve([])
    assert error.value.code == "invalid_batch"


async def test_an_oversized_batch_is_refused(services: Services) -> None:
    with pytest.raises(DomainError) as error:
        await services.batch.reserve([{}] * 10_001)
    assert error.value.code == "invalid_batch"


async def test_atomic_batch_writes_nothing_when_one_item_fails(services: Services) -> None:
    report = await services.batch.reserve(
        [{"wa_id": wa(1), "date": SUNDAY, "time_slot": "11:00"}, {"wa_id": wa(2), "date": "2026-12-04", "time_slot": "11:00"}],
        BatchOptions(mode="atomic"),
    )
    assert report.status == "rolled_back"
    assert [i.status for i in report.items] == ["skipped", "failed"]
    assert await services.reservations.customer_reservations(wa(1)) == []


async def test_dry_run_reports_and_writes_nothing(services: Services) -> None:
    report = await services.batch.reserve([{"wa_id": wa(1), "date": SUNDAY, "time_slot": "11:00"}],
                                          BatchOptions(dry_run=True))
    assert report.status == "dry_run" and report.items[0].action == "created"
    assert await services.reservations.customer_reservations(wa(1)) == []


async def test_a_retry_with_the_same_idempotency_key_changes_nothing(services: Services) -> None:
    options = BatchOptions(idempotency_key="move-1")
    request = [{"wa_id": wa(1), "date": SUNDAY, "time_slot": "11:00"}]
    first = await services.batch.reserve(request, options)
    again = await services.batch.reserve(request, options)
    assert again.status == "replayed" and again.batch_id == first.batch_id
    assert again.to_dict()["summary"] == first.to_dict()["summary"]
    [kept] = await services.reservations.customer_reservations(wa(1))
    assert kept.date == SUNDAY


async def test_an_idempotency_key_is_bound_to_its_arguments(services: Services) -> None:
    options = BatchOptions(idempotency_key="move-1")
    await services.batch.reserve([{"wa_id": wa(1), "date": SUNDAY, "time_slot": "11:00"}], options)
    with pytest.raises(DomainError) as refused:
        await services.batch.reserve([{"wa_id": wa(1), "date": MONDAY, "time_slot": "11:00"}], options)
    assert refused.value.code == "idempotency_key_reused"
    [kept] = await services.reservations.customer_reservations(wa(1))
    assert kept.date == SUNDAY


async def test_modify_by_filters_moves_a_whole_day(services: Services) -> None:
    await book(services, 4)
    await book(services, 3, slot="13:00", start=10)
    report = await services.batch.modify(filters={"dates": [SUNDAY]}, updates={"new_date": TUESDAY})
    assert report.counts()["ok"] == 7
    assert [s["booked"] for s in await active_on(services, SUNDAY)] == [0, 0, 0]
    assert [s["booked"] for s in await active_on(services, TUESDAY)] == [4, 3, 0]


async def test_modify_by_filters_reports_what_does_not_fit(services: Services) -> None:
    await book(services, 6)
    report = await services.batch.modify(filters={"dates": [SUNDAY]}, updates={"new_date": MONDAY})
    assert report.counts() == {"ok": 5, "failed": 1}
    assert [i.error.code for i in report.items if i.error] == ["slot_full"]


async def test_modify_requests_change_name_and_number(services: Services) -> None:
    await services.reservations.reserve(wa(1), SUNDAY, "11:00", customer_name="Omar")
    report = await services.batch.modify([{"wa_id": wa(1), "new_name": "Omar Saleh", "new_wa_id": "966551112222"}])
    assert report.items[0].status == "ok"
    moved = await services.reservations.customer_reservations("966551112222")
    assert moved[0].customer_name == "Omar Saleh"


async def test_modify_filters_need_updates(services: Services) -> None:
    with pytest.raises(DomainError) as error:
        await services.batch.modify(filters={"dates": [SUNDAY]}, updates={})
    assert error.value.code == "invalid_batch"


async def test_another_customers_reservation_id_is_not_found(services: Services) -> None:
    [theirs] = await book(services, 1)
    report = await services.batch.modify([{"reservation_id": theirs, "wa_id": wa(99), "new_time": "13:00"}])
    assert report.items[0].error is not None and report.items[0].error.code == "reservation_not_found"


async def test_cancel_by_filters_cancels_every_match(services: Services) -> None:
    await book(services, 3)
    await book(services, 2, day=MONDAY, start=10)
    report = await services.batch.cancel(filters={"start_date": SUNDAY, "end_date": SUNDAY})
    assert report.counts()["ok"] == 3
    assert [s["booked"] for s in await active_on(services, MONDAY)][0] == 2


async def test_a_cancel_by_fuzzy_name_is_asked_about_whatever_its_size(services: Services) -> None:
    await services.reservations.reserve(wa(1), SUNDAY, "11:00", customer_name="Layla Hassan")
    await services.reservations.reserve(wa(2), SUNDAY, "11:00", customer_name="Khalid Omar")
    report = await services.batch.cancel(filters={"search_query": "layla"})
    assert [i.wa_id for i in report.items] == [wa(1)]
    assert report.status == "needs_confirmation" and report.confirmation is not None
    assert [c["name"] for c in report.confirmation.preview.matched_customers or []] == ["Layla Hassan"]
    assert len(await services.reservations.customer_reservations(wa(1))) == 1
    token = report.confirmation.token
    applied = await services.batch.cancel(filters={"search_query": "layla"},
                                          options=BatchOptions(confirmation_token=token))
    assert applied.status == "applied" and applied.matched is not None
    assert await services.reservations.customer_reservations(wa(1)) == []


async def test_large_destructive_batch_asks_for_confirmation(services: Services) -> None:
    await book(services, 5)
    await book(services, 5, slot="13:00", start=10)
    await book(services, 5, slot="15:00", start=20)
    await book(services, 5, day=MONDAY, start=30)
    await book(services, 1, day=MONDAY, slot="13:00", start=40)
    report = await services.batch.cancel(filters={"start_date": SUNDAY, "end_date": MONDAY})
    assert report.status == "needs_confirmation" and report.confirmation is not None
    assert report.confirmation.preview.reservations == 21
    assert report.confirmation.preview.days == {SUNDAY: 15, MONDAY: 6}
    assert sum(s["booked"] for s in await active_on(services, SUNDAY)) == 15
    token = report.confirmation.token
    done = await services.batch.cancel(filters={"start_date": SUNDAY, "end_date": MONDAY},
                                       options=BatchOptions(confirmation_token=token))
    assert done.status == "applied" and done.counts()["ok"] == 21


async def test_a_confirmation_token_works_once_and_only_for_its_change(services: Services) -> None:
    for start, day in ((0, SUNDAY), (10, MONDAY), (20, TUESDAY), (30, "2026-12-09"), (40, "2026-12-10")):
        await book(services, 5, day=day, start=start)
    filters = {"start_date": SUNDAY, "end_date": "2026-12-10"}
    report = await services.batch.cancel(filters=filters)
    assert report.confirmation is not None
    token = report.confirmation.token
    with pytest.raises(DomainError) as other:
        await services.batch.cancel(filters=dict(filters, time_slots=["11:00"]),
                                    options=BatchOptions(confirmation_token=token))
    assert other.value.code == "confirmation_invalid"
    applied = await services.batch.cancel(filters=filters, options=BatchOptions(confirmation_token=token))
    assert applied.batch_id is not None
    await services.batch.undo(applied.batch_id, BatchOptions(confirmed=True))  # the change is possible again; the token is not
    with pytest.raises(DomainError) as reused:
        await services.batch.cancel(filters=filters, options=BatchOptions(confirmation_token=token))
    assert reused.value.code == "confirmation_invalid"


async def test_undo_reverts_a_batch(services: Services) -> None:
    await book(services, 3)
    moved = await services.batch.modify(filters={"dates": [SUNDAY]}, updates={"new_date": MONDAY})
    assert moved.batch_id is not None
    undone = await services.batch.undo(moved.batch_id)
    assert undone.counts()["ok"] == 3
    assert [s["booked"] for s in await active_on(services, SUNDAY)][0] == 3
    with pytest.raises(DomainError) as again:
        await services.batch.undo(moved.batch_id)
    assert again.value.code == "batch_already_undone"


async def test_undo_skips_what_changed_since(services: Services) -> None:
    ids = await book(services, 2)
    cancelled = await services.batch.cancel([{"reservation_id": i} for i in ids])
    assert cancelled.batch_id is not None
    async with services.db.unit_of_work() as session:  # another writer restores one of them meanwhile
        await session.execute(update(Reservation).where(Reservation.id == ids[0]).values(status="active"))
    undone = await services.batch.undo(cancelled.batch_id)
    codes = {i.reservation_id: (i.status, i.error.code if i.error else None) for i in undone.items}
    assert codes == {ids[0]: ("failed", "changed_since"), ids[1]: ("ok", None)}


async def test_summary_answer_keeps_at_most_fifty_rows(services: Services) -> None:
    requests = [{"wa_id": wa(n), "date": day, "time_slot": slot}
                for n, (day, slot) in enumerate((d, s) for d in (SUNDAY, MONDAY, TUESDAY, "2026-12-09")
                                                 for s in ("11:00", "13:00", "15:00") for _ in range(5))]
    report = await services.batch.reserve(requests)
    shaped = report.to_dict()
    assert len(shaped["items"]) == 50 and shaped["items_truncated"]
    assert len(report.to_dict("detailed")["items"]) == 60


async def test_progress_is_reported_for_long_batches(services: Services) -> None:
    seen: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        seen.append((done, total))

    requests = [{"wa_id": wa(n), "date": SUNDAY, "time_slot": "11:00"} for n in range(250)]
    await services.batch.reserve(requests, progress=progress)
    assert seen == [(100, 250), (200, 250), (250, 250)]


async def test_applied_batches_tell_the_calendars_listeners(services: Services) -> None:
    heard: list[str] = []

    async def listener(action: str, view: ReservationView) -> None:
        heard.append(f"{action}:{view.date}")

    services.events.listeners.append(listener)
    await services.batch.reserve([{"wa_id": wa(1), "date": SUNDAY, "time_slot": "11:00"}])
    await services.batch.reserve([{"wa_id": wa(2), "date": SUNDAY, "time_slot": "11:00"}], BatchOptions(dry_run=True))
    assert heard == [f"created:{SUNDAY}"]


async def test_a_booking_without_a_name_shows_the_name_on_record(services: Services) -> None:
    await services.customers.ensure(wa(1), "Layla Hassan")
    report = await services.batch.reserve([{"wa_id": wa(1), "date": SUNDAY, "time_slot": "11:00"}])
    [row] = report.to_dict("detailed")["items"]
    assert row["customer_name"] == "Layla Hassan"
    customer = await services.customers.get(wa(1))
    assert customer is not None and customer.name == "Layla Hassan"


async def test_a_message_counts_only_the_customers_it_reaches(services: Services) -> None:
    for n in range(3):
        await services.customers.ensure(wa(n), f"Patient {n}")
    await services.customers.set_flags(wa(1), notices_opt_out=True)
    report = await services.batch.message("The clinic opens at noon.", wa_ids=[wa(0), wa(1), wa(2)])
    assert report.status == "applied" and report.counts() == {"ok": 2, "skipped": 1}
    [left] = [i for i in report.items if i.status == "skipped"]
    assert (left.wa_id, left.error.code if left.error else None) == (wa(1), "customer_opted_out")
    assert report.notices is not None and report.notices["queued"] == 2


async def test_a_no_show_in_a_cancel_batch_fails_by_name_and_stays_a_no_show(services: Services,
                                                                            clock: FixedClock) -> None:
    today = "2026-12-01"  # the tests' today; its 11:00 slot has started at 11:30
    ids = await book(services, 2, day=today)
    clock.now = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    marked = await services.batch.mark_attendance("no_show", [ids[0]], options=BatchOptions(confirmed=True))
    assert marked.status == "applied"
    report = await services.batch.cancel([{"reservation_id": ids[0]}, {"reservation_id": ids[1]}],
                                         options=BatchOptions(confirmed=True))
    error = report.items[0].error
    assert error is not None and error.code == "reservation_no_show" and report.items[1].status == "ok"
    assert error.message() == "This booking is marked a no-show; it cannot be cancelled or changed."
    assert error.message(ar=True) == "هذا الحجز مسجَّل بعدم الحضور؛ لا يمكن إلغاؤه أو تغييره."
    async with services.db.reading() as session:
        rows = await session.execute(select(Reservation.id, Reservation.status))
        stored = {row[0]: str(row[1]) for row in rows}
    assert stored == {ids[0]: "no_show", ids[1]: "cancelled"}
