"""SystemAgentBatchService: set-based batches over the same rules as the single-item services.

A batch loads the occupancy of every slot and customer it touches once, plans each item with the
pure rules of `domain.planning` (earlier items of the batch already applied to the counts), and
writes every change in bulk in one transaction: a cancelled call leaves nothing half-written.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock
from domain.config import BookingSource, ClinicConfig
from domain.customers import change_wa_id, customer_names, rename_customer
from domain.database import Database
from domain.errors import DomainError
from domain.events import CalendarEvents
from domain.identities import normalize_wa_id
from domain.models import BatchRecord, Customer
from domain.phone_search import PhoneSearchService
from domain.planning import Booking, CalendarState, Change, RuleContext, plan_cancel, plan_modify, plan_reserve
from domain.schedule import parse_date, parse_time
from domain.store import ensure_customers, load_state, load_vacations, lock_calendar, write_changes
from domain.system_agent.confirmation import ConfirmationTokens, fingerprint
from domain.system_agent.report import BatchReport, ItemResult
from domain.system_agent.requests import (
    CancelItem, Filters, ModifyItem, ReserveItem, Updates, as_list, parse_item, parse_whole,
)
from domain.system_agent.targets import find_by_filters, listed, locate
from domain.system_agent.undo import load_record, mark_undone, revert, revert_customer, undo_item, undo_state

ProgressCallback = Callable[[int, int], Awaitable[None]]
PROGRESS_STEP = 100


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


@dataclass
class CustomerEdit:
    index: int
    wa_id: str
    new_name: str | None
    new_wa_id: str | None
    old_name: str | None = None


@dataclass
class Plan:
    """Everything a batch decided inside its transaction, before writing."""

    report: BatchReport
    changes: list[Change] = field(default_factory=list)
    edits: list[CustomerEdit] = field(default_factory=list)
    new_customers: dict[str, str | None] = field(default_factory=dict)

    def ok(self, index: int, change: Change) -> None:
        after = change.after
        self.changes.append(change)
        self.report.items.append(ItemResult(index, "ok", after.wa_id, after.id, change.action, change.before, after))

    def fail(self, index: int, error: DomainError, wa_id: str | None = None, reservation_id: int | None = None) -> None:
        self.report.items.append(ItemResult(index, "failed", wa_id, reservation_id, error=error))

    def destructive_count(self) -> int:
        return sum(1 for c in self.changes if c.before is not None and c.action != "unchanged") + len(self.edits)


Planner = Callable[[AsyncSession, RuleContext, Plan, "ProgressCallback | None"], Awaitable[None]]


class SystemAgentBatchService:
    """Batch reserve, modify, cancel and undo, reported item by item."""

    def __init__(
        self,
        db: Database,
        config: ClinicConfig,
        clock: Clock,
        search: PhoneSearchService,
        confirmation_threshold: int = 20,
        confirmation_ttl_seconds: int = 600,
        token_secret: bytes | None = None,
        events: CalendarEvents | None = None,
    ) -> None:
        self.db, self.config, self.clock, self.search = db, config, clock, search
        self.confirmation_threshold = confirmation_threshold
        self.tokens = ConfirmationTokens(token_secret, timedelta(seconds=confirmation_ttl_seconds))
        self.events = events or CalendarEvents()

    async def reserve(
        self, requests: Any, options: BatchOptions = BatchOptions(), progress: ProgressCallback | None = None
    ) -> BatchReport:
        """Book each request; a customer's upcoming reservation moves instead of doubling."""
        items = as_list(requests)
        planner = _ReservePlanner(items)
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
            planner: Planner = _ModifyPlanner([], await self._filtered(filters), change)
        else:
            planner = _ModifyPlanner(as_list(requests))
        return await self._run("system_batch_modify", arguments, options, progress, planner)

    async def cancel(
        self,
        requests: Any = None,
        filters: dict[str, Any] | None = None,
        options: BatchOptions = BatchOptions(),
        progress: ProgressCallback | None = None,
    ) -> BatchReport:
        """Soft-cancel explicit reservations, or every upcoming one the filters find."""
        arguments = {"requests": requests, "filters": filters}
        found = await self._filtered(filters) if filters is not None else None
        planner = _CancelPlanner([] if found else as_list(requests), found)
        return await self._run("system_batch_cancel", arguments, options, progress, planner)

    async def undo(self, batch_id: str, actor: str = "system_agent") -> BatchReport:
        """Revert an applied batch where the calendar still allows; report what could not be."""
        options = BatchOptions(actor=actor, source=BookingSource.OPERATOR)
        planner = _UndoPlanner(batch_id)
        report = await self._run("system_undo_batch", {"batch_id": batch_id}, options, None, planner)
        report.undone_batch_id = batch_id
        return report

    async def _filtered(self, raw: dict[str, Any]) -> tuple[Filters, list[str] | None]:
        """Parse filters and resolve a fuzzy `search_query` to wa_ids before the write transaction."""
        filters = parse_whole(Filters, raw, "filters")
        if not filters.search_query:
            return filters, None
        hits = await self.search.search(filters.search_query, limit=200)
        return filters, [h["wa_id"] for h in hits]

    async def _run(
        self, tool: str, arguments: dict[str, Any], options: BatchOptions,
        progress: ProgressCallback | None, planner: Planner,
    ) -> BatchReport:
        if options.idempotency_key and (stored := await self._stored(tool, options)):
            return stored
        arguments = dict(arguments, mode=options.mode)
        try:
            report = await self._transaction(tool, arguments, options, progress, planner)
        except IntegrityError:
            stored = await self._stored(tool, options) if options.idempotency_key else None
            if stored is None:
                raise
            return stored
        if report.status == "applied":
            for action, view in report.changed():
                await self.events.publish(action, view)
        return report

    async def _transaction(
        self, tool: str, arguments: dict[str, Any], options: BatchOptions,
        progress: ProgressCallback | None, planner: Planner,
    ) -> BatchReport:
        async with self.db.unit_of_work() as session:
            ctx = RuleContext(self.config, self.clock(), await load_vacations(session), options.source,
                              options.max_reservations)
            plan = Plan(BatchReport(tool, options.mode, self.config, ar=options.ar))
            await planner(session, ctx, plan, progress)
            plan.report.items.sort(key=lambda i: i.index)
            wa_ids = {i.wa_id for i in plan.report.items if i.wa_id}
            plan.report.names = {**await customer_names(session, wa_ids), **plan.new_customers}
            if not self._settle(plan, options, tool, arguments, ctx):
                return plan.report
            await self._write(session, plan)
            await self._record(session, plan.report, arguments, options, self._audit(plan))
            return plan.report

    def _settle(self, plan: Plan, options: BatchOptions, tool: str, arguments: dict[str, Any],
                ctx: RuleContext) -> bool:
        """Decide the report's status; True when the plan should be written."""
        report = plan.report
        if options.mode == "atomic" and report.counts()["failed"]:
            for item in report.items:
                if item.status == "ok":
                    item.status, item.error = "skipped", DomainError("atomic_rolled_back")
            report.status = "rolled_back"
            return False
        if options.dry_run:
            report.status = "dry_run"
            return False
        return self._confirmed(plan, options, tool, arguments, ctx)

    def _confirmed(self, plan: Plan, options: BatchOptions, tool: str, arguments: dict[str, Any],
                   ctx: RuleContext) -> bool:
        count = plan.destructive_count()
        if options.confirmed or count <= self.confirmation_threshold or tool == "system_undo_batch":
            return True
        change = fingerprint(tool, arguments, [(c.after.id, c.after.slot, c.after.type, c.after.status)
                                               for c in plan.changes])
        if options.confirmation_token:
            self.tokens.redeem(options.confirmation_token, change, ctx.now)
            return True
        token, expires = self.tokens.issue(change, ctx.now)
        summary = plan.report.summary()
        plan.report.status = "needs_confirmation"
        plan.report.confirmation = {
            "token": token, "expires_at": expires.astimezone(self.config.zone).isoformat(timespec="seconds"),
            "threshold": self.confirmation_threshold,
            "preview": {"reservations": count, "days": summary["days"], "actions": summary["by_action"]},
            "instructions": "Show this preview to the user and wait for their answer. Only if they confirm, call "
                            "the same tool again with the same arguments and this confirmation_token.",
        }
        return False

    async def _write(self, session: AsyncSession, plan: Plan) -> None:
        await ensure_customers(session, plan.new_customers)
        ids = await write_changes(session, plan.changes)
        for item in plan.report.items:
            if item.after is not None and item.after.id in ids:
                item.after = replace(item.after, id=ids[item.after.id])
                item.reservation_id = item.after.id
        for edit in plan.edits:
            await _apply_edit(session, edit)
        plan.report.batch_id = str(uuid.uuid4())

    def _audit(self, plan: Plan) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = [
            {"index": i.index, "action": i.action, "before": _booking(i.before), "after": _booking(i.after)}
            for i in plan.report.changed_items() if i.action != "customer"
        ]
        rows += [{"index": e.index, "action": "customer", "wa_id": e.wa_id, "new_wa_id": e.new_wa_id,
                  "old_name": e.old_name, "new_name": e.new_name} for e in plan.edits]
        return rows

    async def _record(self, session: AsyncSession, report: BatchReport, arguments: dict[str, Any],
                      options: BatchOptions, changes: list[dict[str, Any]]) -> None:
        session.add(BatchRecord(id=report.batch_id, tool=report.tool, actor=options.actor,
                                arguments=_jsonable(arguments), result=report.to_dict("summary"),
                                changes=changes, idempotency_key=options.idempotency_key))
        await session.flush()

    async def _stored(self, tool: str, options: BatchOptions) -> BatchReport | None:
        async with self.db.unit_of_work() as session:
            record = await session.scalar(select(BatchRecord).where(BatchRecord.idempotency_key == options.idempotency_key))
        if record is None:
            return None
        return BatchReport(record.tool, options.mode, self.config, status="replayed", batch_id=record.id,
                           stored=record.result)


