"""Where a moved reservation lands when its time has no room: the placement rules of a batch move.

`keep_time` keeps the asked time (it fails when full); `nearest` takes the asked time if it has room, else
the free slot of that day nearest to it (before or after; on a tie, the earlier); `first_free` takes the
first slot of that day with room. Capacity and hours are the rules of `plan_modify`, unchanged: a
candidate that breaks either is simply not taken.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from domain.errors import DomainError
from domain.rules.planning import Booking, CalendarState, Change, RuleContext, plan_modify
from domain.rules.schedule import check_day_open, hijri_date, nearest_first, open_slots

Placement = Literal["keep_time", "nearest", "first_free"]
# Why the asked time can be left for another slot: it has no room, is no slot that day, or has ended.
MOVABLE = frozenset({"slot_full", "type_full", "slot_unavailable", "past_date"})


def place(ctx: RuleContext, state: CalendarState, target: Booking, new_date: date | None, new_time: str | None,
          new_type: int | str | None, placement: Placement) -> tuple[Change, str | None]:
    """The change that moves `target` under `placement`, and why it landed elsewhere than asked
    ("nearest: 11:00 slot_full", "first_free"), None where it kept the asked time."""
    asked = new_time or target.time_slot
    if placement == "keep_time":
        return plan_modify(ctx, state, target, new_date, new_time, new_type), None
    refused: DomainError | None = None
    if placement == "nearest":
        try:
            return plan_modify(ctx, state, target, new_date, asked, new_type), None
        except DomainError as error:
            if error.code not in MOVABLE:
                raise
            refused = error
    day = new_date or target.date
    order = candidates(ctx, day, asked, placement)
    if not order:
        check_day_open(ctx.config, day, ctx.vacations, ctx.now)  # closed, a vacation or past: that reason
    for slot in order:
        try:
            change = plan_modify(ctx, state, target, day, slot, new_type)
        except DomainError as error:
            if error.code in MOVABLE:
                continue
            raise
        return change, f"nearest: {asked} {refused.code}" if refused is not None else "first_free"
    raise DomainError("day_full", date=day.isoformat(), hijri=hijri_date(day))


def candidates(ctx: RuleContext, day: date, asked: str, placement: Placement) -> list[str]:
    """The open slots of `day` in the order `placement` tries them."""
    slots = open_slots(ctx.config, day, ctx.vacations, ctx.now)
    if placement == "first_free":
        return slots
    return nearest_first([s for s in slots if s != asked], asked)
