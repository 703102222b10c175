"""The attendance rules, with no database: the public status, the marks a booking can take and when, late
cancellations."""

from datetime import UTC, date, datetime

import pytest

from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.rules.attendance import (Mark, PublicStatus, check_mark, is_late_cancel, is_unattended_after, marked,
                                     public_status)

CONFIG = ClinicConfig()
DAY = date(2026, 12, 1)  # Tuesday; the 11:00 slot runs 08:00-10:00 UTC
BEFORE = datetime(2026, 12, 1, 7, 59, tzinfo=UTC)
DURING = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
AFTER = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_the_public_status_reads_the_status_first_then_the_attendance() -> None:
    assert public_status("no_show", "confirmed", False) == PublicStatus.NO_SHOW
    assert public_status("cancelled", "booked", True) == PublicStatus.LATE_CANCELLED
    assert public_status("cancelled", "confirmed", False) == PublicStatus.CANCELLED
    assert public_status("active", "arrived", False) == PublicStatus.ARRIVED
    assert public_status("active", "garbled", False) == PublicStatus.BOOKED


def test_a_no_show_keeps_the_attendance_it_had_and_a_correction_makes_it_active() -> None:
    assert marked("active", "confirmed", Mark.NO_SHOW) == ("no_show", "confirmed")
    assert marked("no_show", "booked", Mark.ARRIVED) == ("active", "arrived")


def test_arrival_and_no_show_wait_for_the_slot_to_start() -> None:
    for mark in (Mark.ARRIVED, Mark.NO_SHOW):
        with pytest.raises(DomainError) as refused:
            check_mark(CONFIG, DAY, "11:00", "active", "booked", mark, BEFORE)
        assert refused.value.code == "attendance_too_early"
        check_mark(CONFIG, DAY, "11:00", "active", "booked", mark, DURING)


def test_a_confirmation_is_refused_once_the_slot_ended_or_after_an_arrival() -> None:
    check_mark(CONFIG, DAY, "11:00", "active", "booked", Mark.CONFIRMED, DURING)
    with pytest.raises(DomainError, match="past"):
        check_mark(CONFIG, DAY, "11:00", "active", "booked", Mark.CONFIRMED, AFTER)
    with pytest.raises(DomainError) as refused:
        check_mark(CONFIG, DAY, "11:00", "active", "arrived", Mark.CONFIRMED, DURING)
    assert refused.value.code == "attendance_unchanged"


def test_a_cancelled_booking_takes_no_mark() -> None:
    for mark in Mark:
        with pytest.raises(DomainError) as refused:
            check_mark(CONFIG, DAY, "11:00", "cancelled", "booked", mark, DURING)
        assert refused.value.code == "reservation_cancelled"


def test_the_same_mark_twice_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        check_mark(CONFIG, DAY, "11:00", "no_show", "booked", Mark.NO_SHOW, AFTER)
    assert refused.value.code == "attendance_unchanged"


def test_a_cancellation_is_late_inside_the_window_and_never_with_a_window_of_zero() -> None:
    start = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # Wednesday 11:00 in Riyadh
    assert is_late_cancel(CONFIG, date(2026, 12, 2), "11:00", start.replace(day=1))  # exactly 24 hours before
    assert not is_late_cancel(CONFIG, date(2026, 12, 2), "11:00", start.replace(day=1, hour=7, minute=59))
    assert not is_late_cancel(CONFIG.model_copy(update={"late_cancel_hours": 0}), date(2026, 12, 2), "11:00", start)


def test_a_booking_is_unattended_the_given_minutes_after_its_slot_ends() -> None:
    assert not is_unattended_after(CONFIG, DAY, "11:00", 30, datetime(2026, 12, 1, 10, 29, tzinfo=UTC))
    assert is_unattended_after(CONFIG, DAY, "11:00", 30, datetime(2026, 12, 1, 10, 30, tzinfo=UTC))
