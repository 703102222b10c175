"""A reservation's changes made alone, signed: a row of `reservation_history` and a line of the audit log, both in
the change's own transaction. A batch writes neither per row: its record keeps its changes, and one audit line
(`domain.system_agent.records`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import BookingSource
from domain.rules.planning import Booking
from domain.staff.audit import AuditEvent, AuditLog
from domain.staff.roles import Signature, customer_signature
from domain.storage.models import ReservationChange


def booking_record(booking: Booking | None) -> dict[str, Any] | None:
    """A booking as the history keeps it, in the fields a batch's record uses."""
    if booking is None:
        return None
    return {"id": booking.id, "wa_id": booking.wa_id, "date": booking.date.isoformat(),
            "time_slot": booking.time_slot, "type": booking.type, "status": str(booking.status)}


def signature_for(by: Signature | None, source: BookingSource, wa_id: str) -> Signature:
    """Who signs a single change: as given; else, as before callers said, the customer's own when an agent booked
    (their assistant, a button) and the console's operator when an operator did."""
    if by is not None:
        return by
    return customer_signature(wa_id) if source == BookingSource.AGENT else Signature("operator")


def log_change(session: AsyncSession, audit: AuditLog, by: Signature, action: str, before: Booking | None,
               after: Booking, at: datetime) -> None:
    """Keep one change of the reservation `after.id` (a real id) and its audit line, in the caller's transaction."""
    old, new = booking_record(before), booking_record(after)
    session.add(ReservationChange(reservation_id=after.id, at=at, actor=by.actor[:100], action=action, before=old,
                                  after=new))
    audit.add(session, AuditEvent(actor=by.actor, role=by.role, action=f"reservation {action}", target=str(after.id),
                                  detail={"before": old, "after": new}))
