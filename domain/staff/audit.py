"""The append-only audit log: who did or tried what, to what, and whether it was refused. The database itself
refuses to change or delete a line (migration 0015's triggers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock, local_iso, system_clock
from domain.config import ClinicConfig
from domain.storage.database import Database
from domain.storage.models import AuditEntry

OK = "ok"
REFUSED = "refused"
MAX_LISTED = 200


@dataclass(frozen=True)
class AuditEvent:
    """One line to append. `target`: what it was done to (a path, a batch id, a username, a tool)."""

    actor: str
    action: str
    outcome: str = OK
    role: str | None = None
    target: str | None = None
    detail: dict[str, Any] | None = None

    def row(self, at: datetime) -> AuditEntry:
        return AuditEntry(at=at, actor=self.actor[:100], role=self.role, action=self.action[:100],
                          target=self.target[:200] if self.target else None, outcome=self.outcome,
                          detail=self.detail)


class AuditLine(BaseModel):
    id: int
    at: str | None
    actor: str
    role: str | None
    action: str
    target: str | None
    outcome: str
    detail: dict[str, Any] | None


class AuditLog:
    """Appends lines and reads them back, newest first."""

    def __init__(self, db: Database, config: ClinicConfig, clock: Clock = system_clock) -> None:
        self.db, self.config, self.clock = db, config, clock

    async def record(self, event: AuditEvent) -> None:
        """Append one line in a transaction of its own."""
        async with self.db.unit_of_work() as session:
            self.add(session, event)

    def add(self, session: AsyncSession, event: AuditEvent) -> None:
        """Append one line within the caller's transaction (it stands or falls with the change it records)."""
        session.add(event.row(self.clock()))

    async def recent(self, limit: int = 50, before: int | None = None, actor: str | None = None,
                     outcome: str | None = None) -> list[AuditLine]:
        """The newest lines (before line `before`), optionally of one actor or outcome."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(max(1, min(limit, MAX_LISTED)))
        if before is not None:
            query = query.where(AuditEntry.id < before)
        if actor:
            query = query.where(AuditEntry.actor == actor)
        if outcome:
            query = query.where(AuditEntry.outcome == outcome)
        async with self.db.reading() as session:
            rows = (await session.scalars(query)).all()
        return [AuditLine(id=r.id, at=local_iso(self.config, r.at), actor=r.actor, role=r.role, action=r.action,
                          target=r.target, outcome=r.outcome, detail=r.detail) for r in rows]

    async def refusals(self, session: AsyncSession, action: str, since: datetime, *, target: str,
                       address: str | None) -> int:
        """How many `action` attempts were refused since `since` for `target` or from `address` (read in the
        caller's transaction, which holds the attempt's lock)."""
        who = [AuditEntry.target == target[:200]]
        if address:
            who.append(func.coalesce(AuditEntry.actor, "") == f"address:{address}"[:100])
        query = (select(func.count()).select_from(AuditEntry)
                 .where(AuditEntry.action == action, AuditEntry.outcome == REFUSED, AuditEntry.at >= since,
                        or_(*who)))
        return int(await session.scalar(query) or 0)