def _booking(booking: Booking | None) -> dict[str, Any] | None:
    if booking is None:
        return None
    return {"id": booking.id, "wa_id": booking.wa_id, "date": booking.date.isoformat(),
            "time_slot": booking.time_slot, "type": booking.type, "status": booking.status}


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


async def _tick(progress: ProgressCallback | None, done: int, total: int) -> None:
    if progress is not None and (done % PROGRESS_STEP == 0 or done == total):
        await progress(done, total)


class _ReservePlanner:
    def __init__(self, raw: list[Any]) -> None:
        self.raw = raw

    async def __call__(self, session: AsyncSession, ctx: RuleContext, plan: Plan,
                       progress: ProgressCallback | None) -> None:
        parsed: list[tuple[int, str, date, str, ReserveItem]] = []
        for index, raw in enumerate(self.raw):
            try:
                item = parse_item(ReserveItem, raw)
                parsed.append((index, normalize_wa_id(item.wa_id), parse_date(item.date, item.hijri),
                               parse_time(item.time_slot), item))
            except DomainError as error:
                plan.fail(index, error, raw.get("wa_id") if isinstance(raw, dict) else None)
        await lock_calendar(session, [p[1] for p in parsed], [(p[2], p[3]) for p in parsed])
        state = await load_state(session, ctx.today, [p[1] for p in parsed], [p[2] for p in parsed])
        for done, (index, wa_id, day, slot, item) in enumerate(parsed, 1):
            try:
                plan.ok(index, plan_reserve(ctx, state, wa_id, day, slot, item.reservation_type))
                plan.new_customers[wa_id] = item.customer_name or plan.new_customers.get(wa_id)
            except DomainError as error:
                plan.fail(index, error, wa_id)
            await _tick(progress, done, len(parsed))


