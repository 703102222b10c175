"""ReservationService on real SQLite and PostgreSQL."""

from datetime import UTC, datetime

import pytest

from domain.services import Services
from domain.config import BookingSource
from domain.errors import DomainError
from domain.system_agent.batch import BatchOptions
from tests.conftest import FixedClock

SUNDAY = "2026-12-06"
CUSTOMER = "966501234567"


def customer(n: int) -> str:
    return f"9665012{n:05d}"


async def fill(services: Services, day: str, slot: str, count: int, start: int = 100) -> None:
    for n in range(start, start + count):
        await services.reservations.reserve(customer(n), day, slot, source=BookingSource.OPERATOR)


async def test_reserve_creates_an_active_reservation_with_its_zone(services: Services) -> None:
    result = await services.reservations.reserve("+966 50 123 4567", SUNDAY, "1:00 PM", 0, "Sara")
    assert result.action == "created"
    assert result.reservation is not None
    assert result.reservation.wa_id == CUSTOMER
    assert result.reservation.time_slot == "13:00"
    assert result.reservation.time_label == "1:00 PM"
    assert result.reservation.timezone == "Asia/Riyadh"
    assert result.reservation.customer_name == "Sara"


async def test_second_reservation_moves_the_upcoming_one(services: Services) -> None:
    first = await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    second = await services.reservations.reserve(CUSTOMER, "2026-12-07", "13:00")
    assert second.action == "moved"
    assert second.reservation is not None and first.reservation is not None
    assert second.reservation.id == first.reservation.id
    assert second.previous is not None and second.previous.date == SUNDAY
    assert len(await services.reservations.customer_reservations(CUSTOMER)) == 1


async def test_reserving_a_cancelled_slot_again_reinstates_the_row(services: Services) -> None:
    first = await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    await services.reservations.cancel(CUSTOMER)
    again = await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    assert again.action == "reinstated"
    assert again.reservation is not None and first.reservation is not None
    assert again.reservation.id == first.reservation.id
    assert again.reservation.status == "active"


async def test_agent_bookings_stop_at_five(services: Services) -> None:
    for n in range(5):
        await services.reservations.reserve(customer(n), SUNDAY, "11:00")
    with pytest.raises(DomainError) as error:
        await services.reservations.reserve(customer(9), SUNDAY, "11:00")
    assert error.value.code == "slot_full"


async def test_an_operator_may_book_the_sixth_place(services: Services) -> None:
    await fill(services, SUNDAY, "11:00", 5)
    result = await services.reservations.reserve(customer(9), SUNDAY, "11:00", source=BookingSource.OPERATOR)
    assert result.action == "created"
    with pytest.raises(DomainError):
        await services.reservations.reserve(customer(10), SUNDAY, "11:00", source=BookingSource.OPERATOR)


async def test_a_lower_max_reservations_is_respected(services: Services) -> None:
    await fill(services, SUNDAY, "11:00", 2)
    with pytest.raises(DomainError) as error:
        await services.reservations.reserve(customer(9), SUNDAY, "11:00", max_reservations=2)
    assert error.value.code == "slot_full"


async def test_reserving_in_the_past_is_refused(services: Services) -> None:
    with pytest.raises(DomainError) as error:
        await services.reservations.reserve(CUSTOMER, "2026-11-29", "11:00")
    assert error.value.code == "past_date"


async def test_reserving_in_a_vacation_names_it(services: Services) -> None:
    await services.vacations.add("2026-12-06", "2026-12-08", "Winter break")
    with pytest.raises(DomainError) as error:
        await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    assert error.value.code == "vacation"
    assert "Winter break" in error.value.message()


async def test_invalid_phone_number_is_a_clear_error(services: Services) -> None:
    with pytest.raises(DomainError) as error:
        await services.reservations.reserve("12345", SUNDAY, "11:00")
    assert error.value.code == "invalid_wa_id"


async def test_modify_by_id_changes_time_and_type(services: Services) -> None:
    booked = await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    assert booked.reservation is not None
    changed = await services.reservations.modify(
        CUSTOMER, booked.reservation.id, new_time="15:00", new_type=1
    )
    assert changed.reservation is not None
    assert (changed.reservation.time_slot, changed.reservation.type) == ("15:00", 1)


async def test_modify_without_id_targets_the_nearest_upcoming(services: Services) -> None:
    await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    changed = await services.reservations.modify(CUSTOMER, new_date="2026-12-08")
    assert changed.action == "moved"
    assert changed.reservation is not None and changed.reservation.date == "2026-12-08"


async def test_modify_checks_capacity_excluding_itself(services: Services) -> None:
    await fill(services, SUNDAY, "11:00", 4)
    mine = await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    assert mine.reservation is not None
    changed = await services.reservations.modify(CUSTOMER, mine.reservation.id, new_type=1)
    assert changed.reservation is not None and changed.reservation.type == 1


async def test_modify_into_a_full_slot_is_refused(services: Services) -> None:
    await fill(services, SUNDAY, "13:00", 5)
    await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    with pytest.raises(DomainError) as error:
        await services.reservations.modify(CUSTOMER, new_time="13:00")
    assert error.value.code == "slot_full"


