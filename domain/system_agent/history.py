"""The batches anyone can find: the newest applied batches, each with who ran it (signed: `authors`), when, what it
did in words, its counts, its notices by status, and whether and how it can be undone. A model that lost a batch id
from its history finds it here ("undo this morning's move"). One declared shape (`BatchHistory`) for the MCP tool and
resource."""

from __future__ import annotations

import json
import unicodedata
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from domain.clock import local_iso
from domain.config import ClinicConfig
from domain.storage.database import Database
from domain.rules.identities import HIDDEN_CATEGORIES
from domain.storage.models import BatchRecord, Notice
from domain.system_agent.authors import authors
from domain.views import View

MAX_LISTED = 100
WHAT_LENGTH = 80  # characters of a message's text or a closure's title a listing repeats


class ListedBatch(View):
    """An applied batch as a listing shows it: who ran it (`by`: operator, agent, client, customer or system;
    `author`: the staff member's username when an account signed it, `author_name` their display name), when, what
    it did in words and in counts, its notices by status, and whether and how it can be undone."""

    batch_id: str
    tool: str
    by: str
    author: str | None
    author_name: str | None
    request: str | None
    at: str | None
    what: str
    ok: int
    failed: int
    by_action: dict[str, int]
    notices: dict[str, int]
    undone_at: str | None
    undo: str


class BatchHistory(View):
    """A page of the newest applied batches, newest first, with how many there are and where the next page
    starts."""

    total: int
    offset: int
    timezone: str
    batches: list[ListedBatch]
    next_offset: int | None


async def recent_batches(db: Database, config: ClinicConfig, limit: int = 20, offset: int = 0) -> BatchHistory:
    """The newest applied batches from `offset` on (at most `MAX_LISTED`), newest first, and how many there are."""
    limit = max(1, min(limit, MAX_LISTED))
    async with db.reading() as session:
        total = int(await session.scalar(select(func.count()).select_from(BatchRecord)) or 0)
        offset = max(0, min(offset, total))  # past the end lists nothing (and a huge offset never reaches SQL)
        rows = (await session.execute(
            select(BatchRecord.id, BatchRecord.tool, BatchRecord.actor, BatchRecord.created_at, BatchRecord.undone_at,
                   BatchRecord.arguments, BatchRecord.result, BatchRecord.request)
            .order_by(BatchRecord.created_at.desc(), BatchRecord.id.desc()).offset(offset).limit(limit))).all()
        told: dict[str, dict[str, int]] = defaultdict(dict)
        if rows:
            for batch_id, status, count in (await session.execute(
                    select(Notice.batch_id, Notice.status, func.count())
                    .where(Notice.batch_id.in_([r.id for r in rows])).group_by(Notice.batch_id, Notice.status))).all():
                told[str(batch_id)][status] = int(count)
        signed = await authors(session, [r.actor for r in rows])
    batches = []
    for row in rows:
        summary = (row.result or {}).get("summary") or {}
        batches.append(ListedBatch(
            batch_id=row.id, tool=row.tool, **signed[row.actor].model_dump(),
            request=row.request,  # for the agent's: the operator's message it answered, when its client said
            at=local_iso(config, row.created_at), what=described(row.tool, row.arguments or {}),
            ok=int(summary.get("ok") or 0), failed=int(summary.get("failed") or 0),
            by_action=summary.get("by_action") or {}, notices=told.get(row.id, {}),
            undone_at=local_iso(config, row.undone_at), undo=undo_note(row.tool, row.undone_at is not None)))
    return BatchHistory(total=total, offset=offset, timezone=config.timezone, batches=batches,
                        next_offset=offset + len(rows) if offset + len(rows) < total else None)


def undo_note(tool: str, undone: bool) -> str:
    """Whether and how the batch can be undone."""
    if undone:
        return "already undone"
    if tool == "system_message_customers":
        return "system_undo_batch withdraws the messages not sent yet"
    return "system_undo_batch reverts what the calendar still allows"


def described(tool: str, arguments: dict[str, Any]) -> str:
    """What a batch was asked to do, in words, from its recorded arguments."""
    parts: list[str] = []
    if isinstance(requests := arguments.get("requests"), list):
        parts.append(f"{len(requests)} listed item(s)")
    if isinstance(mark := arguments.get("mark"), str):
        parts.append(f"mark {mark}")
    if isinstance(ids := arguments.get("reservation_ids"), list):
        parts.append(f"{len(ids)} listed reservation(s)")
    if isinstance(wa_ids := arguments.get("wa_ids"), list):
        parts.append(f"{len(wa_ids)} listed customer(s)")
    if isinstance(filters := arguments.get("filters"), dict):
        parts.append(_filters(filters))
    if isinstance(updates := arguments.get("updates"), dict):
        moved = ", ".join(f"{key.removeprefix('new_')} {value}" for key, value in updates.items() if value is not None)
        parts.append(f"to {moved}")
    if "recall" in arguments:
        parts.append("customers a recall found")
    if tool == "system_close_days" or tool == "system_reopen_days":
        parts.append(_closure(arguments))
    if tool == "system_undo_batch":
        parts.append(f"undo of {arguments.get('batch_id')}")
    if isinstance(text := arguments.get("text"), str):
        parts.append(f"text {_short(text)}")
    if arguments.get("notify") and tool != "system_message_customers":  # a message is its own telling
        parts.append("customers told")
    return "; ".join(p for p in parts if p) or "-"


def _filters(filters: dict[str, Any]) -> str:
    words = []
    if filters.get("date"):
        words.append(f"day {filters['date']}")
    if filters.get("attendance"):
        words.append("marked " + "/".join(str(a) for a in filters["attendance"]))
    if filters.get("dates"):
        words.append("days " + ", ".join(str(d) for d in filters["dates"]))
    if filters.get("start_date") or filters.get("end_date"):
        words.append(f"from {filters.get('start_date') or '…'} to {filters.get('end_date') or '…'}")
    if filters.get("search_query"):
        words.append(f"customers matching {_short(str(filters['search_query']))}")
    for key in ("time_slot", "reservation_type", "wa_id"):
        if filters.get(key) is not None:
            words.append(f"{key} {filters[key]}")
    return "filters: " + (", ".join(words) or "every upcoming reservation")


def _closure(arguments: dict[str, Any]) -> str:
    if "closure_id" in arguments:
        return f"closure {arguments['closure_id']}"
    hours = arguments.get("hours")
    span = f" {hours[0]}–{hours[1]}" if isinstance(hours, list) and len(hours) == 2 else ""
    end = arguments.get("end_date") or arguments.get("start_date")
    return f"{arguments.get('start_date')} to {end}{span}, {_short(str(arguments.get('title') or ''))}"


def _short(text: str) -> str:
    """Words someone wrote, without the characters that hide or break a line, quoted as JSON (one line, delimited)
    and cut to `WHAT_LENGTH` characters."""
    visible = "".join(char for char in text if unicodedata.category(char) not in HIDDEN_CATEGORIES)
    return json.dumps(visible if len(visible) <= WHAT_LENGTH else visible[:WHAT_LENGTH] + "…", ensure_ascii=False)


__all__ = ["MAX_LISTED", "BatchHistory", "ListedBatch", "described", "recent_batches", "undo_note"]
