"""SystemAgentBatchService: set-based batches over the same rules as the single-item services.

A batch loads the occupancy of every slot and customer it touches once, plans each item with the
pure rules of `domain.rules.planning` (earlier items of the batch already applied to the counts), and
writes every change in bulk in one transaction: a cancelled call leaves nothing half-written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock
from domain.calendar.closures import write_closures
from domain.config import BookingSource, ClinicConfig
from domain.calendar.customers import change_wa_id, customer_names, rename_customer
from domain.storage.database import Database, json_text
from domain.errors import DomainError
from domain.events import CalendarEvents
from domain.storage.models import BatchRecord, Notice, utcnow
from domain.notices.templates import NoticeConfig
from domain.notices.plans import NoticePlan, plan_message, plan_notices
from domain.notices.outbox import queue_notices
from domain.search.service import PhoneSearchService
from domain.rules.planning import RuleContext
from domain.storage.store import ensure_customers, load_vacations, write_changes
from domain.system_agent.collector import collector_paused
from domain.system_agent.audit import audit_text, recorded_changes
from domain.system_agent.cards import card
from domain.system_agent.closures import ClosePlanner, ReopenPlanner
from domain.system_agent.recall import MAX_TARGETS, Recall, RecallService
from domain.system_agent.confirmation import ConfirmationTokens, fingerprint, redeem, shared_secret
from domain.system_agent.effects import (PERSON, EffectLimits, Effects, Overrun, Spent, active_counts, added_by_day,
                                         effects_of, overruns, spent)
from domain.system_agent.planners import (
    CancelPlanner, MessagePlanner, ModifyPlanner, Plan, Planner, ProgressCallback, ReservePlanner, UndoPlanner,
)
from domain.system_agent.report import BatchReport, ItemResult
from domain.system_agent.requests import Filters, Updates, as_list, parse_whole
from domain.system_agent.undo import CustomerEdit, batch_key, mark_undone
from domain.views import View


STALE_RETRIES = 3  # plans made again when closures change under a batch, before the last try is final
MAX_MESSAGE = 1000  # characters of a message to customers (a template parameter holds about that much)


# The request a batch serves, as its caller words it: the bridge sends the operator's message it answers under this
# key of a tool call's MCP `_meta`; any client may. Kept, cut to REQUEST_LENGTH characters, with the batch.
REQUEST_META = "calendar-agent/request"
REQUEST_LENGTH = 300


class BatchOptions(BaseModel):
    """How a batch runs. `confirmed` is set only by an adapter after the user said yes."""

    model_config = ConfigDict(frozen=True)

    mode: Literal["best_effort", "atomic"] = "best_effort"
    dry_run: bool = False
    idempotency_key: str | None = None
    confirmation_token: str | None = None
    confirmed: bool = False
    actor: str = "system_agent"
    source: BookingSource = BookingSource.AGENT
    max_reservations: int | None = None
    ar: bool = False
    notify: bool = False  # tell each customer whose booking the batch moves, cancels or makes (`domain.notices.outbox`)
    turn: str | None = Field(default=None, max_length=64)  # the caller's turn (MCP session): its effects add up
    request: str | None = None  # what the batch was asked for, in words: one line, at most REQUEST_LENGTH

    @field_validator("request", mode="before")
    @classmethod
    def _one_line(cls, said: object) -> str | None:
        """The caller's words on one line, cut to `REQUEST_LENGTH` characters; anything but text is no request."""
        if not isinstance(said, str):
            return None
        line = " ".join(said.split())
        return line[:REQUEST_LENGTH - 1] + "…" if len(line) > REQUEST_LENGTH else line or None


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
    ) -> None:
        self.db, self.config, self.clock, self.search = db, config, clock, search
        self.limits = limits or EffectLimits()
        self.token_secret = token_secret  # None: generated once and kept in the database for every instance
        self.token_ttl = timedelta(seconds=confirmation_ttl_seconds)
        self._tokens: ConfirmationTokens | None = None
        self.events = events or CalendarEvents()
        self.notices = notices or NoticeConfig()

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
        async with self.db.unit_of_work() as session:
            record = await session.get(BatchRecord, batch_key(batch_id))
            if record is None:
                raise DomainError("batch_not_found", batch_id=batch_id)
            changed = [c for c in recorded_changes(record.changes) if "before" in c]
            names = await customer_names(session, {(c["after"] or c["before"])["wa_id"] for c in changed})
        zone = self.config.zone
        return RecordedBatch(answer=record.result, created_at=record.created_at.astimezone(zone).isoformat(),
                             undone_at=record.undone_at.astimezone(zone).isoformat() if record.undone_at else None,
                             changes=[_change_row(c, names) for c in changed])

    async def tokens(self) -> ConfirmationTokens:
        """The confirmation tokens, signed with the configured secret or the one the database keeps."""
        if self._tokens is None:
            secret = self.token_secret or await shared_secret(self.db, "confirmation_tokens")
            self._tokens = ConfirmationTokens(secret, self.token_ttl)
        return self._tokens

    async def _filtered(
        self, raw: dict[str, Any]
    ) -> tuple[tuple[Filters, list[str] | None], list[dict[str, Any]] | None]:
        """Parse filters and resolve a fuzzy `search_query` to wa_ids before the write transaction; the
        customers it matched (wa_id, name, similarity), or None without a search_query."""
        filters = parse_whole(Filters, raw, "filters")
        if not filters.search_query:
            return (filters, None), None
        hits = await self.search.search(filters.search_query, limit=200)
        matched = [h.model_dump(include={"wa_id", "name", "similarity", "matched"}) for h in hits]
        return (filters, [h.wa_id for h in hits]), matched

    async def _run(
        self, tool: str, arguments: dict[str, Any], options: BatchOptions,
        progress: ProgressCallback | None, planner: Planner, matched: list[dict[str, Any]] | None = None,
    ) -> BatchReport:
        arguments = dict(arguments, mode=options.mode, **({"notify": True} if options.notify else {}))
        if options.idempotency_key and (stored := await self._stored(tool, arguments, options)):
            return stored
        try:
            report = await self._transaction(tool, arguments, options, progress, planner, matched)
        except IntegrityError:
            stored = await self._stored(tool, arguments, options) if options.idempotency_key else None
            if stored is None:
                raise
            return stored
        if report.status == "applied":
            self.events.batch_applied(tool, len(report.items))
            if report.notices and report.notices.get("queued"):
                self.events.notices_queued(report.notices["queued"])
        if report.status == "applied" and self.events.listeners:
            for action, view in report.changed():
                await self.events.publish(action, view)
        if report.status == "applied":
            await self.events.days_changed(report.days_changed())
        return report

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
            budget = None if options.dry_run else await self._budget(session, plan, options, ctx.now)
            if not self._settle(plan, options, tool, arguments, ctx, tokens, budget):
                if plan.report.status in ("rolled_back", "failed", "nothing_matched"):
                    plan.report.notices = None  # nothing is written, so nobody is told anything
                return plan.report
            await self._write(session, plan)
            plan.report.closures = plan.closure_views()
            if notices is not None:
                queued = await queue_notices(session, self.notices, notices, plan.report.batch_id, ctx.now)
                plan.report.notices = dict(plan.report.notices or {}, queued=queued)
            await self._record(session, plan, arguments, options, audit_text(plan.report, plan.edits, plan.closures), ctx.now, budget)
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
            notices = await plan_notices(session, self.notices, plan.report.changed_items(), plan.report.names)
        plan.notices = len(notices.notices)
        plan.report.notices = notices.preview()
        return notices

    async def _budget(self, session: AsyncSession, plan: Plan, options: BatchOptions, now: datetime) -> _Budget:
        """The plan's effects, what its caller applied without asking before it, and the limits it would pass.
        A person's own act from the console is counted alone: they are asked about one large act, and what
        they did before is their own doing, not an agent's to add up."""
        closing = any(c.action == "closed" for c in plan.closures)
        days = sum((c.end - c.start).days + 1 for c in plan.closures if c.action == "closed")
        free = plan.notices if plan.message is not None else 0
        effects = effects_of(plan.changes, len(plan.edits), plan.notices, free, days, closing)
        nothing = Spent(Effects(), Effects())
        if not effects:
            return _Budget(effects, nothing, [])
        alone = options.actor == PERSON or not self.limits.add_up
        already = nothing if alone else await spent(session, options.actor, options.turn, now, self.limits.window)
        counts = await active_counts(session, effects.removed)
        added = added_by_day(plan.changes)
        left = {day: counts.get(day, 0) - n + added[day] for day, n in effects.removed.items()}
        return _Budget(effects, already, overruns(self.limits, effects, already, left))

    def _settle(self, plan: Plan, options: BatchOptions, tool: str, arguments: dict[str, Any],
                ctx: RuleContext, tokens: ConfirmationTokens, budget: _Budget | None) -> bool:
        """Decide the report's status; True when the plan should be written."""
        report = plan.report
        if not report.items and not plan.closures:
            report.status = "nothing_matched"  # no batch to record, nor to undo
            return False
        if options.mode == "atomic" and report.counts()["failed"]:
            for item in report.items:
                if item.status == "ok":
                    item.status, item.error = "skipped", DomainError("atomic_rolled_back")
            report.status = "rolled_back"
            return False
        if options.dry_run:
            report.status = "dry_run"
            return False
        if report.items and not report.counts()["ok"] and not plan.closures:
            report.status = "failed"  # every item failed: nothing to write, record or undo
            return False
        assert budget is not None  # only a dry run has none, and it is settled above
        return self._confirmed(plan, options, tool, arguments, ctx, tokens, budget)

    def _confirmed(self, plan: Plan, options: BatchOptions, tool: str, arguments: dict[str, Any],
                   ctx: RuleContext, tokens: ConfirmationTokens, budget: _Budget) -> bool:
        # Targets found by a fuzzy search_query are asked about whatever their number: a loose query
        # ("a", a common first name) can reach people nobody meant. So is undoing a batch that notified
        # customers: whether to tell them again is the user's call.
        guessed = (plan.report.matched is not None or plan.report.hint is not None) and bool(budget.effects)
        if options.confirmed or (not budget.over and not guessed):
            return True
        change = fingerprint(tool, arguments, [(c.after.id, c.after.slot, c.after.type, c.after.status)
                                               for c in plan.changes])
        if options.confirmation_token:
            plan.redeemed = (*tokens.check(options.confirmation_token, change, ctx.now), ctx.now)
            return True
        token, expires = tokens.issue(change, ctx.now)
        plan.report.status = "needs_confirmation"
        plan.report.confirmation = {
            "token": token, "expires_at": expires.astimezone(self.config.zone).isoformat(timespec="seconds"),
            "limits": self.limits.describe(),
            "preview": card(plan.report, budget.effects, budget.spent, budget.over, self.limits, plan.notified_before),
            "instructions": "Show this preview to the user and wait for their answer. Only if they confirm, call "
                            "the same tool again with the same arguments and this confirmation_token.",
        }
        return False

    async def _write(self, session: AsyncSession, plan: Plan) -> None:
        if plan.redeemed is not None:
            await redeem(session, *plan.redeemed)
        await ensure_customers(session, plan.new_customers)
        ids = await write_changes(session, plan.changes)
        for item in plan.report.items:
            if item.after is not None and item.after.id in ids:
                item.after = replace(item.after, id=ids[item.after.id])
                item.reservation_id = item.after.id
        for edit in plan.edits:
            await _apply_edit(session, edit)
        await write_closures(session, plan.closures)
        if plan.withdrawn:
            await session.execute(update(Notice).where(Notice.id.in_(plan.withdrawn)).values(
                status="skipped", error="withdrawn by an undo of its batch", lease_until=None, updated_at=utcnow()))
        if plan.undoes is not None:
            mark_undone(plan.undoes)
        plan.report.batch_id = str(uuid.uuid4())

    async def _record(self, session: AsyncSession, plan: Plan, arguments: dict[str, Any],
                      options: BatchOptions, changes: str, now: datetime, budget: _Budget | None) -> None:
        # Every value goes with the execution: a statement keeps the values it was built with in
        # SQLAlchemy's cache, and these can weigh megabytes.
        report = plan.report
        asked = options.confirmed or plan.redeemed is not None
        await session.execute(_RECORD.values(changes=json_text(session, "changes")), {
            "id": report.batch_id, "tool": report.tool, "actor": options.actor, "arguments": _jsonable(arguments),
            "result": report.to_dict("summary", failure_items=None), "changes": changes,
            "idempotency_key": options.idempotency_key, "created_at": now, "turn": options.turn,
            "request": options.request,
            "effects": budget.effects.to_json() if budget is not None else None, "asked": asked})

    async def _stored(self, tool: str, arguments: dict[str, Any], options: BatchOptions) -> BatchReport | None:
        """The first result of this key; a key is bound to its tool and arguments, so another call with it
        is refused rather than answered with a result that is not its own."""
        async with self.db.unit_of_work() as session:
            keyed = BatchRecord.idempotency_key == options.idempotency_key
            record = await session.scalar(select(BatchRecord).where(keyed))
        if record is None:
            return None
        if record.tool != tool or record.arguments != _jsonable(arguments):
            raise DomainError("idempotency_key_reused", key=options.idempotency_key, tool=record.tool)
        return BatchReport(record.tool, options.mode, self.config, status="replayed", batch_id=record.id,
                           stored=record.result)


