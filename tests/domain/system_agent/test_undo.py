"""An undo is a batch like any other (capacity and confirmation, its own record, undoable, never half done);
confirmation tokens hold across instances and restarts."""

import asyncio

import pytest
from sqlalchemy import func, select

from domain.services import Services, build_services
from domain.config import BookingSource
from domain.errors import DomainError
from domain.storage.models import BatchRecord, Notice
from domain.system_agent.batch import BatchOptions
from tests.conftest import PER_CALL, FixedClock

SUNDAY, MONDAY = "2026-12-06", "2026-12-07"
YES = BatchOptions(confirmed=True)


def wa(n: int) -> str:
    return f"9665014{n:05d}"


async def book(services: Services, count: int, day: str = SUNDAY, slot: str = "11:00", start: int = 0) -> list[int]:
    report = await services.batch.reserve(
        [{"wa_id": wa(n), "date": day, "time_slot": slot} for n in range(start, start + count)], YES)
    return [i.reservation_id for i in report.items if i.reservation_id is not None]


async def book_25(services: Services) -> None:
    """25 reservations on Sunday and Monday: a cancel of both days is over the threshold of 20."""
    for slot, start in (("11:00", 0), ("13:00", 5), ("15:00", 10)):
        await book(services, 5, slot=slot, start=start)
    await book(services, 5, day=MONDAY, slot="11:00", start=20)
    await book(services, 5, day=MONDAY, slot="13:00", start=25)


async def active(services: Services, day: str, slot: str = "11:00") -> int:
    [entry] = await services.availability.search(day, only_available=False)
    booked: int = next(s["booked"] for s in entry["slots"] if s["time_slot"] == slot)
    return booked


async def records(services: Services) -> int:
    async with services.db.unit_of_work() as session:
        return int(await session.scalar(select(func.count()).select_from(BatchRecord)) or 0)


async def test_a_large_undo_asks_first_and_changes_nothing_until_confirmed(services: Services) -> None:
    for day, first in ((SUNDAY, 0), (MONDAY, 20)):
        for slot, start in (("11:00", 0), ("13:00", 5), ("15:00", 10)):
            await book(services, 5, day=day, slot=slot, start=first + start)
    cancelled = await services.batch.cancel(filters={"dates": [SUNDAY, MONDAY]}, options=YES)
    assert cancelled.batch_id is not None
    asked = await services.batch.undo(cancelled.batch_id)
    assert asked.status == "needs_confirmation" and asked.confirmation is not None
    assert await active(services, SUNDAY) == 0
    token = asked.confirmation.token
    undone = await services.batch.undo(cancelled.batch_id, BatchOptions(confirmation_token=token))
    assert undone.status == "applied" and await active(services, SUNDAY) == 5


async def test_an_undo_books_with_the_agents_capacity(services: Services) -> None:
    ids = await book(services, 5)
    cancelled = await services.batch.cancel([{"reservation_id": ids[0]}])
    assert cancelled.batch_id is not None
    await services.reservations.reserve(wa(50), SUNDAY, "11:00")  # the freed place is taken again
    undone = await services.batch.undo(cancelled.batch_id)
    assert undone.status == "failed" and undone.items[0].error is not None
    assert undone.items[0].error.code == "slot_full" and await active(services, SUNDAY) == 5


async def test_an_undo_whose_items_all_failed_leaves_the_batch_undoable(services: Services) -> None:
    ids = await book(services, 5)
    cancelled = await services.batch.cancel([{"reservation_id": ids[0]}])
    assert cancelled.batch_id is not None
    taken = await services.reservations.reserve(wa(50), SUNDAY, "11:00")
    assert (await services.batch.undo(cancelled.batch_id)).status == "failed"
    assert taken.reservation is not None
    await services.reservations.cancel(wa(50), taken.reservation.id)
    again = await services.batch.undo(cancelled.batch_id)
    assert again.status == "applied" and await active(services, SUNDAY) == 5


async def test_an_undo_has_its_own_record_and_can_itself_be_undone(services: Services) -> None:
    await book(services, 3)
    cancelled = await services.batch.cancel(filters={"dates": [SUNDAY]})
    assert cancelled.batch_id is not None
    undone = await services.batch.undo(cancelled.batch_id)
    assert undone.batch_id not in (None, cancelled.batch_id) and await active(services, SUNDAY) == 3
    assert undone.batch_id is not None
    redone = await services.batch.undo(undone.batch_id)
    assert redone.status == "applied" and await active(services, SUNDAY) == 0
    assert await records(services) == 1 + 3  # the booking, the cancel, the undo, the undo of the undo


async def test_undoing_a_move_with_a_new_number_restores_day_and_number(services: Services) -> None:
    [reservation] = await book(services, 1)
    await services.customers.ensure(wa(0), "Sara Khan")
    moved = await services.batch.modify(
        [{"reservation_id": reservation, "new_date": MONDAY, "new_wa_id": wa(99), "new_name": "Sara K."}])
    assert moved.status == "applied" and moved.batch_id is not None
    undone = await services.batch.undo(moved.batch_id)
    assert undone.counts() == {"ok": 2}
    [back] = await services.reservations.customer_reservations(wa(0))
    assert (back.id, back.date) == (reservation, SUNDAY)
    customer = await services.customers.get(wa(0))
    assert customer is not None and customer.name == "Sara Khan"
    assert await services.customers.get(wa(99)) is None


