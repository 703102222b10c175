"""The calendar state's slot counters agree with a recount of its bookings, whatever happens to them."""

import random
from datetime import UTC, date, datetime

from domain.config import BookingSource, ClinicConfig
from domain.errors import DomainError
from domain.rules.capacity import SlotOccupancy
from domain.rules.planning import (
    ACTIVE, CANCELLED, Booking, CalendarState, Change, RuleContext, plan_modify, plan_moves,
)

DAYS = [date(2026, 12, 6), date(2026, 12, 7)]
SLOTS = ["11:00", "13:00"]


def recount(state: CalendarState, slot: tuple[date, str], excluding: int | None) -> SlotOccupancy:
    counts = SlotOccupancy()
    for booking in state.in_slot(slot):
        if booking.status == ACTIVE and booking.id != excluding:
            counts.add(booking.type)
    return counts


def test_slot_counters_match_a_recount_after_any_sequence_of_changes() -> None:
    rng = random.Random(11)
    state = CalendarState.of(Booking(n, f"9665{n:08d}", rng.choice(DAYS), rng.choice(SLOTS), rng.randint(0, 1),
                                     ACTIVE) for n in range(1, 40))
    for _ in range(2_000):
        booking = state.bookings[rng.randint(1, 39)]
        changed = Booking(booking.id, booking.wa_id, rng.choice(DAYS), rng.choice(SLOTS), rng.randint(0, 1),
                          rng.choice([ACTIVE, ACTIVE, CANCELLED]))
        state.apply(Change("modified", booking, changed))
        slot, excluding = (rng.choice(DAYS), rng.choice(SLOTS)), rng.choice([None, rng.randint(1, 39)])
        counted, kept = recount(state, slot, excluding), state.occupancy(slot, excluding)
        assert kept.total == counted.total
        assert {t: n for t, n in kept.by_type.items() if n} == counted.by_type


def test_a_customers_bookings_stay_right_whether_asked_for_before_or_after_changes() -> None:
    rng = random.Random(12)
    state = CalendarState.of(Booking(n, f"9665{n % 7:08d}", rng.choice(DAYS), rng.choice(SLOTS), 0, ACTIVE)
                             for n in range(1, 40))
    for step in range(500):
        booking = state.bookings[rng.randint(1, 39)]
        state.apply(Change("modified", booking, Booking(booking.id, f"9665{rng.randint(0, 6):08d}", booking.date,
                                                        booking.time_slot, 0, rng.choice([ACTIVE, CANCELLED]))))
        if step % 50 == 0:
            wa_id = f"9665{rng.randint(0, 6):08d}"
            assert sorted(b.id for b in state.of_customer(wa_id)) == sorted(
                b.id for b in state.bookings.values() if b.wa_id == wa_id)


def _copy(state: CalendarState) -> CalendarState:
    return CalendarState.of(state.bookings.values())


def test_a_group_planned_move_is_what_planning_each_item_in_turn_gives_or_is_not_made() -> None:
    """`plan_moves` answers once per group of items sharing their slot; whenever it answers, each item planned
    alone (`plan_modify`, in order) gives the same changes and counters, and it declines whenever one would fail."""
    rng = random.Random(13)
    now = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)  # Saturday 10:00 in Riyadh
    config = ClinicConfig().model_copy(update={"capacity": {s: 9 for s in BookingSource}, "type_capacity": {1: 5}})
    days = [date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 7)]  # a slot of the first is over at 13:00
    slots = ["11:00", "13:00", "15:00"]
    grouped = declined = 0
    for _ in range(400):
        ctx = RuleContext(config, now, [])
        state = CalendarState.of(
            Booking(n, f"9665{n:08d}", rng.choice(days), rng.choice(slots), rng.choice([0, 0, 1]),
                    rng.choice([ACTIVE] * 9 + [CANCELLED])) for n in range(1, rng.randint(2, 30)))
        targets = [b for b in state.bookings.values() if rng.random() < 0.5] or [state.bookings[1]]
        new_date = rng.choice([None, *days])
        new_time = rng.choice([None, *slots]) if new_date else rng.choice(slots)
        alone = _copy(state)
        outcomes: list[Change | DomainError] = []
        for target in targets:
            try:
                outcomes.append(plan_modify(ctx, alone, alone.bookings[target.id], new_date, new_time))
            except DomainError as error:
                outcomes.append(error)
        moves = plan_moves(RuleContext(config, now, []), state, targets, new_date, new_time)
        if moves is None:
            declined += 1
            continue
        grouped += 1
        assert moves == outcomes
        for key in [(day, slot) for day in days for slot in slots]:
            ours, theirs = state.occupancy(key), alone.occupancy(key)
            assert (ours.total, {t: n for t, n in ours.by_type.items() if n}) == (
                theirs.total, {t: n for t, n in theirs.by_type.items() if n})
    assert grouped > 50 and declined > 50  # both answers were exercised