class _ModifyPlanner:
    def __init__(self, raw: list[Any], filtered: tuple[Filters, list[str] | None] | None = None,
                 updates: Updates | None = None) -> None:
        self.raw, self.filtered, self.updates = raw, filtered, updates

    async def _items(self, session: AsyncSession, ctx: RuleContext, plan: Plan) -> list[tuple[int, ModifyItem]]:
        if self.filtered is not None and self.updates is not None:
            ids = await find_by_filters(session, ctx, *self.filtered)
            fields = self.updates.model_dump(exclude_none=True)
            return [(n, ModifyItem(reservation_id=i, **fields)) for n, i in enumerate(ids)]
        items = []
        for index, raw in enumerate(self.raw):
            try:
                items.append((index, parse_item(ModifyItem, raw)))
            except DomainError as error:
                plan.fail(index, error)
        return items

    async def __call__(self, session: AsyncSession, ctx: RuleContext, plan: Plan,
                       progress: ProgressCallback | None) -> None:
        items = []
        for index, item in await self._items(session, ctx, plan):
            if (parsed := _Parsed.of(item, plan, index)) is not None:
                items.append((index, item, parsed))
        new_numbers = [p.new_wa_id for _, _, p in items if p.new_wa_id]
        state = await _prepare(session, ctx, [(m.reservation_id, p.wa_id, p.destination) for _, m, p in items],
                               new_numbers)
        taken = await _existing_customers(session, new_numbers)
        for done, (index, item, parsed) in enumerate(items, 1):
            try:
                await _modify_one(ctx, state, plan, index, item, parsed, taken)
            except DomainError as error:
                plan.fail(index, error, parsed.wa_id, item.reservation_id)
            await _tick(progress, done, len(items))