async def test_concurrent_undos_of_one_batch_make_one_undo(services: Services) -> None:
    await book(services, 4)
    cancelled = await services.batch.cancel(filters={"dates": [SUNDAY]})
    assert cancelled.batch_id is not None
    batch_id = cancelled.batch_id
    outcomes = await asyncio.gather(*(services.batch.undo(batch_id) for _ in range(4)), return_exceptions=True)
    applied = [o for o in outcomes if not isinstance(o, BaseException) and o.status == "applied"]
    refused = [o for o in outcomes if isinstance(o, DomainError) and o.code == "batch_already_undone"]
    assert (len(applied), len(refused)) == (1, 3), outcomes
    assert await active(services, SUNDAY) == 4 and await records(services) == 3


async def test_an_undo_by_the_operator_ui_may_use_the_operators_capacity(services: Services) -> None:
    ids = await book(services, 5)
    cancelled = await services.batch.cancel([{"reservation_id": ids[0]}])
    assert cancelled.batch_id is not None
    await services.reservations.reserve(wa(50), SUNDAY, "11:00")
    undone = await services.batch.undo(cancelled.batch_id, BatchOptions(source=BookingSource.OPERATOR))
    assert undone.status == "applied" and await active(services, SUNDAY) == 6


@pytest.mark.parametrize("batch_id", ["no-such-batch", "x" * 10_000])
async def test_an_unknown_batch_is_a_clear_error(services: Services, batch_id: str) -> None:
    with pytest.raises(DomainError) as error:
        await services.batch.undo(batch_id)
    assert error.value.code == "batch_not_found" and len(error.value.message()) < 120


async def test_a_token_from_one_instance_works_once_on_another_and_stays_used_after_a_restart(
    services: Services, clock: FixedClock
) -> None:
    await book_25(services)
    filters = {"dates": [SUNDAY, MONDAY]}
    first, second, restarted = (build_services(services.config, services.db, clock, limits=PER_CALL) for _ in range(3))
    asked = await first.batch.cancel(filters=filters)
    assert asked.status == "needs_confirmation" and asked.confirmation is not None
    token = BatchOptions(confirmation_token=asked.confirmation.token)
    applied = await second.batch.cancel(filters=filters, options=token)
    assert applied.status == "applied" and await active(services, SUNDAY) == 0
    await first.batch.undo(applied.batch_id or "", YES)
    with pytest.raises(DomainError) as reused:
        await restarted.batch.cancel(filters=filters, options=token)
    assert reused.value.code == "confirmation_invalid" and await active(services, SUNDAY) == 5


async def test_instances_with_other_configured_secrets_refuse_each_others_tokens(
    services: Services, clock: FixedClock
) -> None:
    await book_25(services)
    ours = build_services(services.config, services.db, clock, confirmation_secret=b"ours", limits=PER_CALL)
    theirs = build_services(services.config, services.db, clock, confirmation_secret=b"theirs", limits=PER_CALL)
    asked = await ours.batch.cancel(filters={"dates": [SUNDAY, MONDAY]})
    assert asked.confirmation is not None
    with pytest.raises(DomainError) as refused:
        await theirs.batch.cancel(filters={"dates": [SUNDAY, MONDAY]},
                                  options=BatchOptions(confirmation_token=asked.confirmation.token))
    assert refused.value.code == "confirmation_invalid"


async def test_undoing_a_message_batch_withdraws_what_is_not_sent_yet_and_says_what_was(services: Services) -> None:
    for n in range(3):
        await services.customers.ensure(wa(n), f"Patient {n}")
    sent = await services.batch.message("The clinic opens at noon tomorrow.", wa_ids=[wa(0), wa(1), wa(2)])
    assert sent.status == "applied" and sent.batch_id is not None
    outbox = services.outbox
    [first], _ = await outbox.claim("sender", 1)
    assert await outbox.attempt(first.id, "sender")
    await outbox.sent_many([(first.id, "wamid.first")])
    [held], _ = await outbox.claim("sender", 1)  # claimed, its send not begun yet

    undone = await services.batch.undo(sent.batch_id)

    assert undone.status == "applied"
    outcomes = {(i.wa_id, i.status, i.action, i.error.code if i.error else None) for i in undone.items}
    assert outcomes == {(wa(0), "failed", None, "message_already_sent"), (wa(1), "ok", "withdrawn", None),
                        (wa(2), "ok", "withdrawn", None)}
    assert [i.error.message() for i in undone.items if i.error] == [
        "The message to this customer is already sent: it cannot be taken back."]
    assert await outbox.attempt(held.id, "sender") is False  # the sender that held it may not begin it now
    assert await outbox.claim("sender", 10) == ([], [])
    async with services.db.reading() as session:
        statuses = dict((await session.execute(select(Notice.wa_id, Notice.status))).all())
    assert statuses == {wa(0): "sent", wa(1): "skipped", wa(2): "skipped"}
    again = await services.batch.undo(undone.batch_id or "")
    assert again.status == "failed"
    assert {i.error.code for i in again.items if i.error} == {"message_not_requeued"}


def test_a_batchs_request_is_kept_on_one_line_and_cut_and_anything_but_text_is_no_request() -> None:
    assert BatchOptions(request="move\r\n  Sunday\u2028to Monday").request == "move Sunday to Monday"
    huge = BatchOptions(request="ا" * 1_000_000).request
    assert huge is not None and len(huge) == 300 and huge.endswith("…")
    assert BatchOptions.model_validate({"request": {"text": "cancel all"}}).request is None
    assert BatchOptions(request="   ").request is None
