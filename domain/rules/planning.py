"""Pure planning of reservation changes over an in-memory calendar state.

The single-item services and the batch service both load a `CalendarState` for what they touch,
plan every item with these functions (each plan updates the state, so later items of a batch see
earlier ones), and write the resulting changes. The rules are written once, here and in
`schedule` and `capacity`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any, NamedTuple

from domain.rules.capacity import SlotOccupancy, check_fits, check_type
from domain.config import BookingSource, ClinicConfig
from domain.errors import DomainError
from domain.rules.schedule import Vacation, check_day_open, check_slot_of_open_day, clinic_today, is_upcoming



class ReservationStatus(StrEnum):
    """A reservation is active until cancelled, or until marked a no-show (which, like a cancellation, no capacity
    counts); stored and shown as the value. Its attendance (booked, confirmed, arrived) is a column of its own."""

    ACTIVE = "active"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


ACTIVE = ReservationStatus.ACTIVE
CANCELLED = ReservationStatus.CANCELLED
NO_SHOW = ReservationStatus.NO_SHOW
SlotKey = tuple[date, str]


class Booking(NamedTuple):
    """A reservation row as the rules see it; a negative id is a row not written yet. A named tuple: a batch
    makes two of them per item, and a frozen dataclass took three times as long to make."""

    id: int
    wa_id: str
    date: date
    time_slot: str
    type: int
    status: ReservationStatus = ACTIVE

    @property
    def slot(self) -> SlotKey:
        return (self.date, self.time_slot)


@dataclass(frozen=True, slots=True)
class Change:
    """What one planned operation does: `before` is None for a new row."""

    action: str  # created, moved, reinstated, modified, cancelled, restored, unchanged
    before: Booking | None
    after: Booking


@dataclass(frozen=True)
class RuleContext:
    """Everything the rules need besides the state: configuration, clock, vacations, who books."""

    config: ClinicConfig
    now: datetime
    vacations: list[Vacation]
    source: BookingSource = BookingSource.AGENT
    max_reservations: int | None = None
    # Whether a slot can be booked at all (hours, vacations, not over) depends on the slot alone: a batch
    # asks once per slot, not once per item.
    _bookable: dict[SlotKey, DomainError | None] = field(default_factory=dict, compare=False, repr=False)
    _upcoming: dict[SlotKey, bool] = field(default_factory=dict, compare=False, repr=False)
    _day_open: dict[date, DomainError | None] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def today(self) -> date:
        return clinic_today(self.config, self.now)

    def is_upcoming(self, slot: SlotKey) -> bool:
        """`schedule.is_upcoming` of a slot, asked once per slot of a batch."""
        known = self._upcoming.get(slot)
        if known is None:
            known = self._upcoming[slot] = is_upcoming(self.config, slot[0], slot[1], self.now)
        return known

    def check_bookable(self, slot: SlotKey) -> None:
        """`schedule.check_slot_bookable`, its day's part asked once per day (a day of 288 slots)."""
        if slot not in self._bookable:
            day, time_slot = slot
            if day not in self._day_open:
                self._day_open[day] = _refusal(check_day_open, self.config, day, self.vacations, self.now)
            self._bookable[slot] = self._day_open[day] or _refusal(
                check_slot_of_open_day, self.config, day, time_slot, self.vacations, self.now)
        if (known := self._bookable[slot]) is not None:
            raise DomainError(known.code, **known.details)


def _refusal(check: Callable[..., None], *args: Any) -> DomainError | None:
    """The error `check(*args)` raises (kept without its traceback), or None."""
    try:
        check(*args)
    except DomainError as refused:
        return refused.with_traceback(None)
    return None


_EMPTY = SlotOccupancy()


