"""What a batch does that a person must be able to stop, and when an agent must ask before doing it.

A batch's `Effects` are counted from its plan: bookings moved, cancelled, changed, restored or made; customers
told on WhatsApp; customers sent an operator's own words; days closed; bookings a closure cancels; and, day by
day, the bookings it takes off a day. `EffectLimits` say how much of each an agent may apply without asking, in
one operator turn and in one conversation over a window. Every applied batch records its effects (`batches.
effects`), so the call that would pass a limit, added to what the same turn or conversation already applied
without asking, asks the person and shows the totals so far: a large change split into small calls is asked
about as one.

A turn is one MCP connection (the bridge opens one for each turn of the operators' chat; a desktop client's
lasts its whole conversation); a stateless client, whose every request is a new connection, has its whole window
for one turn. The conversation is the caller (`actor`, its signature): the agent answering each staff member
(`agent:<username>`), each person's OAuth client (`mcp:<username>@<client>`), and the single-token system agent
(`system_agent`) each have a window of their own. What a person confirmed does not count.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.storage.database import lock_exclusively, lock_key
from domain.storage.models import BatchRecord, Reservation
from domain.rules.planning import ACTIVE, Change, ReservationStatus

COUNTED = ("bookings", "messaged", "free_text", "days_closed", "closure_bookings")
Scope = Literal["turn", "window", "whole_day"]


@dataclass(frozen=True)
class Effects:
    """What one batch does (or a turn or window did, summed)."""

    bookings: int = 0  # bookings moved, cancelled, changed, restored or made for customers
    messaged: int = 0  # customers told about their booking on WhatsApp
    free_text: int = 0  # customers sent an operator's own words
    days_closed: int = 0  # days a closure closes, whole or some hours
    closure_bookings: int = 0  # bookings a closure cancels
    removed: Mapping[str, int] = field(default_factory=dict)  # ISO day -> bookings moved off it or cancelled

    def __add__(self, other: Effects) -> Effects:
        removed = Counter(self.removed)
        removed.update(other.removed)
        return Effects(**{name: getattr(self, name) + getattr(other, name) for name in COUNTED},
                       removed=dict(removed))

    def __bool__(self) -> bool:
        return any(getattr(self, name) for name in COUNTED) or any(self.removed.values())

    def to_json(self) -> dict[str, Any]:
        return {**{name: getattr(self, name) for name in COUNTED if getattr(self, name)},
                **({"removed": dict(self.removed)} if self.removed else {})}

    @classmethod
    def from_json(cls, value: Any) -> Effects:
        if not isinstance(value, dict):
            return cls()
        counts = {name: int(value.get(name) or 0) for name in COUNTED}
        removed = value.get("removed")
        days = {str(day): int(n) for day, n in removed.items()} if isinstance(removed, dict) else {}
        return cls(**counts, removed=days)


def effects_of(changes: Iterable[Change], edits: int, messaged: int, free_text: int,
               days_closed: int, closing: bool) -> Effects:
    """A plan's effects: its changes (and customer edits), the customers it messages, the days it closes."""
    bookings, removed = edits, Counter[date]()
    for change in changes:
        if change.action == "unchanged":
            continue
        bookings += 1
        before, after = change.before, change.after
        if before is not None and before.status == ACTIVE and (after.status != ACTIVE or after.date != before.date):
            removed[before.date] += 1
    cancelled = sum(removed.values()) if closing else 0
    return Effects(bookings=bookings, messaged=0 if free_text else messaged, free_text=free_text,
                   days_closed=days_closed, closure_bookings=cancelled,
                   removed={day.isoformat(): count for day, count in removed.items()})


@dataclass(frozen=True)
class Limit:
    """How much of one effect an agent applies without asking: in one turn, and in the window (None: no limit)."""

    turn: int | None
    window: int | None

    def __str__(self) -> str:
        return f"{_number(self.turn)}/{_number(self.window)}"


def _number(value: int | None) -> str:
    return "off" if value is None else str(value)


@dataclass(frozen=True)
class EffectLimits:
    """The limits (`CONFIRMATION_LIMITS`, `CONFIRMATION_WINDOW_MINUTES`). With the defaults a whole-day move, any
    closure that cancels a booking and any free text to more than one customer always ask."""

    bookings: Limit = Limit(5, 30)
    messaged: Limit = Limit(5, 30)
    free_text: Limit = Limit(1, 5)
    days_closed: Limit = Limit(3, 7)
    closure_bookings: Limit = Limit(0, 0)
    whole_day: int = 2  # taking every booking off a day that had at least this many asks (0: never)
    window: timedelta = timedelta(minutes=60)
    add_up: bool = True  # False: each call is counted alone, as a person's own acts from the console always are

    @classmethod
    def parse(cls, text: str, window_minutes: float = 60) -> EffectLimits:
        """`bookings=5/30 free_text=1/5 whole_day=2` (commas or spaces between; `off` for no limit); what is not
        named keeps its default. A ValueError names what is wrong."""
        limits = cls(window=timedelta(minutes=window_minutes))
        for word in filter(None, re.split(r"[\s,]+", text.strip())):
            name, _, value = word.partition("=")
            if name == "whole_day":
                limits = replace(limits, whole_day=_count(value, word, allow_off=False) or 0)
                continue
            if name not in COUNTED:
                raise ValueError(f"{name!r} is not an effect; name one of {', '.join((*COUNTED, 'whole_day'))}")
            turn, slash, window = value.partition("/")
            if not slash:
                raise ValueError(f"{word!r}: write the turn's and the window's limit as N/M (e.g. {name}=5/30)")
            limit: dict[str, Any] = {name: Limit(_count(turn, word), _count(window, word))}
            limits = replace(limits, **limit)
        return limits

    @classmethod
    def uniform(cls, count: int) -> EffectLimits:
        """Every effect up to `count` a call, counted alone, with no whole-day rule: asked only of a call above
        `count` (what the product asked before it confirmed by effect)."""
        each: dict[str, Any] = {name: Limit(count, None) for name in COUNTED}
        return cls(**each, whole_day=0, add_up=False)

    def describe(self) -> str:
        return " ".join([*(f"{name}={getattr(self, name)}" for name in COUNTED), f"whole_day={self.whole_day}"])


