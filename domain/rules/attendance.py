"""Attendance: what a booking's public status is, which marks it can take and when, and when a cancellation is late.

A reservation keeps its capacity-relevant status (`active`, `cancelled`, `no_show`) apart from its attendance
(`booked`, `confirmed`, `arrived`); the status a person reads is derived from both, and from whether a cancellation
came inside the late window. Pure: no I/O.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.rules.planning import ACTIVE, CANCELLED, ReservationStatus
from domain.rules.schedule import slot_end, slot_start


class Attendance(StrEnum):
    """What is known of a booking's customer coming: stored in `reservations.attendance`."""

    BOOKED = "booked"
    CONFIRMED = "confirmed"
    ARRIVED = "arrived"


class Mark(StrEnum):
    """What an operator (or the system) marks a booking: one of its attendances, or a no-show."""

    CONFIRMED = "confirmed"
    ARRIVED = "arrived"
    NO_SHOW = "no_show"


class PublicStatus(StrEnum):
    """The one status a person reads."""

    BOOKED = "booked"
    CONFIRMED = "confirmed"
    ARRIVED = "arrived"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    LATE_CANCELLED = "late_cancelled"


def public_status(status: str, attendance: str, late_cancel: bool) -> PublicStatus:
    """The status shown for a reservation's stored status, attendance and late flag."""
    if status == ReservationStatus.NO_SHOW:
        return PublicStatus.NO_SHOW
    if status == CANCELLED:
        return PublicStatus.LATE_CANCELLED if late_cancel else PublicStatus.CANCELLED
    return PublicStatus(attendance) if attendance in _KNOWN else PublicStatus.BOOKED


def is_late_cancel(config: ClinicConfig, day: date, slot: str, now: datetime) -> bool:
    """A cancellation at `now` is late when it comes within `late_cancel_hours` of the slot's start (0: never)."""
    if config.late_cancel_hours <= 0:
        return False
    return slot_start(config, day, slot) - now <= timedelta(hours=config.late_cancel_hours)


def marked(status: str, attendance: str, mark: Mark) -> tuple[ReservationStatus, Attendance]:
    """The stored status and attendance after `mark`: a no-show keeps the attendance it had (booked or confirmed);
    confirmed and arrived make the booking active again (a no-show corrected)."""
    if mark == Mark.NO_SHOW:
        return ReservationStatus.NO_SHOW, Attendance(attendance) if attendance in _KNOWN else Attendance.BOOKED
    return ACTIVE, Attendance(mark.value)


def check_mark(config: ClinicConfig, day: date, slot: str, status: str, attendance: str, mark: Mark,
               now: datetime) -> None:
    """Refuse a mark the booking cannot take: never on a cancelled booking; arrived and no-show only once its slot
    has started; confirmed only before its slot ends, and never over an arrival or a no-show; nor the mark it has."""
    if status == CANCELLED:
        raise DomainError("reservation_cancelled")
    if marked(status, attendance, mark) == (status, attendance):
        raise DomainError("attendance_unchanged", mark=mark.value)
    if mark in (Mark.ARRIVED, Mark.NO_SHOW) and now < slot_start(config, day, slot):
        raise DomainError("attendance_too_early", mark=mark.value)
    if mark == Mark.CONFIRMED:
        if slot_end(config, day, slot) <= now:
            raise DomainError("past_reservation")
        if status != ACTIVE or attendance == Attendance.ARRIVED:
            raise DomainError("attendance_unchanged", mark=mark.value)


def is_unattended_after(config: ClinicConfig, day: date, slot: str, minutes: int, now: datetime) -> bool:
    """Whether `minutes` have passed since the slot ended (the automatic no-show's moment)."""
    return slot_end(config, day, slot) + timedelta(minutes=minutes) <= now


_KNOWN = frozenset(a.value for a in Attendance)
