"""Quiet hours as a pure rule: when a notice queued at some moment may be sent, and which changes cannot wait."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.notices.quiet import QuietHours, is_soon, quiet_end, send_after
from domain.notices.templates import NoticeConfig

RIYADH = ZoneInfo("Asia/Riyadh")
CONFIG = NoticeConfig()  # 22:00-08:00


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=RIYADH)


@pytest.mark.parametrize(("queued", "released"), [
    (at(1, 22, 0), at(2, 8, 0)),
    (at(1, 23, 59), at(2, 8, 0)),
    (at(2, 3, 0), at(2, 8, 0)),
    (at(2, 7, 59), at(2, 8, 0)),
])
def test_a_notice_queued_in_quiet_hours_waits_until_they_end(queued: datetime, released: datetime) -> None:
    assert send_after(CONFIG, RIYADH, queued.astimezone(UTC), urgent=False) == released


@pytest.mark.parametrize("queued", [at(1, 8, 0), at(1, 12, 0), at(1, 21, 59)])
def test_a_notice_queued_outside_quiet_hours_goes_at_once(queued: datetime) -> None:
    assert send_after(CONFIG, RIYADH, queued, urgent=False) == queued


def test_an_urgent_notice_or_one_with_quiet_hours_off_goes_at_once() -> None:
    night = at(1, 23, 0)
    assert send_after(CONFIG, RIYADH, night, urgent=True) == night
    assert send_after(NoticeConfig(quiet_hours=None), RIYADH, night, urgent=False) == night


def test_quiet_hours_that_do_not_cross_midnight_hold_only_between_their_times() -> None:
    lunch = QuietHours(time(13), time(14))
    assert quiet_end(lunch, RIYADH, at(1, 13, 30)) == at(1, 14, 0)
    assert quiet_end(lunch, RIYADH, at(1, 14, 0)) is None


def test_a_change_to_a_booking_today_or_tomorrow_before_the_quiet_end_is_soon() -> None:
    night = at(1, 23, 0)
    assert is_soon(CONFIG, RIYADH, night, (date(2026, 12, 1), "20:00"))
    assert is_soon(CONFIG, RIYADH, night, (date(2026, 12, 2), "07:00"))
    assert not is_soon(CONFIG, RIYADH, night, (date(2026, 12, 2), "11:00"))
    assert not is_soon(CONFIG, RIYADH, night, (date(2026, 12, 6), "11:00"))
    assert not is_soon(CONFIG, RIYADH, night, None)


@pytest.mark.parametrize("text", ["22:00", "22:00-22:00", "25:00-08:00", "night"])
def test_quiet_hours_written_wrong_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        QuietHours.parse(text)


def test_quiet_hours_are_read_from_the_setting_or_turned_off_when_empty() -> None:
    assert QuietHours.parse("21:30-07:00") == QuietHours(time(21, 30), time(7))
    assert QuietHours.parse("") is None
