"""The record an applied batch keeps: written in the batch's own transaction with its line of the audit log, found
again by its idempotency key, and read back as the batch's answer with every reservation it changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import model_serializer
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar.customers import customer_names
from domain.clock import local_iso
from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.staff.audit import AuditEvent
from domain.storage.database import Database, json_text
from domain.storage.models import BatchRecord
from domain.system_agent.audit import recorded_changes
from domain.system_agent.effects import Effects
from domain.system_agent.options import BatchOptions
from domain.system_agent.report import BatchReport, BatchSummary
from domain.system_agent.undo import batch_key
from domain.views import View


class RecordedChange(View):
    """A reservation a recorded batch changed, as an answer's item row: where it was and where it is."""

    index: int
    status: Literal["ok"] = "ok"
    reservation_id: int | None
    wa_id: str | None
    customer_name: str | None
    action: str
    from_date: str | None
    from_time: str | None
    date: str | None
    time_slot: str | None


class RecordedBatch(View):
    """An applied batch as recorded. `answer` is the batch's answer as it was stored (JSON, passed through);
    it dumps as that answer with `status`, `created_at`, `undone_at` and `changes` set."""

    answer: dict[str, Any]
    created_at: str
    undone_at: str | None
    changes: list[RecordedChange]

    @model_serializer(mode="wrap")
    def _flat(self, dump: Any) -> dict[str, Any]:
        shaped: dict[str, Any] = dump(self)
        return dict(shaped.pop("answer"), status="applied", **shaped)


async def recorded_batch(db: Database, config: ClinicConfig, batch_id: str) -> RecordedBatch:
    """An applied batch as recorded: its answer (counts, failures by reason), when it ran and whether it
    was undone, and every reservation it changed, with the customers' names."""
    async with db.unit_of_work() as session:
        record = await session.get(BatchRecord, batch_key(batch_id))
        if record is None:
            raise DomainError("batch_not_found", batch_id=batch_id)
        changed = [c for c in recorded_changes(record.changes) if "before" in c]
        names = await customer_names(session, {(c["after"] or c["before"])["wa_id"] for c in changed})
    return RecordedBatch(answer=record.result, created_at=local_iso(config, record.created_at) or "",
                         undone_at=local_iso(config, record.undone_at),
                         changes=[_change_row(c, names) for c in changed])


async def record_batch(session: AsyncSession, report: BatchReport, arguments: dict[str, Any], options: BatchOptions,
                       asked: bool, changes: str, now: datetime, effects: Effects | None) -> AuditEvent:
    """Keep the applied batch's record in its own transaction: its answer, arguments, changes and effects. Its
    line of the audit log, for the caller to add in the same transaction."""
    result = report.to_dict("summary", failure_items=None)
    # Every value goes with the execution: a statement keeps the values it was built with in
    # SQLAlchemy's cache, and these can weigh megabytes.
    await session.execute(_RECORD.values(changes=json_text(session, "changes")), {
        "id": report.batch_id, "tool": report.tool, "actor": options.actor, "arguments": jsonable(arguments),
        "result": result, "changes": changes,
        "idempotency_key": options.idempotency_key, "created_at": now, "turn": options.turn,
        "request": options.request,
        "effects": effects.to_json() if effects is not None else None, "asked": asked})
    return batch_event(report, arguments, options, result["summary"])


def batch_event(report: BatchReport, arguments: dict[str, Any], options: BatchOptions,
                summary: BatchSummary) -> AuditEvent:
    """An applied batch's line of the audit log: who ran which tool, as which batch, and its counts (an undo names
    the batch it undoes)."""
    detail: dict[str, Any] = {"ok": summary["ok"], "failed": summary["failed"], "by_action": summary["by_action"]}
    if report.tool == "system_undo_batch":
        detail["undoes"] = arguments.get("batch_id")
    return AuditEvent(actor=options.actor, role=options.role, action=f"batch {report.tool}", target=report.batch_id,
                      detail=detail)


async def stored_report(db: Database, config: ClinicConfig, tool: str, arguments: dict[str, Any],
                        options: BatchOptions) -> BatchReport | None:
    """The first result of this key; a key is bound to its tool and arguments, so another call with it
    is refused rather than answered with a result that is not its own."""
    async with db.unit_of_work() as session:
        keyed = BatchRecord.idempotency_key == options.idempotency_key
        record = await session.scalar(select(BatchRecord).where(keyed))
    if record is None:
        return None
    if record.tool != tool or record.arguments != jsonable(arguments):
        raise DomainError("idempotency_key_reused", key=options.idempotency_key, tool=record.tool)
    return BatchReport(record.tool, options.mode, config, status="replayed", batch_id=record.id,
                       stored=record.result)


_RECORD = insert(BatchRecord.__table__)  # type: ignore[arg-type]


def _change_row(change: dict[str, Any], names: dict[str, str | None]) -> RecordedChange:
    """A recorded change as a batch answer's item row."""
    before, after = change.get("before") or {}, change.get("after") or {}
    wa_id = after.get("wa_id") or before.get("wa_id")
    return RecordedChange(index=change["index"], reservation_id=after.get("id") or before.get("id"), wa_id=wa_id,
                          customer_name=names.get(wa_id or ""), action=change["action"],
                          from_date=before.get("date"), from_time=before.get("time_slot"),
                          date=after.get("date"), time_slot=after.get("time_slot"))


def jsonable(value: Any) -> Any:
    """`value` with anything JSON cannot hold as its text, so that arguments compare as they were stored."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)
