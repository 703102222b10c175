"""The calendar state's slot counters agree with a recount of its bookings, whatever happens to them."""

import random
from datetime import date

from domain.rules.capacity import SlotOccupancy
from domain.rules.planning import ACTIVE, CANCELLED, Booking, CalendarState, Change

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