@dataclass
class _Parsed:
    """A modify item's values, normalised."""

    wa_id: str | None
    new_wa_id: str | None
    destination: tuple[date | None, str | None]

    @classmethod
    def of(cls, item: ModifyItem, plan: Plan, index: int) -> _Parsed | None:
        try:
            wa_id = normalize_wa_id(item.wa_id) if item.wa_id else None
            new_wa_id = normalize_wa_id(item.new_wa_id) if item.new_wa_id else None
            day = parse_date(item.new_date, item.hijri) if item.new_date else None
            slot = parse_time(item.new_time) if item.new_time else None
            if not item.moves and not item.new_name and not new_wa_id:
                raise DomainError("nothing_to_change")
            if item.reservation_id is None and wa_id is None:
                raise DomainError("invalid_request", reason="give reservation_id or wa_id.")
        except DomainError as error:
            plan.fail(index, error, item.wa_id, item.reservation_id)
            return None
        return cls(wa_id, new_wa_id, (day, slot))


Target = tuple[int | None, str | None, tuple[date | None, str | None]]


async def _prepare(
    session: AsyncSession, ctx: RuleContext,
    targets: Sequence[Target],
    extra_customers: list[str] | None = None,
) -> CalendarState:
    """Lock the customers, then the destination slots, then load every row the items touch."""
    ids = [t[0] for t in targets if t[0] is not None]
    known = {t[1] for t in targets if t[1]}
    current = await load_state(session, ctx.today, known, reservation_ids=ids)
    owners = {b.wa_id for b in current.bookings.values()} | known
    if await lock_calendar(session, list(owners) + (extra_customers or []), []):
        current = await load_state(session, ctx.today, owners, reservation_ids=ids)  # as of holding the locks
    slots = set()
    for reservation_id, wa_id, (day, slot) in targets:
        booking = current.bookings.get(reservation_id) if reservation_id else current.upcoming_for(ctx, wa_id or "")
        if booking is not None:
            slots.add((day or booking.date, slot or booking.time_slot))
    await lock_calendar(session, [], slots)
    destinations = await load_state(session, ctx.today, dates={d for d, _ in slots})
    return CalendarState.of([*current.bookings.values(), *destinations.bookings.values()])


