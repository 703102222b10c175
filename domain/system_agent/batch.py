"""SystemAgentBatchService: set-based batches over the same rules as the single-item services.

A batch loads the occupancy of every slot and customer it touches once, plans each item with the
pure rules of `domain.rules.planning` (earlier items of the batch already applied to the counts), and
writes every change in bulk in one transaction: a cancelled call leaves nothing half-written.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock
from domain.calendar.customers import customer_names
from domain.config import BookingSource, ClinicConfig
from domain.rules.schedule import clinic_today
from domain.errors import DomainError
from domain.events import CalendarEvents
from domain.notices.outbox import queue_notices
from domain.notices.plans import NoticePlan, plan_message, plan_notices
from domain.notices.templates import NoticeConfig
from domain.rules.attendance import Mark
from domain.rules.planning import RuleContext
from domain.search.service import PhoneSearchService
from domain.staff.audit import AuditLog
from domain.staff.roles import SYSTEM
from domain.storage.database import Database
from domain.storage.models import BatchRecord, Notice
from domain.storage.store import load_vacations
from domain.system_agent.closures import ClosePlanner, ReopenPlanner
from domain.system_agent.collector import collector_paused
from domain.system_agent.confirmation import ConfirmationTokens, shared_secret
from domain.system_agent.effects import EffectLimits
from domain.system_agent.gate import BatchGate
from domain.system_agent.marking import AttendancePlanner, sweep_selection
from domain.system_agent.options import REQUEST_LENGTH, REQUEST_META, BatchOptions
from domain.system_agent.planners import (
    CancelPlanner, MessagePlanner, ModifyPlanner, Plan, Planner, ProgressCallback, ReservePlanner, UndoPlanner,
)
from domain.system_agent.recall import MAX_TARGETS, Recall, RecallService
from domain.system_agent.records import RecordedBatch, RecordedChange, record_batch, recorded_batch, stored_report
from domain.system_agent.report import BatchReport, ItemResult
from domain.system_agent.paging import MAX_FUZZY_LIMIT, customer_scope
from domain.system_agent.requests import Filters, Updates, as_list, parse_whole
from domain.system_agent.targets import Filtered, parsed_filters
from domain.system_agent.audit import audit_text
from domain.system_agent.undo import batch_key
from domain.system_agent.writing import write_plan

SYSTEM_ACTOR = SYSTEM.actor  # the actor of what the service does on its own (the automatic no-show)
STALE_RETRIES = 3  # plans made again when closures change under a batch, before the last try is final
MAX_MESSAGE = 1000  # characters of a message to customers (a template parameter holds about that much)


class SystemAgentBatchService:
    """Batch reserve, modify, cancel and undo, reported item by item."""

    def __init__(
        self,
        db: Database,
        config: ClinicConfig,
        clock: Clock,
        search: PhoneSearchService,
        limits: EffectLimits | None = None,
        confirmation_ttl_seconds: int = 600,
        token_secret: bytes | None = None,
        events: CalendarEvents | None = None,
        notices: NoticeConfig | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.db, self.config, self.clock, self.search = db, config, clock, search
        self.audit = audit or AuditLog(db, config, clock)  # each applied batch's line, in the batch's transaction
        self.token_secret = token_secret  # None: generated once and kept in the database for every instance
        self.token_ttl = timedelta(seconds=confirmation_ttl_seconds)
        self._tokens: ConfirmationTokens | None = None
        self.events = events or CalendarEvents()
        self.notices = notices or NoticeConfig()
        self.gate = BatchGate(config, limits or EffectLimits())

    @property
    def limits(self) -> EffectLimits:
        """The limits past which a batch asks a person (the gate's)."""
        return self.gate.limits

    @limits.setter
    def limits(self, limits: EffectLimits) -> None:
        self.gate.limits = limits

    async def reserve(
        self, requests: Any, options: BatchOptions = BatchOptions(), progress: ProgressCallback | None = None
    ) -> BatchReport:
        """Book each request; a customer's upcoming reservation moves instead of doubling."""
        items = as_list(requests)
        planner = ReservePlanner(items)
        return await self._run("system_batch_reserve", {"requests": items}, options, progress, planner)

    async def modify(
        self,
        requests: Any = None,
        filters: dict[str, Any] | None = None,
        updates: dict[str, Any] | None = None,
        options: BatchOptions = BatchOptions(),
        progress: ProgressCallback | None = None,
    ) -> BatchReport:
        """Change explicit reservations, or every upcoming one the filters find (with `updates`)."""
        arguments = {"requests": requests, "filters": filters, "updates": updates}
        if filters is not None:
            change = parse_whole(Updates, updates, "updates")
            if change.new_date is None and change.new_time is None and change.new_type is None:
                raise DomainError("invalid_batch", reason="updates must set new_date, new_time or new_type.")
            found, matched = await self._filtered(filters)
            planner: Planner = ModifyPlanner([], found, change)
        else:
            planner, matched = ModifyPlanner(as_list(requests)), None
        return await self._run("system_batch_modify", arguments, options, progress, planner, matched)

    async def cancel(
        self,
        requests: Any = None,
        filters: dict[str, Any] | None = None,
        options: BatchOptions = BatchOptions(),
        progress: ProgressCallback | None = None,
    ) -> BatchReport:
        """Soft-cancel explicit reservations, or every upcoming one the filters find."""
        arguments = {"requests": requests, "filters": filters}
        found, matched = await self._filtered(filters) if filters is not None else (None, None)
        planner = CancelPlanner([] if found else as_list(requests), found)
        return await self._run("system_batch_cancel", arguments, options, progress, planner, matched)

    async def message(self, text: str, wa_ids: Any = None, filters: dict[str, Any] | None = None,
                      options: BatchOptions = BatchOptions(), progress: ProgressCallback | None = None,
                      recall: Recall | None = None) -> BatchReport:
        """Message customers on WhatsApp: explicit wa_ids, the customers of the upcoming reservations the
        filters find, or the customers a recall finds. Previewed, confirmed and recorded like a batch; the
        calendar does not change."""
        words = str(text or "").strip()
        if not words or len(words) > MAX_MESSAGE:
            raise DomainError("invalid_batch", reason=f"text must be 1 to {MAX_MESSAGE} characters.")
        if [wa_ids is None, filters is None, recall is None].count(False) != 1:
            raise DomainError("invalid_batch", reason="name the customers: wa_ids, a date range or recall.")
        arguments = {"wa_ids": wa_ids, "filters": filters, "text": words,
                     **({"recall": recall.model_dump(exclude_defaults=True)} if recall else {})}
        if recall is not None:
            wa_ids = await self._recalled(recall)
        found, matched = await self._filtered(filters) if filters is not None else (None, None)
        planner = MessagePlanner(as_list(wa_ids) if wa_ids is not None else [], found, words)
        options = options.model_copy(update={"notify": True})
        return await self._run("system_message_customers", arguments, options, progress, planner, matched)

    async def close(self, start_date: Any, end_date: Any, title: Any, hijri: bool = False,
                    options: BatchOptions = BatchOptions(), progress: ProgressCallback | None = None,
                    hours: tuple[Any, Any] | None = None) -> BatchReport:
        """Close the clinic from `start_date` to `end_date` (inclusive) under `title`, whole days or only the
        `hours` (from, to) of each, and cancel the active upcoming bookings it closes, in one batch: undoing it
        reopens them and restores the bookings."""
        arguments = {"start_date": start_date, "end_date": end_date, "title": title, "hijri": hijri,
                     **({"hours": list(hours)} if hours and hours != (None, None) else {})}
        planner = ClosePlanner(start_date, end_date, title, hijri, hours)
        return await self._run("system_close_days", arguments, options, progress, planner)

    async def reopen(self, closure_id: int, options: BatchOptions = BatchOptions()) -> BatchReport:
        """Remove a closure, so its days can be booked again; the bookings it cancelled stay cancelled."""
        return await self._run("system_reopen_days", {"closure_id": closure_id}, options, None,
                               ReopenPlanner(closure_id))

    async def mark_attendance(self, mark: Mark | str, reservation_ids: list[int] | None = None,
                              filters: dict[str, Any] | None = None, options: BatchOptions = BatchOptions(),
                              progress: ProgressCallback | None = None) -> BatchReport:
        """Mark bookings confirmed, arrived or no-show: by id, or every one the filters select (a day or range, a
        time, their current attendance). Recorded and undoable like any batch; a no-show frees its place, and
        undoing one needs the place again. Nobody is messaged."""
        try:
            chosen = Mark(mark)
        except ValueError:
            raise DomainError("invalid_batch", reason="mark must be confirmed, arrived or no_show.") from None
        planner = AttendancePlanner(chosen, reservation_ids, filters)
        arguments = {"mark": chosen.value, "reservation_ids": reservation_ids, "filters": filters}
        options = options.model_copy(update={"notify": False})
        return await self._run("system_mark_attendance", arguments, options, progress, planner)

    async def sweep_no_shows(self, minutes: int) -> BatchReport:
        """The automatic no-show: every booking of the last week still booked or confirmed `minutes` after its slot
        ended becomes a no-show, in one batch by the system (undoable). Rows another sweeper marked meanwhile are
        no longer selected once their locks are held: nothing is marked, nor recorded, twice."""
        today = clinic_today(self.config, self.clock())
        options = BatchOptions(actor=SYSTEM_ACTOR, confirmed=True, source=BookingSource.OPERATOR)
        return await self.mark_attendance(Mark.NO_SHOW, None, sweep_selection(today, minutes), options)

    async def _recalled(self, recall: Recall) -> list[str]:
        async with self.db.reading() as session:
            wa_ids = await RecallService(self.db, self.config, self.clock).wa_ids(session, recall)
        if len(wa_ids) > MAX_TARGETS:
            raise DomainError("invalid_batch", reason=f"the recall finds more than {MAX_TARGETS} customers; "
                              "narrow it.")
        return wa_ids

    async def undo(self, batch_id: str, options: BatchOptions = BatchOptions(),
                   progress: ProgressCallback | None = None) -> BatchReport:
        """Revert an applied batch where the calendar still allows; report what could not be. An undo is a
        batch like any other: the same capacity and confirmation rules, its own record, undoable itself."""
        hint, told = None, 0
        if not options.notify:
            async with self.db.reading() as session:
                tool = await session.scalar(select(BatchRecord.tool).where(BatchRecord.id == batch_key(batch_id)))
                told = 0 if tool == "system_message_customers" else int(await session.scalar(
                    select(func.count()).select_from(Notice).where(Notice.batch_id == batch_id)) or 0)
            if told:  # asked whatever the batch's size: whether to tell them again is the user's to decide
                hint = (f"The batch being undone notified {told} customer(s). Ask the user whether to tell them the "
                        "restored times: if so, call system_undo_batch with notify=true instead.")
        planner = UndoPlanner(batch_id, hint, told)
        report = await self._run("system_undo_batch", {"batch_id": batch_id}, options, progress, planner)
        report.undone_batch_id = batch_id
        return report

    async def recorded(self, batch_id: str) -> RecordedBatch:
        """An applied batch as recorded: its answer (counts, failures by reason), when it ran and whether it
        was undone, and every reservation it changed, with the customers' names."""
        return await recorded_batch(self.db, self.config, batch_id)

    async def tokens(self) -> ConfirmationTokens:
        """The confirmation tokens, signed with the configured secret or the one the database keeps."""
        if self._tokens is None:
            secret = self.token_secret or await shared_secret(self.db, "confirmation_tokens")
            self._tokens = ConfirmationTokens(secret, self.token_ttl)
        return self._tokens

    async def _filtered(self, raw: dict[str, Any]) -> tuple[Filtered, list[dict[str, Any]] | None]:
        """Parse filters and resolve a fuzzy `search_query` to wa_ids before the write transaction; the
        customers it matched (wa_id, name, similarity), or None without a search_query."""
        query = parsed_filters(self.config, parse_whole(Filters, raw, "filters"))
        if not query.search_query:
            return (query, customer_scope(query, [])), None
        hits = await self.search.match(query.search_query, limit=MAX_FUZZY_LIMIT)
        matched = [h.model_dump(include={"wa_id", "name", "similarity", "matched"}) for h in hits]
        return (query, customer_scope(query, hits)), matched

    async def _run(
        self, tool: str, arguments: dict[str, Any], options: BatchOptions,
        progress: ProgressCallback | None, planner: Planner, matched: list[dict[str, Any]] | None = None,
    ) -> BatchReport:
        arguments = dict(arguments, mode=options.mode, **({"notify": True} if options.notify else {}))
        if options.idempotency_key and (stored := await stored_report(self.db, self.config, tool, arguments, options)):
            return stored
        try:
            report = await self._transaction(tool, arguments, options, progress, planner, matched)
        except IntegrityError:
            stored = await stored_report(self.db, self.config, tool, arguments, options) if options.idempotency_key else None
            if stored is None:
                raise
            return stored
        if report.status == "applied":
            await self.db.after_commit(lambda: self._publish(tool, report))
        return report

    async def _publish(self, tool: str, report: BatchReport) -> None:
        """Tell the calendar's listeners what an applied batch changed, once it is committed."""
        self.events.batch_applied(tool, len(report.items))
        if report.notices and report.notices.get("queued"):
            self.events.notices_queued(report.notices["queued"])
        if self.events.listeners:
            for action, view in report.changed():
                await self.events.publish(action, view)
        await self.events.days_changed(report.days_changed())

    async def _transaction(
        self, tool: str, arguments: dict[str, Any], options: BatchOptions,
        progress: ProgressCallback | None, planner: Planner, matched: list[dict[str, Any]] | None,
    ) -> BatchReport:
        tokens = await self.tokens()
        with collector_paused():
            for _ in range(STALE_RETRIES):
                try:
                    return await self._planned(tool, arguments, options, progress, planner, matched, tokens)
                except _ClosuresChanged:
                    continue
            return await self._planned(tool, arguments, options, progress, planner, matched, tokens)

    async def _planned(
        self, tool: str, arguments: dict[str, Any], options: BatchOptions, progress: ProgressCallback | None,
        planner: Planner, matched: list[dict[str, Any]] | None, tokens: ConfirmationTokens,
    ) -> BatchReport:
        async with self.db.unit_of_work() as session:
            closed = await load_vacations(session)
            ctx = RuleContext(self.config, self.clock(), list(closed), options.source, options.max_reservations)
            plan = Plan(BatchReport(tool, options.mode, self.config, ar=options.ar, matched=matched))
            await planner(session, ctx, plan, progress)
            if not self.db.is_sqlite and await load_vacations(session) != closed:
                # A closure committed while this batch waited for its locks: plan again under it.
                raise _ClosuresChanged
            plan.report.closures = plan.closure_views()
            plan.report.items.sort(key=lambda i: i.index)
            names = plan.report.names  # a filtered batch read its customers' names with the reservations
            names.update(await customer_names(session, {i.wa_id for i in plan.report.items
                                                        if i.wa_id and i.wa_id not in names}))
            # A name the batch gives; a customer it names no name for keeps the one on record.
            names.update({wa_id: name for wa_id, name in plan.new_customers.items() if name or wa_id not in names})
            notices = await self._notices(session, plan, options, ctx.now)
            budget = None if options.dry_run else await self.gate.budget(session, plan, options, ctx.now)
            if not self.gate.settle(plan, options, tool, arguments, ctx, tokens, budget):
                if plan.report.status in ("rolled_back", "failed", "nothing_matched"):
                    plan.report.notices = None  # nothing is written, so nobody is told anything
                return plan.report
            await write_plan(session, plan, ctx.now)
            plan.report.closures = plan.closure_views()
            if notices is not None:
                queued = await queue_notices(session, self.notices, notices, plan.report.batch_id, ctx.now)
                plan.report.notices = dict(plan.report.notices or {}, queued=queued)
            asked = options.confirmed or plan.redeemed is not None
            line = await record_batch(session, plan.report, arguments, options, asked,
                                      audit_text(plan.report, plan.edits, plan.closures, plan.marks), ctx.now,
                                      budget.effects if budget is not None else None)
            self.audit.add(session, line)
            return plan.report

    async def _notices(self, session: AsyncSession, plan: Plan, options: BatchOptions,
                       now: datetime) -> NoticePlan | None:
        """With `notify`, the notices the batch's changes call for (or its `message` to its customers), previewed
        on its report; else None."""
        if not options.notify:
            return None
        if plan.message is not None:
            wa_ids = [i.wa_id for i in plan.report.items if i.status == "ok" and i.wa_id]
            notices = await plan_message(session, self.notices, wa_ids, plan.message, now)
            for item in plan.report.items:  # a customer the message cannot reach is not counted as messaged
                if item.status == "ok" and (why := notices.excluded.get(item.wa_id or "")) is not None:
                    code = "customer_blocked" if why == "blocked" else "customer_opted_out"
                    item.status, item.action, item.error = "skipped", None, DomainError(code)
        else:
            notices = await plan_notices(session, self.notices, plan.report.changed_items(), plan.report.names,
                                         now=now)
        plan.notices = len(notices.notices)
        plan.report.notices = notices.preview()
        return notices

class _ClosuresChanged(Exception):
    """The clinic's closures changed while a batch waited for its locks (PostgreSQL)."""


__all__ = ["REQUEST_LENGTH", "REQUEST_META", "BatchOptions", "BatchReport", "ItemResult", "ProgressCallback", "RecordedBatch",
           "RecordedChange", "SystemAgentBatchService"]
