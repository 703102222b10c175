"""Pure schedule rules: parsing, opening hours, Ramadan, vacations, slots and the today rule."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from hijridate import Gregorian, Hijri

from domain.config import WEEKDAY_NAMES, ClinicConfig, OpeningHours
from domain.errors import DomainError
from domain.rules.identities import ascii_digits

RAMADAN = 9
_TIME_24 = re.compile(r"^(\d{1,2}):(\d{2})$")
_TIME_12 = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*([AaPp])\.?\s*[Mm]\.?$")


@dataclass(frozen=True)
class Vacation:
    """A closed period, both ends inclusive: whole days, or with `from_time`/`to_time` only the slots of those
    days that start at or after `from_time` and before `to_time` (a morning)."""

    start: date
    end: date
    title: str
    from_time: str | None = None
    to_time: str | None = None

    def covers(self, day: date) -> bool:
        """Whether it closes `day` whole."""
        return self.start <= day <= self.end and self.from_time is None

    def closes(self, day: date, slot: str) -> bool:
        """Whether it closes the slot starting at `slot` on `day`."""
        if not self.start <= day <= self.end:
            return False
        return self.from_time is None or self.to_time is None or self.from_time <= slot < self.to_time


def parse_date(text: str | date, hijri: bool = False) -> date:
    """Accept YYYY-MM-DD or DD-MM-YYYY (Gregorian, or Hijri when `hijri`)."""
    if isinstance(text, date):
        return text
    parts = re.split(r"[-/.]", ascii_digits(str(text).strip()))
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts):
        raise DomainError("invalid_date", value=str(text)[:40])
    year, month, day = _ymd(parts)
    try:
        if hijri:
            return Hijri(year, month, day).to_gregorian()
        return date(year, month, day)
    except (ValueError, OverflowError):
        raise DomainError("invalid_date", value=text) from None


def _ymd(parts: list[str]) -> tuple[int, int, int]:
    if len(parts[0]) == 4:
        return int(parts[0]), int(parts[1]), int(parts[2])
    return int(parts[2]), int(parts[1]), int(parts[0])


def parse_time(text: str | time) -> str:
    """Accept 13:00, 1:00 PM or 01:00 PM; return 24-hour 'HH:MM'."""
    if isinstance(text, time):
        return text.strftime("%H:%M")
    raw = ascii_digits(str(text).strip())
    if len(raw) > 20:
        raise DomainError("invalid_time", value=str(text)[:40])
    hour, minute = _clock(raw)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise DomainError("invalid_time", value=text)
    return f"{hour:02d}:{minute:02d}"


def _clock(raw: str) -> tuple[int, int]:
    if match := _TIME_24.match(raw):
        return int(match[1]), int(match[2])
    if match := _TIME_12.match(raw):
        hour = int(match[1])
        if not 1 <= hour <= 12:
            raise DomainError("invalid_time", value=raw)
        return hour % 12 + (12 if match[3].lower() == "p" else 0), int(match[2] or 0)
    raise DomainError("invalid_time", value=raw)


@lru_cache(maxsize=2048)
def slot_label(slot: str) -> str:
    """'13:00' -> '1:00 PM'."""
    hour, minute = (int(p) for p in slot.split(":"))
    return f"{hour % 12 or 12}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


@lru_cache(maxsize=8192)
def hijri_date(day: date) -> str:
    try:
        return Gregorian(day.year, day.month, day.day).to_hijri().isoformat()
    except OverflowError:
        return "?"


@lru_cache(maxsize=8192)
def is_ramadan(day: date) -> bool:
    try:
        return Gregorian(day.year, day.month, day.day).to_hijri().month == RAMADAN
    except OverflowError:
        return False


def hours_for(config: ClinicConfig, day: date) -> OpeningHours | None:
    """Opening hours of `day`, None when closed; Ramadan replaces the hours of an open weekday."""
    regular = config.week.get(WEEKDAY_NAMES[day.weekday()])
    if regular is None:
        return None
    if config.ramadan_hours is not None and is_ramadan(day):
        return config.ramadan_hours
    return regular


def slots_for(config: ClinicConfig, day: date) -> list[str]:
    """Slot start times of `day` ('HH:MM'), ignoring vacations and the clock."""
    hours = hours_for(config, day)
    if hours is None:
        return []
    return list(_slot_starts(hours.opens, hours.closes, config.slot_minutes))


@lru_cache(maxsize=256)
def _slot_starts(opens: time, closes: time, minutes: int) -> tuple[str, ...]:
    step = timedelta(minutes=minutes)
    cursor = datetime.combine(date.min, opens)
    closing = datetime.combine(date.min, closes)
    slots = []
    while cursor < closing:
        slots.append(cursor.strftime("%H:%M"))
        cursor += step
    return tuple(slots)


def vacation_on(vacations: list[Vacation], day: date) -> Vacation | None:
    return next((v for v in vacations if v.covers(day)), None)


def closing(vacations: list[Vacation], day: date, slot: str) -> Vacation | None:
    """The closure that closes this slot, whole-day or of some hours."""
    return next((v for v in vacations if v.closes(day, slot)), None)


def vacation_error(vacation: Vacation) -> DomainError:
    return DomainError(
        "vacation" if vacation.from_time is None else "closed_hours",
        from_time=vacation.from_time, to_time=vacation.to_time,
        title=vacation.title,
        start=vacation.start.isoformat(),
        end=vacation.end.isoformat(),
        start_hijri=hijri_date(vacation.start),
        end_hijri=hijri_date(vacation.end),
    )


def slot_start(config: ClinicConfig, day: date, slot: str) -> datetime:
    """When a slot starts, in the clinic's zone."""
    return datetime.combine(day, time.fromisoformat(slot), tzinfo=config.zone)


