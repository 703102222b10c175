"""Undoing an applied batch: each change is reverted where the calendar still allows it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.customers import change_wa_id, rename_customer
from domain.errors import DomainError
from domain.models import BatchRecord
from domain.planning import Booking, CalendarState, Change, RuleContext, plan_cancel, plan_modify, plan_restore
from domain.schedule import parse_date
from domain.store import load_state, lock_calendar
from domain.system_agent.report import ItemResult

_CANCEL_AFTER = ("created", "reinstated", "restored")


def booking_from(row: dict[str, Any]) -> Booking:
    return Booking(row["id"], row["wa_id"], parse_date(row["date"]), row["time_slot"], row["type"], row["status"])


async def load_record(session: AsyncSession, batch_id: str) -> BatchRecord:
    record = await session.get(BatchRecord, batch_id)
    if record is None:
        raise DomainError("batch_not_found", batch_id=batch_id)
    if record.undone_at is not None:
        raise DomainError("batch_already_undone", batch_id=batch_id)
    return record


async def undo_state(session: AsyncSession, ctx: RuleContext, record: BatchRecord) -> CalendarState:
    """Lock and load every customer and slot the batch touched."""
    rows = [booking_from(c[k]) for c in record.changes for k in ("before", "after") if c.get(k)]
    await lock_calendar(session, {b.wa_id for b in rows}, {b.slot for b in rows})
    return await load_state(session, ctx.today, {b.wa_id for b in rows}, {b.date for b in rows}, {b.id for b in rows})


def revert(ctx: RuleContext, state: CalendarState, change: dict[str, Any]) -> Change:
    """The change that puts one reservation back as it was before the batch."""
    after = booking_from(change["after"])
    current = state.bookings.get(after.id)
    if current != after:
        raise DomainError("changed_since")
    if change["action"] in _CANCEL_AFTER:
        return plan_cancel(ctx, state, current)
    if change["action"] == "cancelled":
        return plan_restore(ctx, state, current)
    before = booking_from(change["before"])
    return plan_modify(ctx, state, current, before.date, before.time_slot, before.type)


async def revert_customer(session: AsyncSession, change: dict[str, Any]) -> None:
    wa_id = change["wa_id"]
    if change.get("new_wa_id") and change["new_wa_id"] != wa_id:
        await change_wa_id(session, change["new_wa_id"], wa_id)
    if change.get("new_name") and change.get("old_name"):
        await rename_customer(session, wa_id, change["old_name"])


def undo_item(index: int, change: dict[str, Any], result: Change | DomainError) -> ItemResult:
    after = change.get("after") or {}
    if isinstance(result, DomainError):
        return ItemResult(index, "failed", after.get("wa_id") or change.get("wa_id"), after.get("id"),
                          before=booking_from(after) if after else None, error=result)
    return ItemResult(index, "ok", result.after.wa_id, result.after.id, result.action, result.before, result.after)


def mark_undone(record: BatchRecord) -> None:
    record.undone_at = datetime.now(UTC)