async def _existing_customers(session: AsyncSession, wa_ids: list[str]) -> set[str]:
    if not wa_ids:
        return set()
    return set(await session.scalars(select(Customer.wa_id).where(Customer.wa_id.in_(wa_ids))))


async def _modify_one(ctx: RuleContext, state: CalendarState, plan: Plan, index: int, item: ModifyItem,
                      parsed: _Parsed, taken: set[str]) -> None:
    owner = parsed.wa_id
    change = None
    if item.moves or item.reservation_id is not None:
        target = locate(ctx, state, parsed.wa_id, item.reservation_id)
        owner = target.wa_id
        if item.moves:
            change = plan_modify(ctx, state, target, parsed.destination[0], parsed.destination[1], item.new_type)
    assert owner is not None
    if parsed.new_wa_id and parsed.new_wa_id != owner:
        if parsed.new_wa_id in taken:
            raise DomainError("wa_id_taken", value=parsed.new_wa_id)
        taken.add(parsed.new_wa_id)
    if item.new_name or parsed.new_wa_id:
        plan.edits.append(CustomerEdit(index, owner, item.new_name, parsed.new_wa_id))
    if change is not None:
        plan.ok(index, change)
    else:
        plan.report.items.append(ItemResult(index, "ok", owner, item.reservation_id, "customer"))


class _CancelPlanner:
    def __init__(self, raw: list[Any], filtered: tuple[Filters, list[str] | None] | None) -> None:
        self.raw, self.filtered = raw, filtered

    async def _items(self, session: AsyncSession, ctx: RuleContext, plan: Plan) -> list[tuple[int, CancelItem]]:
        if self.filtered is not None:
            ids = await find_by_filters(session, ctx, *self.filtered)
            return [(n, CancelItem(reservation_id=i)) for n, i in enumerate(ids)]
        items = []
        for index, raw in enumerate(self.raw):
            try:
                item = parse_item(CancelItem, raw)
                if item.reservation_id is None and item.wa_id is None:
                    raise DomainError("invalid_request", reason="give reservation_id or wa_id.")
                items.append((index, item))
            except DomainError as error:
                plan.fail(index, error)
        return items

    async def __call__(self, session: AsyncSession, ctx: RuleContext, plan: Plan,
                       progress: ProgressCallback | None) -> None:
        parsed = []
        for index, item in await self._items(session, ctx, plan):
            try:
                wa_id = normalize_wa_id(item.wa_id) if item.wa_id else None
                day = parse_date(item.date, item.hijri) if item.date else None
                parsed.append((index, item, wa_id, day))
            except DomainError as error:
                plan.fail(index, error, item.wa_id, item.reservation_id)
        targets: list[Target] = [(item.reservation_id, wa_id, (None, None)) for _, item, wa_id, _ in parsed]
        state = await _prepare(session, ctx, targets)
        for done, (index, item, wa_id, day) in enumerate(parsed, 1):
            try:
                plan.ok(index, plan_cancel(ctx, state, locate(ctx, state, wa_id, item.reservation_id, day)))
            except DomainError as error:
                plan.fail(index, error, wa_id, item.reservation_id)
            await _tick(progress, done, len(parsed))


class _UndoPlanner:
    def __init__(self, batch_id: str) -> None:
        self.batch_id = batch_id

    async def __call__(self, session: AsyncSession, ctx: RuleContext, plan: Plan,
                       progress: ProgressCallback | None) -> None:
        record = await load_record(session, self.batch_id)
        state = await undo_state(session, ctx, record)
        for index, change in reversed(list(enumerate(record.changes))):
            if change["action"] == "customer":
                await revert_customer(session, change)
                plan.report.items.append(ItemResult(index, "ok", change["wa_id"], None, "customer"))
                continue
            result: Change | DomainError
            try:
                result = revert(ctx, state, change)
                plan.changes.append(result)
            except DomainError as error:
                result = error
            plan.report.items.append(undo_item(index, change, result))
        mark_undone(record)


__all__ = ["BatchOptions", "BatchReport", "ItemResult", "ProgressCallback", "SystemAgentBatchService", "listed"]
