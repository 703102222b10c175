"""How far the notices got: counts by status of a batch, a customer or all, the failures with their reasons,
the unsure ones an operator decides, and the newest batches that messaged customers (the console's panel,
`system_get_notices`). Declared shapes (`NoticeStats`, `NoticeBatch`, ...) for the MCP tool and the console's
notices panel (`chat_bridge/static/notices.js`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from domain.config import ClinicConfig
from domain.storage.database import Database
from domain.storage.models import BatchRecord, Customer, Notice
from domain.notices.outbox import STATUSES
from domain.clock import local_iso
from domain.views import View

FAILURE_ROWS = 50
UNSURE_ROWS = 50
RECIPIENT_ROWS = 200  # a batch's recipients a history shows; its counts say how many more


class NoticeFailure(View):
    """A notice that failed or was skipped, with why and when."""

    notice_id: int
    wa_id: str
    customer_name: str | None
    purpose: str
    status: str
    error: str | None
    error_code: int | None
    at: str | None


class UnsureNotice(View):
    """A notice whose send began with nothing to say whether WhatsApp took it: an operator decides."""

    notice_id: int
    wa_id: str
    customer_name: str | None
    purpose: str
    batch_id: str | None
    text: str
    attempted_at: str | None
    error: str | None


class NoticeRecipient(View):
    """A customer a batch messaged: who, what for, and how far the notice got."""

    notice_id: int
    wa_id: str
    customer_name: str | None
    purpose: str
    status: str


class NoticeStats(View):
    """Notices by status (of a batch, a customer or all), the newest failures and every unsure one."""

    total: int
    by_status: dict[str, int]
    failures: list[NoticeFailure]
    unsure: list[UnsureNotice]


class NoticeBatch(View):
    """A batch that queued notices: its tool, when it ran, its notices by status and its newest failures."""

    batch_id: str
    tool: str | None
    created_at: str | None
    total: int
    by_status: dict[str, int]
    failures: list[NoticeFailure]


class NoticeReports:
    """Reads the outbox for operators and the system agent; never writes."""

    def __init__(self, db: Database, clinic: ClinicConfig) -> None:
        self.db, self.clinic = db, clinic

    async def stats(self, batch_id: str | None = None, wa_id: str | None = None) -> NoticeStats:
        """Notices by status (of one batch, or one customer, or all), the failed ones and the unsure ones, newest
        first."""
        where = [Notice.batch_id == batch_id] if batch_id else [Notice.wa_id == wa_id] if wa_id else []
        async with self.db.reading() as session:
            counts = dict((await session.execute(
                select(Notice.status, func.count()).where(*where).group_by(Notice.status))).all())
            failed = (await session.execute(_failures(*where).order_by(Notice.id.desc()).limit(FAILURE_ROWS))).all()
        return NoticeStats(**self._stats(counts, failed), unsure=await self.unsure(*where))

    async def unsure(self, *where: Any) -> list[UnsureNotice]:
        """The `unsure` notices (and replies) matching `where`, newest first: a send began and nothing says
        whether WhatsApp took it, so an operator decides whether to send it again."""
        query = (select(Notice.id, Notice.wa_id, Customer.name, Notice.purpose, Notice.batch_id, Notice.text,
                        Notice.attempted_at, Notice.error)
                 .outerjoin(Customer, Customer.wa_id == Notice.wa_id)
                 .where(*where, Notice.status == "unsure").order_by(Notice.id.desc()).limit(UNSURE_ROWS))
        async with self.db.reading() as session:
            rows = (await session.execute(query)).all()
        return [UnsureNotice(notice_id=r.id, wa_id=r.wa_id, customer_name=r.name, purpose=r.purpose,
                             batch_id=r.batch_id, text=r.text, attempted_at=local_iso(self.clinic, r.attempted_at),
                             error=r.error) for r in rows]

    async def recipients(self, batch_id: str, limit: int = RECIPIENT_ROWS) -> list[NoticeRecipient]:
        """Whom a batch messaged, in the order it queued them (at most `limit`), each notice's status."""
        query = (select(Notice.id, Notice.wa_id, Customer.name, Notice.purpose, Notice.status)
                 .outerjoin(Customer, Customer.wa_id == Notice.wa_id)
                 .where(Notice.batch_id == batch_id).order_by(Notice.id).limit(limit))
        async with self.db.reading() as session:
            rows = (await session.execute(query)).all()
        return [NoticeRecipient(notice_id=r.id, wa_id=r.wa_id, customer_name=r.name, purpose=r.purpose,
                                status=r.status) for r in rows]

    async def batches(self, limit: int = 10) -> list[NoticeBatch]:
        """The newest batches that queued notices (the console's panel): each with its tool, when, the counts
        by status and its failures. Four statements, however many batches."""
        async with self.db.reading() as session:
            ids: list[str] = [i for i in await session.scalars(
                select(Notice.batch_id).where(Notice.batch_id.is_not(None)).group_by(Notice.batch_id)
                .order_by(func.max(Notice.id).desc()).limit(limit)) if i is not None]
            records = {r.id: r for r in (await session.execute(
                select(BatchRecord.id, BatchRecord.tool, BatchRecord.created_at).where(BatchRecord.id.in_(ids)))).all()}
            counts: dict[str | None, dict[str, int]] = {}
            for batch_id, status, count in (await session.execute(
                    select(Notice.batch_id, Notice.status, func.count()).where(Notice.batch_id.in_(ids))
                    .group_by(Notice.batch_id, Notice.status))).all():
                counts.setdefault(batch_id, {})[status] = count
            newest = func.row_number().over(partition_by=Notice.batch_id, order_by=Notice.id.desc()).label("n")
            ranked = _failures(Notice.batch_id.in_(ids)).add_columns(Notice.batch_id.label("batch"), newest).subquery()
            failed: dict[str, list[Any]] = {}
            for row in (await session.execute(
                    select(ranked).where(ranked.c.n <= FAILURE_ROWS).order_by(ranked.c.id.desc()))).all():
                failed.setdefault(row.batch, []).append(row)
        shown = []
        for batch_id in ids:
            record = records.get(batch_id)
            shown.append(NoticeBatch(batch_id=batch_id, tool=record.tool if record else None,
                                     created_at=local_iso(self.clinic, record.created_at) if record else None,
                                     **self._stats(counts.get(batch_id, {}), failed.get(batch_id, []))))
        return shown

    def _stats(self, counts: dict[str, int], failed: Sequence[Any]) -> dict[str, Any]:
        """The counts by status and the failures, as the fields of a `NoticeStats` or a `NoticeBatch`."""
        return {"total": sum(counts.values()), "by_status": {s: counts.get(s, 0) for s in STATUSES},
                "failures": [NoticeFailure(notice_id=r.id, wa_id=r.wa_id, customer_name=r.name, purpose=r.purpose,
                                           status=r.status, error=r.error, error_code=r.error_code,
                                           at=local_iso(self.clinic, r.updated_at)) for r in failed]}


def _failures(*where: Any) -> Any:
    """The failed and skipped notices matching `where`, with their customer's name."""
    return (select(Notice.id, Notice.wa_id, Customer.name, Notice.purpose, Notice.status, Notice.error,
                   Notice.error_code, Notice.updated_at)
            .outerjoin(Customer, Customer.wa_id == Notice.wa_id)
            .where(*where, Notice.status.in_(("failed", "skipped"))))