class CalendarState:
    """The bookings a plan touches: every row of the affected slots and of the affected customers.

    Counted by slot as bookings change, and indexed by customer once a rule asks for a customer's
    bookings, so a batch of thousands of items plans in linear time.
    """

    def __init__(self) -> None:
        self.bookings: dict[int, Booking] = {}
        self._by_customer: dict[str, set[int]] | None = None  # built when first asked for
        self._active: dict[SlotKey, SlotOccupancy] = defaultdict(SlotOccupancy)  # kept as bookings change
        self._new_ids = itertools.count(-1, -1)

    @classmethod
    def of(cls, bookings: Iterable[Booking]) -> CalendarState:
        """The state of these bookings (of one id, the last given), counted per slot and type at once."""
        state = cls()
        state.bookings = {b.id: b for b in bookings}
        counts = Counter((b.date, b.time_slot, b.type) for b in state.bookings.values() if b.status == ACTIVE)
        for (day, time_slot, type_id), count in counts.items():
            state._active[(day, time_slot)].add(type_id, count)
        return state

    def add(self, booking: Booking) -> None:
        """One more booking as loaded (what `of` does for each)."""
        self._put(booking)

    def _put(self, booking: Booking) -> None:
        old = self.bookings.get(booking.id)
        if old is not None:
            if self._by_customer is not None:
                self._by_customer[old.wa_id].discard(old.id)
            if old.status == ACTIVE:
                self._active[old.slot].add(old.type, -1)
        if booking.status == ACTIVE:
            self._active[booking.slot].add(booking.type)
        self.bookings[booking.id] = booking
        if self._by_customer is not None:
            self._by_customer[booking.wa_id].add(booking.id)

    def in_slot(self, slot: SlotKey) -> list[Booking]:
        return [b for b in self.bookings.values() if b.slot == slot]

    def of_customer(self, wa_id: str) -> list[Booking]:
        if self._by_customer is None:
            self._by_customer = defaultdict(set)
            for booking in self.bookings.values():
                self._by_customer[booking.wa_id].add(booking.id)
        return [self.bookings[i] for i in self._by_customer.get(wa_id, ())]

    def occupancy(self, slot: SlotKey, excluding: int | None = None) -> SlotOccupancy:
        """The slot's active reservations (without `excluding`), from counters kept as bookings change:
        constant time however full the slot, so a batch stays linear in its items. Read-only: the counters
        themselves unless `excluding` is in the slot."""
        kept = self._active.get(slot) or _EMPTY
        left = self.bookings.get(excluding) if excluding is not None else None
        if left is None or left.slot != slot or left.status != ACTIVE:
            return kept
        counts = SlotOccupancy(kept.total, kept.by_type.copy())
        counts.add(left.type, -1)
        return counts

    def upcoming_for(self, ctx: RuleContext, wa_id: str) -> Booking | None:
        """The customer's nearest upcoming active reservation."""
        upcoming = [
            b for b in self.of_customer(wa_id)
            if b.status == ACTIVE and ctx.is_upcoming(b.slot)
        ]
        return min(upcoming, key=lambda b: (b.date, b.time_slot, b.id), default=None)

    def cancelled_at(self, wa_id: str, slot: SlotKey) -> Booking | None:
        return next((b for b in self.of_customer(wa_id) if b.slot == slot and b.status == CANCELLED), None)

    def apply(self, change: Change) -> Change:
        if change.action != "unchanged":
            self._put(change.after)
        return change

    def moved(self, changes: list[Change], leaving: Counter[tuple[SlotKey, SlotKey, int]]) -> None:
        """Moves of active bookings that keep their customer, type and status (`plan_moves`), with the count of
        each (from, to, type) they make."""
        self.bookings.update((c.after.id, c.after) for c in changes if c.action != "unchanged")
        for (source, target, type_id), count in leaving.items():
            self._active[source].add(type_id, -count)
            self._active[target].add(type_id, count)

    def new_id(self) -> int:
        return next(self._new_ids)


def _check_room(ctx: RuleContext, state: CalendarState, slot: SlotKey, type_id: int, excluding: int | None) -> None:
    ctx.check_bookable(slot)
    check_fits(ctx.config, state.occupancy(slot, excluding), type_id, ctx.source, ctx.max_reservations)


def plan_reserve(
    ctx: RuleContext, state: CalendarState, wa_id: str, day: date, slot: str, type_id: int | str = 0
) -> Change:
    """Book `slot`: moves the customer's upcoming reservation, reinstates a cancelled one, or creates."""
    type_id = check_type(ctx.config, type_id)
    key = (day, slot)
    upcoming = state.upcoming_for(ctx, wa_id)
    if upcoming is not None:
        if upcoming.slot == key and upcoming.type == type_id:
            return Change("unchanged", upcoming, upcoming)
        return state.apply(_move(ctx, state, upcoming, key, type_id))
    cancelled = state.cancelled_at(wa_id, key)
    _check_room(ctx, state, key, type_id, excluding=None)
    if cancelled is not None:
        return state.apply(Change("reinstated", cancelled, cancelled._replace(status=ACTIVE, type=type_id)))
    booking = Booking(state.new_id(), wa_id, day, slot, type_id)
    return state.apply(Change("created", None, booking))


def _move(ctx: RuleContext, state: CalendarState, booking: Booking, key: SlotKey, type_id: int) -> Change:
    _check_room(ctx, state, key, type_id, excluding=booking.id)
    after = Booking(booking.id, booking.wa_id, key[0], key[1], type_id, booking.status)
    return Change("moved" if key != booking.slot else "modified", booking, after)


