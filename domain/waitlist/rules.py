"""Pure waitlist rules: what a valid entry is, which entries a freed slot matches, and who is offered it first."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.rules.capacity import Room, check_type
from domain.rules.schedule import Vacation, clinic_today, open_slots, parse_date, parse_time, slot_label, slots_for

WAITING, BOOKED, REMOVED, EXPIRED = "waiting", "booked", "removed", "expired"  # an entry's status
OFFERING, TAKEN, LAPSED = "offering", "taken", "lapsed"  # a place's status
OPEN, ACCEPTED, DECLINED, GONE, FAILED = "open", "accepted", "declined", "gone", "failed"  # an offer's status
MAX_TIMES = 12  # start times one entry may name


@dataclass(frozen=True)
class WaitlistConfig:
    """How the waitlist offers a freed place: `wave_size` entries at a time, each wave holding it `hold_minutes`;
    an entry's range spans at most `max_days`; the bridge's worker sweeps every `sweep_seconds`."""

    wave_size: int = 3
    hold_minutes: int = 15
    max_days: int = 90
    sweep_seconds: float = 60.0

    @property
    def hold(self) -> timedelta:
        return timedelta(minutes=self.hold_minutes)


@dataclass(frozen=True)
class EntryRequest:
    """A waitlist entry as asked for, checked: its days, start times (None: any) and type (None: any)."""

    start: date
    end: date
    times: tuple[str, ...] | None
    type: int | None


@dataclass(frozen=True)
class Waiting:
    """A waiting entry as the matching rules see it."""

    id: int
    wa_id: str
    start: date
    end: date
    times: tuple[str, ...] | None
    type: int | None
    since: datetime

    def covers(self, day: date, slot: str) -> bool:
        """Whether a place in `slot` on `day` is one this entry waits for (its type aside)."""
        return self.start <= day <= self.end and (self.times is None or slot in self.times)


def checked_entry(config: ClinicConfig, limits: WaitlistConfig, vacations: list[Vacation], now: datetime,
                  start: str | date, end: str | date, times: Sequence[str] | None,
                  type_id: int | str | None) -> EntryRequest:
    """The entry asked for, or the domain error that refuses it: a range from today on, in order, at most
    `max_days` long, with an open day; times that are slot starts of its open days; a known type."""
    first, last = parse_date(start), parse_date(end)
    check_range(config, limits, first, last, now)
    days = open_days(config, vacations, first, last, now)
    if not days:
        raise DomainError("waitlist_no_open_day", start=first.isoformat(), end=last.isoformat())
    wanted = checked_times(config, days, first, last, times)
    return EntryRequest(first, last, wanted, None if type_id is None else check_type(config, type_id))


def check_range(config: ClinicConfig, limits: WaitlistConfig, first: date, last: date, now: datetime) -> None:
    today = clinic_today(config, now)
    if first < today:
        raise DomainError("waitlist_past", today=today.isoformat())
    if last < first:
        raise DomainError("invalid_range", start=first.isoformat(), end=last.isoformat())
    if (last - first).days + 1 > limits.max_days:
        raise DomainError("range_too_long", max_days=limits.max_days)


def open_days(config: ClinicConfig, vacations: list[Vacation], first: date, last: date,
              now: datetime) -> dict[date, list[str]]:
    """Each day of the range with slots still bookable (hours, closures, the clock), and those slots."""
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return {day: slots for day in days if (slots := open_slots(config, day, vacations, now))}


def checked_times(config: ClinicConfig, days: dict[date, list[str]], first: date, last: date,
                  times: Sequence[str] | None) -> tuple[str, ...] | None:
    """The start times in 24-hour form, sorted and without repeats; each must start a slot of an open day."""
    if not times:
        return None
    starts = {slot for day in days for slot in slots_for(config, day)}
    wanted = sorted({parse_time(t) for t in times})
    for slot in wanted:
        if slot not in starts:
            valid = ", ".join(f"{s} ({slot_label(s)})" for s in sorted(starts))
            raise DomainError("waitlist_time_not_slot", time=slot, start=first.isoformat(), end=last.isoformat(),
                              valid=valid)
    return tuple(wanted)


def ranges_overlap(a_start: date, a_end: date, b_start: date, b_end: date) -> bool:
    return a_start <= b_end and b_start <= a_end


def booking_type(config: ClinicConfig, type_id: int | None) -> int:
    """The type an entry is booked as: its own, else the first configured type."""
    return type_id if type_id is not None else config.reservation_types[0].id


def matching(config: ClinicConfig, entries: Iterable[Waiting], day: date, slot: str, room: Room,
             passed_over: set[int]) -> list[Waiting]:
    """The entries a place in `slot` on `day` may be offered to, longest waiting first: they cover it, their type
    fits the room, and they were not offered this slot before (`passed_over`: entry ids)."""
    found = [e for e in entries if e.id not in passed_over and e.covers(day, slot)
             and room.for_type(booking_type(config, e.type)) > 0]
    return sorted(found, key=lambda e: (e.since, e.id))


def next_wave(candidates: Sequence[Waiting], size: int) -> list[Waiting]:
    """The first `size` candidates, one entry per customer."""
    chosen: list[Waiting] = []
    for entry in candidates:
        if len(chosen) == size:
            break
        if all(c.wa_id != entry.wa_id for c in chosen):
            chosen.append(entry)
    return chosen