def slot_end(config: ClinicConfig, day: date, slot: str) -> datetime:
    return slot_start(config, day, slot) + timedelta(minutes=config.slot_minutes)


def slot_has_ended(config: ClinicConfig, day: date, slot: str, now: datetime) -> bool:
    """A slot stays bookable until it has ended, so one in progress can still be booked."""
    return slot_end(config, day, slot) <= now


def clinic_today(config: ClinicConfig, now: datetime) -> date:
    return now.astimezone(config.zone).date()


def clinic_midnight(config: ClinicConfig, day: date) -> datetime:
    """The start of the clinic day `day`, in the clinic's zone."""
    return datetime.combine(day, time(), tzinfo=config.zone)


def nearest_first(slots: list[str], wanted: str) -> list[str]:
    """`slots` ordered by how far each starts from `wanted`, before or after; on a tie, the earlier first."""
    def minutes(slot: str) -> int:
        hour, minute = slot.split(":")
        return int(hour) * 60 + int(minute)
    return sorted(slots, key=lambda s: (abs(minutes(s) - minutes(wanted)), s))


class DayStatus(StrEnum):
    """What a day is for booking: the one rule behind availability, snapshots and the booking checks."""

    OPEN = "open"
    PAST = "past"
    CLOSED = "closed"
    VACATION = "vacation"


def day_status(
    config: ClinicConfig, day: date, vacations: list[Vacation], now: datetime
) -> tuple[DayStatus, Vacation | None]:
    """Past, closed (no opening hours that weekday), vacation or open, checked in that order, with the
    vacation when it is one."""
    if day < clinic_today(config, now):
        return DayStatus.PAST, None
    if hours_for(config, day) is None:
        return DayStatus.CLOSED, None
    if vacation := vacation_on(vacations, day):
        return DayStatus.VACATION, vacation
    return DayStatus.OPEN, None


def check_day_open(config: ClinicConfig, day: date, vacations: list[Vacation], now: datetime) -> None:
    """Raise when `day` is in the past, closed, or in a vacation."""
    status, vacation = day_status(config, day, vacations, now)
    if status is DayStatus.PAST:
        raise DomainError("past_date")
    if status is DayStatus.CLOSED:
        raise DomainError("clinic_closed", date=day.isoformat(), hijri=hijri_date(day))
    if vacation is not None:
        raise vacation_error(vacation)


def check_slot_bookable(
    config: ClinicConfig, day: date, slot: str, vacations: list[Vacation], now: datetime
) -> None:
    """Raise unless `slot` on `day` is a slot of an open day that has not ended yet."""
    check_day_open(config, day, vacations, now)
    check_slot_of_open_day(config, day, slot, vacations, now)


def check_slot_of_open_day(
    config: ClinicConfig, day: date, slot: str, vacations: list[Vacation], now: datetime
) -> None:
    """`check_slot_bookable` for a day `check_day_open` let through: the slot is one of the day's, has not ended,
    and no closure of some hours covers it."""
    slots = slots_for(config, day)
    if slot not in slots:
        valid = ", ".join(f"{s} ({slot_label(s)})" for s in slots)
        hours = hours_for(config, day)
        ramadan = hours is not None and hours is config.ramadan_hours
        span = f"{hours.opens:%H:%M}–{hours.closes:%H:%M}" if hours is not None else ""
        raise DomainError("slot_unavailable", time=slot, date=day.isoformat(), hijri=hijri_date(day), valid=valid,
                          period=f" (Ramadan hours, {span})" if ramadan else "",
                          period_ar=f" (ساعات رمضان، {span})" if ramadan else "")
    if slot_has_ended(config, day, slot, now):
        raise DomainError("past_date")
    if closed := closing(vacations, day, slot):
        raise vacation_error(closed)


def open_slots(
    config: ClinicConfig, day: date, vacations: list[Vacation], now: datetime
) -> list[str]:
    """The slots of `day` that can still be booked (capacity aside)."""
    if day_status(config, day, vacations, now)[0] is not DayStatus.OPEN:
        return []
    return [s for s in slots_for(config, day)
            if not slot_has_ended(config, day, s, now) and closing(vacations, day, s) is None]


def is_upcoming(config: ClinicConfig, day: date, slot: str, now: datetime) -> bool:
    """The one "upcoming" rule: a reservation is upcoming until its slot has ended; after that it is past,
    for reads, filters and writes alike. `upcoming_after` is the same rule as a bound for queries."""
    return not slot_has_ended(config, day, slot, now)


def upcoming_after(config: ClinicConfig, now: datetime) -> tuple[date, str]:
    """The clinic date and 'HH:MM' a reservation must start after to be upcoming (now minus one slot):
    a slot starting at or before it has ended, one starting after it has not."""
    threshold = now.astimezone(config.zone) - timedelta(minutes=config.slot_minutes)
    return threshold.date(), threshold.strftime("%H:%M")
