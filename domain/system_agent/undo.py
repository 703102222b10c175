"""Undoing an applied batch: each change is reverted where the calendar still allows it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar.attendance import AttendanceEdit
from domain.errors import DomainError
from domain.rules.capacity import check_fits
from domain.storage.models import BatchRecord
from domain.rules.planning import (Booking, CalendarState, Change, ReservationStatus, RuleContext, plan_cancel, plan_modify,
                             plan_restore)
from domain.rules.schedule import parse_date
from domain.storage.store import load_state, lock_calendar
from domain.system_agent.report import ItemResult

_CANCEL_AFTER = ("created", "reinstated", "restored")
_BATCH_ID = re.compile(r"[0-9A-Za-z-]{1,64}")


@dataclass
class CustomerEdit:
    """A customer's rename or new number, written after the reservations of a batch."""

    index: int
    wa_id: str
    new_name: str | None
    new_wa_id: str | None
    old_name: str | None = None


def booking_from(row: dict[str, Any]) -> Booking:
    return Booking(row["id"], row["wa_id"], parse_date(row["date"]), row["time_slot"], row["type"],
                   ReservationStatus(row["status"]))


def batch_key(batch_id: str) -> str:
    """`batch_id` when it could name a batch (letters, digits and dashes, as a batch's id is); else
    `batch_not_found`, before any SQL (a NUL byte is refused by PostgreSQL's text type)."""
    if not _BATCH_ID.fullmatch(batch_id):
        raise DomainError("batch_not_found", batch_id=json.dumps(batch_id[:64]))
    return batch_id


async def load_record(session: AsyncSession, batch_id: str) -> BatchRecord:
    """The batch to undo, locked for this transaction: two undos of one batch run one after the other,
    and the second finds it undone."""
    record = await session.scalar(select(BatchRecord).where(BatchRecord.id == batch_key(batch_id)).with_for_update())
    if record is None:
        raise DomainError("batch_not_found", batch_id=batch_id)
    if record.undone_at is not None:
        raise DomainError("batch_already_undone", batch_id=batch_id)
    return record


def renumbered(changes: list[dict[str, Any]]) -> dict[str, str]:
    """The customers the batch moved to a new number: old wa_id -> new wa_id."""
    return {c["wa_id"]: c["new_wa_id"] for c in changes
            if c["action"] == "customer" and c.get("new_wa_id") and c["new_wa_id"] != c["wa_id"]}


async def undo_state(session: AsyncSession, ctx: RuleContext, changes: list[dict[str, Any]]) -> CalendarState:
    """Lock and load every customer (under both numbers) and slot the batch touched."""
    rows = [booking_from(c[k]) for c in changes for k in ("before", "after") if c.get(k)]
    customers = {b.wa_id for b in rows} | set(renumbered(changes).values())
    await lock_calendar(session, customers, {b.slot for b in rows})
    return await load_state(session, ctx.today, customers, {b.date for b in rows}, {b.id for b in rows})


def revert(ctx: RuleContext, state: CalendarState, change: dict[str, Any], numbers: dict[str, str]) -> Change:
    """The change that puts one reservation back as it was before the batch; `numbers` are the batch's
    number changes, so a reservation whose customer it renumbered is still recognised."""
    after = booking_from(change["after"])
    after = after._replace(wa_id=numbers.get(after.wa_id, after.wa_id))
    current = state.bookings.get(after.id)
    if current != after:
        raise DomainError("changed_since")
    if change["action"] in _CANCEL_AFTER:
        return plan_cancel(ctx, state, current)
    if change["action"] == "cancelled":
        return plan_restore(ctx, state, current)
    before = booking_from(change["before"])
    return plan_modify(ctx, state, current, before.date, before.time_slot, before.type)


def revert_mark(ctx: RuleContext, state: CalendarState, change: dict[str, Any], attendance: dict[int, str],
                index: int) -> tuple[Change, AttendanceEdit]:
    """Put a marked reservation back as it was (its status and attendance) if nothing changed it since; a no-show
    undone takes its place again only if the slot still has room."""
    before, after = booking_from(change["before"]), booking_from(change["after"])
    was, now_is = change["attendance"]
    current = state.bookings.get(after.id)
    if current is None or current != after or attendance.get(after.id) != now_is:
        raise DomainError("changed_since")
    if before.status == ReservationStatus.ACTIVE and current.status != ReservationStatus.ACTIVE:
        check_fits(ctx.config, state.occupancy(current.slot), current.type, ctx.source, ctx.max_reservations)
    result = state.apply(Change("unmarked", current, current._replace(status=before.status)))
    return result, AttendanceEdit(index, current.id, was, now_is)


def reverted_customer(index: int, change: dict[str, Any]) -> CustomerEdit:
    """The customer edit that takes back a rename and a number change (written with the rest)."""
    current = change.get("new_wa_id") or change["wa_id"]
    old_name = change.get("old_name") if change.get("new_name") else None
    back = change["wa_id"] if current != change["wa_id"] else None
    return CustomerEdit(index, current, old_name, back)


def undo_item(index: int, change: dict[str, Any], result: Change | DomainError) -> ItemResult:
    after = change.get("after") or {}
    if isinstance(result, DomainError):
        return ItemResult(index, "failed", after.get("wa_id") or change.get("wa_id"), after.get("id"),
                          before=booking_from(after) if after else None, error=result)
    return ItemResult(index, "ok", result.after.wa_id, result.after.id, result.action, result.before, result.after)


def mark_undone(record: BatchRecord, now: datetime) -> None:
    record.undone_at = now