def find_target(ctx: RuleContext, state: CalendarState, wa_id: str | None, reservation_id: int | None) -> Booking:
    """The reservation an id names (hidden when it is another customer's), else the nearest upcoming."""
    if reservation_id is not None:
        booking = state.bookings.get(reservation_id)
        if booking is None or (wa_id is not None and booking.wa_id != wa_id):
            raise DomainError("reservation_not_found")
        return booking
    if wa_id is None:
        raise DomainError("reservation_not_found")
    upcoming = state.upcoming_for(ctx, wa_id)
    if upcoming is None:
        raise DomainError("no_future_reservation")
    return upcoming


def plan_modify(
    ctx: RuleContext,
    state: CalendarState,
    target: Booking,
    new_date: date | None = None,
    new_time: str | None = None,
    new_type: int | str | None = None,
) -> Change:
    """Change the date, time and/or type of an active, not past reservation; capacity excludes itself."""
    if target.status != ACTIVE:
        raise DomainError("reservation_no_show" if target.status == NO_SHOW else "reservation_cancelled")
    if not ctx.is_upcoming(target.slot):
        raise DomainError("past_reservation")
    type_id = target.type if new_type is None else check_type(ctx.config, new_type)
    key = (new_date or target.date, new_time or target.time_slot)
    if key == target.slot and type_id == target.type:
        return Change("unchanged", target, target)
    return state.apply(_move(ctx, state, target, key, type_id))


def plan_moves(ctx: RuleContext, state: CalendarState, targets: Sequence[Booking], new_date: date | None,
               new_time: str | None) -> list[Change] | None:
    """Every target moved to `new_date` and/or `new_time` (its type kept), as `plan_modify` would move each in
    turn, with the rules asked once per group of targets sharing their slot, and per slot they go to; None
    when an item could fail (a cancelled or past one, a slot that cannot be booked, or more arrivals than a
    slot has places, counted before anyone leaves it), for the caller to plan each item on its own, in order.
    When every arrival fits before anyone leaves, every one fits in any order: the answer is the same."""
    arriving: dict[SlotKey, Counter[int]] = defaultdict(Counter)
    leaving: Counter[tuple[SlotKey, SlotKey, int]] = Counter()
    for (day, time_slot, type_id, status), count in Counter((b.date, b.time_slot, b.type, b.status)
                                                            for b in targets).items():
        slot = (day, time_slot)
        if status != ACTIVE or not ctx.is_upcoming(slot):
            return None
        key = (new_date or day, new_time or time_slot)
        if key != slot:
            arriving[key][type_id] += count
            leaving[(slot, key, type_id)] += count
    for key, types in arriving.items():
        occupancy, everyone = state.occupancy(key), types.total()
        try:
            ctx.check_bookable(key)
            for type_id, count in types.items():  # the last to arrive, of each type, finds this
                last = SlotOccupancy(occupancy.total + everyone - 1, {type_id: occupancy.by_type.get(type_id, 0)
                                                                      + count - 1})
                check_fits(ctx.config, last, type_id, ctx.source, ctx.max_reservations)
        except DomainError:
            return None
    changes = [Change("moved", b, Booking(b.id, b.wa_id, new_date or b.date, new_time or b.time_slot, b.type, b.status))
               if (new_date or b.date) != b.date or (new_time or b.time_slot) != b.time_slot
               else Change("unchanged", b, b) for b in targets]
    state.moved(changes, leaving)
    return changes


def plan_cancel(ctx: RuleContext, state: CalendarState, target: Booking) -> Change:
    """Soft-cancel an active reservation that is not in the past (a no-show is refused by its name: a
    cancellation would erase the mark)."""
    if target.status != ACTIVE:
        raise DomainError("reservation_no_show" if target.status == NO_SHOW else "already_cancelled")
    if not ctx.is_upcoming(target.slot):
        raise DomainError("past_reservation")
    return state.apply(Change("cancelled", target, target._replace(status=CANCELLED)))


def plan_restore(ctx: RuleContext, state: CalendarState, target: Booking) -> Change:
    """Undo a cancellation when hours, capacity and the one-upcoming rule still allow it."""
    if target.status != CANCELLED:
        raise DomainError("not_cancelled")
    upcoming = state.upcoming_for(ctx, target.wa_id)
    if upcoming is not None:
        raise DomainError("has_future_reservation", id=upcoming.id)
    _check_room(ctx, state, target.slot, target.type, excluding=target.id)
    return state.apply(Change("restored", target, target._replace(status=ACTIVE)))
