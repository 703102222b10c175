"""Writing a settled batch's plan in the batch's transaction, in bulk."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar.attendance import write_attendance
from domain.calendar.closures import write_closures
from domain.calendar.customers import change_wa_id, customer_names, rename_customer
from domain.storage.models import Notice
from domain.storage.store import ensure_customers, write_changes, write_late_cancels
from domain.system_agent.confirmation import redeem
from domain.system_agent.planners import Plan
from domain.system_agent.undo import CustomerEdit, mark_undone


async def write_plan(session: AsyncSession, plan: Plan, now: datetime) -> None:
    """Write a settled plan in the caller's transaction: its changes, customer edits, closures, withdrawn notices,
    the batch it undoes; the report gets the new reservations' ids and the batch its id."""
    if plan.redeemed is not None:
        await redeem(session, *plan.redeemed)
    await ensure_customers(session, plan.new_customers)
    ids = await write_changes(session, plan.changes)
    await write_late_cancels(session, plan.report.config, plan.changes, now)
    await write_attendance(session, plan.marks, now)
    for item in plan.report.items:
        if item.after is not None and item.after.id in ids:
            item.after = item.after._replace(id=ids[item.after.id])
            item.reservation_id = item.after.id
    for edit in plan.edits:
        await _apply_edit(session, edit)
    await write_closures(session, plan.closures)
    if plan.withdrawn:
        await session.execute(update(Notice).where(Notice.id.in_(plan.withdrawn)).values(
            status="skipped", error="withdrawn by an undo of its batch", lease_until=None, updated_at=now))
    if plan.undoes is not None:
        mark_undone(plan.undoes, now)
    plan.report.batch_id = str(uuid.uuid4())


async def _apply_edit(session: AsyncSession, edit: CustomerEdit) -> None:
    edit.old_name = (await customer_names(session, [edit.wa_id])).get(edit.wa_id)
    if edit.new_name:
        await rename_customer(session, edit.wa_id, edit.new_name)
    if edit.new_wa_id and edit.new_wa_id != edit.wa_id:
        await change_wa_id(session, edit.wa_id, edit.new_wa_id)
