"""Attendance in storage: a booking's attendance read and written in bulk, a customer's own confirmation, and each
customer's no-show and late-cancellation counts.

Marking many bookings at once is a batch of the system agent's service (`system_agent/marking.py`), so that it is
recorded, confirmed and undone like every batch; this module holds what that batch and the single verbs share.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar.changelog import log_change
from domain.clock import Clock, system_clock
from domain.config import ClinicConfig
from domain.rules.attendance import Attendance
from domain.rules.identities import normalize_wa_id
from domain.rules.planning import ACTIVE, CANCELLED, Booking, ReservationStatus
from domain.staff.audit import AuditLog
from domain.staff.roles import customer_signature
from domain.storage.database import Database
from domain.storage.models import Reservation
from domain.storage.store import not_ended
from domain.views import View


@dataclass(frozen=True, slots=True)
class AttendanceEdit:
    """The attendance a batch writes on one reservation (item `index`), and the one it had."""

    index: int
    reservation_id: int
    attendance: str
    before: str


class AttendanceCounts(View):
    """How often a customer did not come, and cancelled late."""

    no_shows: int = 0
    late_cancels: int = 0


async def load_attendance(session: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    """The attendance of each of these reservations."""
    wanted = sorted(set(ids))
    found: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        rows = await session.execute(select(Reservation.id, Reservation.attendance)
                                     .where(Reservation.id.in_(wanted[start:start + 500])))
        found.update({row[0]: row[1] for row in rows})
    return found


async def write_attendance(session: AsyncSession, edits: Sequence[AttendanceEdit], now: datetime) -> None:
    """Write each edit's attendance (one statement per value), stamping when it was marked."""
    by_value: dict[str, list[int]] = {}
    for edit in edits:
        by_value.setdefault(edit.attendance, []).append(edit.reservation_id)
    for value, ids in by_value.items():
        for start in range(0, len(ids), 500):
            await session.execute(update(Reservation).where(Reservation.id.in_(ids[start:start + 500]))
                                  .values(attendance=value, attendance_at=now, updated_at=now)
                                  .execution_options(synchronize_session=False))


async def attendance_counts(session: AsyncSession, wa_ids: Iterable[str]) -> dict[str, AttendanceCounts]:
    """Each customer's no-shows and late cancellations (customers with neither are left out)."""
    wanted = sorted(set(wa_ids))
    counts: dict[str, AttendanceCounts] = {}
    no_show = func.sum(case((Reservation.status == ReservationStatus.NO_SHOW, 1), else_=0))
    late = func.sum(case((and_(Reservation.status == CANCELLED, Reservation.late_cancel.is_(True)), 1), else_=0))
    for start in range(0, len(wanted), 500):
        rows = await session.execute(
            select(Reservation.wa_id, no_show, late).where(Reservation.wa_id.in_(wanted[start:start + 500]))
            .group_by(Reservation.wa_id))
        counts.update({row[0]: AttendanceCounts(no_shows=int(row[1] or 0), late_cancels=int(row[2] or 0))
                       for row in rows if row[1] or row[2]})
    return counts


class AttendanceService:
    """A customer's own confirmation, and the attendance counts the reads show."""

    def __init__(self, db: Database, config: ClinicConfig, clock: Clock = system_clock) -> None:
        self.db, self.config, self.clock = db, config, clock
        self.audit = AuditLog(db, config, clock)

    async def confirm_by_customer(self, wa_id: str, reservation_id: int) -> bool:
        """Mark the customer's own active booking confirmed, before its slot ends: True when it is confirmed now
        (a second press included); False when it is not theirs, cancelled, a no-show, arrived or over. Signed
        as the customer's in the reservation's history."""
        wa_id = normalize_wa_id(wa_id)
        async with self.db.unit_of_work() as session:
            now = self.clock()
            mine = and_(Reservation.id == reservation_id, Reservation.wa_id == wa_id, Reservation.status == ACTIVE,
                        not_ended(self.config, now))
            marked = (await session.execute(
                update(Reservation).where(mine, Reservation.attendance == Attendance.BOOKED.value)
                .values(attendance=Attendance.CONFIRMED.value, attendance_at=now, updated_at=now)
                .returning(Reservation.id, Reservation.wa_id, Reservation.date, Reservation.time_slot,
                           Reservation.type, Reservation.status)
                .execution_options(synchronize_session=False))).first()
            if marked is not None:
                booking = Booking(*marked)
                log_change(session, self.audit, customer_signature(wa_id), "confirmed", booking, booking, now)
            confirmed = await session.scalar(select(Reservation.id).where(
                mine, Reservation.attendance == Attendance.CONFIRMED.value))
        return confirmed is not None

    async def counts(self, wa_ids: Iterable[str]) -> dict[str, AttendanceCounts]:
        """Each customer's no-shows and late cancellations (customers with neither are left out)."""
        async with self.db.reading() as session:
            return await attendance_counts(session, wa_ids)