@dataclass(frozen=True)
class _Budget:
    """A plan's effects, what its caller spent before it, and the limits it would pass (`effects`)."""

    effects: Effects
    spent: Spent
    over: list[Overrun]


class _ClosuresChanged(Exception):
    """The clinic's closures changed while a batch waited for its locks (PostgreSQL)."""


_RECORD = insert(BatchRecord.__table__)  # type: ignore[arg-type]


def _change_row(change: dict[str, Any], names: dict[str, str | None]) -> RecordedChange:
    """A recorded change as a batch answer's item row."""
    before, after = change.get("before") or {}, change.get("after") or {}
    wa_id = after.get("wa_id") or before.get("wa_id")
    return RecordedChange(index=change["index"], reservation_id=after.get("id") or before.get("id"), wa_id=wa_id,
                          customer_name=names.get(wa_id or ""), action=change["action"],
                          from_date=before.get("date"), from_time=before.get("time_slot"),
                          date=after.get("date"), time_slot=after.get("time_slot"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


async def _apply_edit(session: AsyncSession, edit: CustomerEdit) -> None:
    edit.old_name = (await customer_names(session, [edit.wa_id])).get(edit.wa_id)
    if edit.new_name:
        await rename_customer(session, edit.wa_id, edit.new_name)
    if edit.new_wa_id and edit.new_wa_id != edit.wa_id:
        await change_wa_id(session, edit.wa_id, edit.new_wa_id)


__all__ = ["BatchOptions", "BatchReport", "ItemResult", "ProgressCallback", "RecordedBatch", "RecordedChange",
           "SystemAgentBatchService"]