async def test_another_customers_id_is_not_found(services: Services) -> None:
    other = await services.reservations.reserve(customer(1), SUNDAY, "11:00")
    await services.reservations.reserve(CUSTOMER, SUNDAY, "13:00")
    assert other.reservation is not None
    with pytest.raises(DomainError) as error:
        await services.reservations.modify(CUSTOMER, other.reservation.id, new_time="15:00")
    assert error.value.code == "reservation_not_found"


async def test_new_wa_id_moves_reservations_and_conversation(services: Services) -> None:
    await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00", customer_name="Omar")
    await services.conversations.append(CUSTOMER, "user", "hello")
    new = "966551112222"
    changed = await services.reservations.modify(CUSTOMER, new_wa_id="+966 55 111 2222")
    assert changed.action == "modified"
    assert await services.reservations.customer_reservations(CUSTOMER) == []
    moved = await services.reservations.customer_reservations(new)
    assert len(moved) == 1 and moved[0].customer_name == "Omar"
    assert [m.text for m in await services.conversations.page(new)] == ["hello"]


async def test_new_wa_id_that_belongs_to_someone_else_is_refused(services: Services) -> None:
    await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    await services.reservations.reserve(customer(1), SUNDAY, "11:00")
    with pytest.raises(DomainError) as error:
        await services.reservations.modify(CUSTOMER, new_wa_id=customer(1))
    assert error.value.code == "wa_id_taken"


async def test_modify_renames_the_customer(services: Services) -> None:
    await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00", customer_name="Sara")
    changed = await services.reservations.modify(CUSTOMER, new_name="Sarah Ali")
    assert changed.action == "modified"
    customer_row = await services.customers.get(CUSTOMER)
    assert customer_row is not None and customer_row.name == "Sarah Ali"


async def test_modify_with_nothing_to_change_says_so(services: Services) -> None:
    with pytest.raises(DomainError) as error:
        await services.reservations.modify(CUSTOMER)
    assert error.value.code == "nothing_to_change"


async def test_cancel_is_a_soft_delete(services: Services) -> None:
    await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    result = await services.reservations.cancel(CUSTOMER)
    assert result.action == "cancelled"
    assert await services.reservations.customer_reservations(CUSTOMER) == []
    kept = await services.reservations.customer_reservations(CUSTOMER, include_cancelled=True)
    assert [r.status for r in kept] == ["cancelled"]


async def test_cancelling_twice_says_already_cancelled(services: Services) -> None:
    booked = await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    assert booked.reservation is not None
    await services.reservations.cancel(CUSTOMER, booked.reservation.id)
    with pytest.raises(DomainError) as error:
        await services.reservations.cancel(CUSTOMER, booked.reservation.id)
    assert error.value.code == "already_cancelled"


async def test_past_reservations_cannot_be_cancelled(services: Services, clock: object) -> None:
    booked = await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    assert booked.reservation is not None
    clock.now = datetime(2026, 12, 8, 7, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    with pytest.raises(DomainError) as error:
        await services.reservations.cancel(CUSTOMER, booked.reservation.id)
    assert error.value.code == "past_reservation"


async def test_undoing_a_cancel_restores_when_capacity_allows(services: Services) -> None:
    booked = await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    assert booked.reservation is not None
    cancelled = await services.batch.cancel([{"reservation_id": booked.reservation.id}])
    assert cancelled.batch_id is not None
    [item] = (await services.batch.undo(cancelled.batch_id)).items
    assert (item.status, item.error) == ("ok", None)
    [mine] = await services.reservations.customer_reservations(CUSTOMER)
    assert (mine.id, mine.status) == (booked.reservation.id, "active")


async def test_undoing_a_cancel_into_a_full_slot_is_refused(services: Services) -> None:
    booked = await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    assert booked.reservation is not None
    cancelled = await services.batch.cancel([{"reservation_id": booked.reservation.id}])
    assert cancelled.batch_id is not None
    await fill(services, SUNDAY, "11:00", 5)
    [item] = (await services.batch.undo(cancelled.batch_id)).items
    assert (item.status, item.error.code if item.error else None) == ("failed", "slot_full")
    assert await services.reservations.customer_reservations(CUSTOMER) == []


async def test_cancelling_a_no_show_is_refused_by_name_and_changes_nothing(services: Services,
                                                                          clock: FixedClock) -> None:
    booked = await services.reservations.reserve(CUSTOMER, "2026-12-01", "11:00", source=BookingSource.OPERATOR)
    assert booked.reservation is not None
    clock.now = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)  # 11:30 in Riyadh: the slot has started, not ended
    marked = await services.batch.mark_attendance("no_show", [booked.reservation.id],
                                                  options=BatchOptions(confirmed=True))
    assert marked.status == "applied"
    with pytest.raises(DomainError) as error:
        await services.reservations.cancel(CUSTOMER, booked.reservation.id)
    assert error.value.code == "reservation_no_show"
    assert error.value.message() == "This booking is marked a no-show; it cannot be cancelled or changed."
    kept = await services.reservations.customer_reservations(CUSTOMER, include_past=True, include_cancelled=True)
    assert [r.status for r in kept] == ["no_show"]
