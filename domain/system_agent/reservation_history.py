"""Each reservation's history: when it was made and by whom, then every change (moved, changed, cancelled,
reinstated, marked, restored or taken back by an undo), each with when and who signed it (`authors`).

Nothing is written per row for it on the batch path: a batch's changes are read back from its record (`batches.
changes`), the records found by the customer's number in their text (and by the numbers the customer had before, a
few renumberings back); a change made alone is read from `reservation_history` (`domain.calendar.changelog`). A
booking made before either was kept shows its creation time with no author."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar.customers import customer_names
from domain.clock import local_iso
from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.storage.database import Database
from domain.storage.models import BatchRecord, Reservation, ReservationChange
from domain.system_agent.audit import changes_of
from domain.system_agent.authors import Author, authors
from domain.views import View

FORMER_NUMBERS = 5  # renumberings of a customer followed back to find the batches of their earlier number


class HistoryEvent(View):
    """One step of a reservation's history: when, what (`action`: created, moved, modified, cancelled, reinstated,
    restored, confirmed, arrived, no_show, unmarked), who signed it (`by` None: not recorded), by which batch (None:
    made alone), and where the booking was (`from_date`, `from_time`) and is after it (`date`, `time_slot`)."""

    at: str | None
    action: str
    by: str | None
    author: str | None = None
    author_name: str | None = None
    batch_id: str | None = None
    tool: str | None = None
    from_date: str | None = None
    from_time: str | None = None
    date: str | None = None
    time_slot: str | None = None
    status: str | None = None


class ReservationHistory(View):
    """A reservation's history, oldest first, its times in the clinic's zone."""

    reservation_id: int
    wa_id: str
    customer_name: str | None
    timezone: str
    events: list[HistoryEvent]


@dataclass(frozen=True)
class _Step:
    at: datetime
    actor: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    batch_id: str | None = None
    tool: str | None = None


async def reservation_history(db: Database, config: ClinicConfig, reservation_id: int) -> ReservationHistory:
    """The history of reservation `reservation_id`; `reservation_not_found` when there is none."""
    async with db.reading() as session:
        row = await session.get(Reservation, reservation_id) if 0 < reservation_id < 2**31 else None
        if row is None:
            raise DomainError("reservation_not_found")
        steps = sorted(await _alone(session, row.id) + await _batched(session, row.id, row.wa_id), key=lambda s: s.at)
        signed = await authors(session, {s.actor for s in steps})
        name = (await customer_names(session, [row.wa_id])).get(row.wa_id)
    events = [_event(config, step, signed[step.actor]) for step in steps]
    if not any(s.before is None for s in steps):  # made before its changes were kept
        events.insert(0, HistoryEvent(at=local_iso(config, row.created_at), action="created", by=None))
    return ReservationHistory(reservation_id=row.id, wa_id=row.wa_id, customer_name=name, timezone=config.timezone,
                              events=events)


async def _alone(session: AsyncSession, reservation_id: int) -> list[_Step]:
    rows = await session.scalars(select(ReservationChange).where(ReservationChange.reservation_id == reservation_id)
                                 .order_by(ReservationChange.id))
    return [_Step(r.at, r.actor, r.action, r.before, r.after) for r in rows]


async def _batched(session: AsyncSession, reservation_id: int, wa_id: str) -> list[_Step]:
    """The reservation's changes in the batch records that name its customer's number, or a former one."""
    records: dict[str, Any] = {}
    pending, searched = {wa_id}, set[str]()
    while pending and len(searched) < FORMER_NUMBERS:
        number = pending.pop()
        searched.add(number)
        named = cast(BatchRecord.changes, Text).contains(f'"{number}"', autoescape=True)
        query = select(BatchRecord.id, BatchRecord.tool, BatchRecord.actor, BatchRecord.created_at,
                       BatchRecord.changes).where(named)
        for record in (await session.execute(query)).all():
            records.setdefault(record.id, record)
            pending |= {row["wa_id"] for row in record.changes if _renumbered(row, number)} - searched
    return [_Step(r.created_at, r.actor, change["action"], change.get("before"), change.get("after"), r.id, r.tool)
            for r in records.values() for change in changes_of(r.changes, reservation_id)]


def _renumbered(row: Any, number: str) -> bool:
    """Whether a record's row gave a customer the number `number` (their former one is its `wa_id`)."""
    return isinstance(row, dict) and row.get("action") == "customer" and row.get("new_wa_id") == number


def _event(config: ClinicConfig, step: _Step, author: Author) -> HistoryEvent:
    before, after = step.before or {}, step.after or {}
    return HistoryEvent(at=local_iso(config, step.at), action=step.action, **author.model_dump(),
                        batch_id=step.batch_id, tool=step.tool, from_date=before.get("date"),
                        from_time=before.get("time_slot"), date=after.get("date"), time_slot=after.get("time_slot"),
                        status=after.get("status"))