def _count(value: str, word: str, allow_off: bool = True) -> int | None:
    if allow_off and value == "off":
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 7:
        raise ValueError(f"{word!r}: a limit is a whole number from 0" + (" or off" if allow_off else ""))
    return int(value)


@dataclass(frozen=True)
class Overrun:
    """One limit a call would pass: the effect, where it counts, what was applied without asking before it, what
    this call adds, and the limit (for `whole_day`: the day, the bookings it had, and the rule's minimum)."""

    effect: str
    scope: Scope
    before: int
    adds: int
    limit: int
    day: str | None = None

    def to_json(self) -> dict[str, Any]:
        shaped: dict[str, Any] = {"effect": self.effect, "scope": self.scope, "before": self.before,
                                  "adds": self.adds, "total": self.before + self.adds, "limit": self.limit}
        return shaped | ({"day": self.day} if self.day else {})


@dataclass(frozen=True)
class Spent:
    """What the caller applied without asking: in this turn, and in the window."""

    turn: Effects
    window: Effects

    def to_json(self) -> dict[str, Any]:
        return {"turn": self.turn.to_json(), "window": self.window.to_json()}


async def spent(session: AsyncSession, actor: str, turn: str | None, now: datetime, window: timedelta) -> Spent:
    """What `actor` applied without asking since `now - window`, and in `turn` (a caller with no turn, such as a
    stateless MCP client, has its whole window for one). Holds the actor's lock (PostgreSQL;
    SQLite's writers are serialised already) until the transaction ends, so two calls of one caller are counted
    one after the other, never both against the same total."""
    await lock_exclusively(session, lock_key("effects", actor))
    rows = (await session.execute(
        select(BatchRecord.turn, BatchRecord.effects)
        .where(BatchRecord.actor == actor, BatchRecord.asked.is_(False), BatchRecord.effects.is_not(None),
               BatchRecord.created_at >= now - window))).all()
    in_turn, in_window = Effects(), Effects()
    for row_turn, effects in rows:
        counted = Effects.from_json(effects)
        in_window += counted
        if turn is not None and row_turn == turn:
            in_turn += counted
    return Spent(in_window if turn is None else in_turn, in_window)


async def active_counts(session: AsyncSession, days: Iterable[str]) -> dict[str, int]:
    """Active bookings on each of `days` as the database holds them now."""
    wanted = sorted({date.fromisoformat(day) for day in days})
    if not wanted:
        return {}
    rows = await session.execute(
        select(Reservation.date, func.count()).where(Reservation.status == ReservationStatus.ACTIVE,
                                                      Reservation.date.in_(wanted)).group_by(Reservation.date))
    return {day.isoformat(): count for day, count in rows.all()}


def added_by_day(changes: Iterable[Change]) -> Counter[str]:
    """Bookings a plan puts on each day (made, moved there or restored)."""
    added = Counter[date]()
    for change in changes:
        before, after = change.before, change.after
        if after.status == ACTIVE and (before is None or before.status != ACTIVE or before.date != after.date):
            added[after.date] += 1
    return Counter({day.isoformat(): count for day, count in added.items()})


def overruns(limits: EffectLimits, adds: Effects, already: Spent, left_on_day: Mapping[str, int]) -> list[Overrun]:
    """Every limit the call would pass. `left_on_day`: the active bookings each day it takes bookings off would
    keep once it is applied."""
    found: list[Overrun] = []
    for name in COUNTED:
        count: int = getattr(adds, name)
        if not count:
            continue
        limit: Limit = getattr(limits, name)
        for scope, cap, before in (("turn", limit.turn, getattr(already.turn, name)),
                                   ("window", limit.window, getattr(already.window, name))):
            if cap is not None and before + count > cap:
                found.append(Overrun(name, scope, before, count, cap))  # type: ignore[arg-type]
                break  # the turn's limit is the nearer one: the window adds nothing the person needs
    if limits.whole_day:
        for day, count in sorted(adds.removed.items()):
            before = already.turn.removed.get(day, 0)
            if count and left_on_day.get(day, 0) == 0 and before + count >= limits.whole_day:
                found.append(Overrun("bookings", "whole_day", before, count, limits.whole_day, day))
    return found


__all__ = ["COUNTED", "EffectLimits", "Effects", "Limit", "Overrun", "Spent", "active_counts",
           "added_by_day", "effects_of", "overruns", "spent"]
