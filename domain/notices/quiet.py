"""Quiet hours: the clinic's night (22:00–08:00 by default), when a notice that is not urgent waits for the morning.

Urgent is what the customer must hear at once: a reply to their own message, and a cancellation or move of a
booking for today, or for tomorrow before the quiet hours end (it could be over before a held notice went out).
Anything else queued inside quiet hours becomes available when they end. Pure rules: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol


@dataclass(frozen=True)
class QuietHours:
    """The local times between which notices wait: from `start` to `end`, across midnight when `end` is earlier."""

    start: time = time(22)
    end: time = time(8)

    def holds(self, at: time) -> bool:
        """Whether the local time `at` is inside the quiet hours."""
        if self.start <= self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """`HH:MM-HH:MM` as the setting writes it; empty: no quiet hours. Raises ValueError on anything else."""
        if not text.strip():
            return None
        start, _, end = text.partition("-")
        hours = cls(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
        if hours.start == hours.end:
            raise ValueError("quiet hours must start and end at different times")
        return hours


class QuietConfig(Protocol):
    """What the rule reads of the notices' configuration (`NoticeConfig`)."""

    @property
    def quiet_hours(self) -> QuietHours | None: ...


def quiet_end(quiet: QuietHours | None, zone: tzinfo, now: datetime) -> datetime | None:
    """When the quiet hours `now` falls in end (UTC), or None when `now` is not inside them."""
    local = now.astimezone(zone)
    if quiet is None or not quiet.holds(local.time()):
        return None
    day = local.date() if local.time() < quiet.end else local.date() + timedelta(days=1)
    return datetime.combine(day, quiet.end, tzinfo=zone).astimezone(UTC)


def send_after(config: QuietConfig, zone: tzinfo, now: datetime, urgent: bool) -> datetime:
    """When a notice queued at `now` may be sent: at once when urgent or outside quiet hours, else when they end."""
    if urgent:
        return now
    return quiet_end(config.quiet_hours, zone, now) or now


def is_soon(config: QuietConfig, zone: tzinfo, now: datetime, slot: tuple[date, str] | None) -> bool:
    """Whether a booking at `slot` (date, "HH:MM") is today, or tomorrow before the quiet hours end: a change to it
    cannot wait for the morning."""
    if slot is None:
        return False
    today = now.astimezone(zone).date()
    if slot[0] == today:
        return True
    end = config.quiet_hours.end if config.quiet_hours is not None else time(0)
    return slot[0] == today + timedelta(days=1) and time.fromisoformat(slot[1]) < end


__all__ = ["QuietConfig", "QuietHours", "is_soon", "quiet_end", "send_after"]
