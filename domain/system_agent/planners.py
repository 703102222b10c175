"""How each kind of batch plans its items over one loaded calendar state, with the pure rules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar.attendance import AttendanceEdit, load_attendance
from domain.calendar.closures import CLOSURE_ACTIONS, ClosureEdit, reverted_closures
from domain.storage.database import FINE_LOCKS, lock_whole_calendar
from domain.errors import DomainError
from domain.rules.identities import normalize_wa_id
from domain.storage.models import Customer, Notice
from domain.rules.planning import (
    Booking, CalendarState, Change, RuleContext, SlotKey, plan_cancel, plan_modify, plan_moves, plan_reserve,
)
from domain.rules.placement import place
from domain.rules.schedule import parse_date, parse_time, slots_for
from domain.storage.store import load_state, lock_calendar
from domain.system_agent.audit import recorded_changes
from domain.system_agent.report import BatchReport, ItemResult
from domain.system_agent.requests import MAX_ID, CancelItem, ModifyItem, ReserveItem, Updates, parse_item
from domain.system_agent.targets import Filtered, find_by_filters, locate
from domain.storage.models import BatchRecord
from domain.system_agent.undo import (
    CustomerEdit, load_record, renumbered, reverted_customer, revert, revert_mark, undo_item, undo_state,
)

ProgressCallback = Callable[[int, int], Awaitable[None]]
PROGRESS_STEP = 100


@dataclass
class Plan:
    """Everything a batch decided inside its transaction, before writing."""

    report: BatchReport
    changes: list[Change] = field(default_factory=list)
    edits: list[CustomerEdit] = field(default_factory=list)
    new_customers: dict[str, str | None] = field(default_factory=dict)
    undoes: BatchRecord | None = None  # the batch this plan undoes, marked undone when the plan is written
    redeemed: tuple[str, datetime, datetime] | None = None  # a token's nonce, expiry and now: used up when written
    notices: int = 0  # customers the batch will message (with `notify`)
    message: str | None = None  # what a message batch tells its customers (`MessagePlanner`)
    closures: list[ClosureEdit] = field(default_factory=list)  # closures written or removed (`closures`)
    notified_before: int = 0  # customers the batch an undo reverts told on WhatsApp
    withdrawn: list[int] = field(default_factory=list)  # notices an undo takes back before they are sent
    marks: list[AttendanceEdit] = field(default_factory=list)  # attendance written with `changes` (`marking`)

    def ok(self, index: int, change: Change) -> None:
        after = change.after
        self.changes.append(change)
        self.report.items.append(ItemResult(index, "ok", after.wa_id, after.id, change.action, change.before, after))

    def ok_all(self, changes: list[Change]) -> None:
        """`ok` for each of these changes, the items numbered from 0 in their order."""
        self.changes += changes
        self.report.items += [ItemResult(index, "ok", c.after.wa_id, c.after.id, c.action, c.before, c.after)
                              for index, c in enumerate(changes)]

    def fail(self, index: int, error: DomainError, wa_id: Any = None, reservation_id: Any = None,
             current: Booking | None = None, requested: tuple[date, str] | None = None) -> None:
        """A failed item; `current` is the reservation it was about, as it stands (its owner when none was given).
        What the caller sent is kept only when it is a plain number: anything else could be hostile."""
        # Kept without its traceback: the frames it holds would outweigh the item (a batch of 100,000 failures
        # held every frame of every failed check).
        error.__traceback__ = None
        wa_id = wa_id if isinstance(wa_id, str) and wa_id.isascii() and wa_id.isdigit() and len(wa_id) <= 20 else None
        reservation_id = reservation_id if isinstance(reservation_id, int) and 0 < reservation_id <= MAX_ID else None
        if current is not None and wa_id in (None, current.wa_id):
            wa_id, reservation_id = current.wa_id, current.id
        else:
            current = None
        self.report.items.append(ItemResult(index, "failed", wa_id, reservation_id, before=current, error=error,
                                            requested=requested))

    def closure_views(self) -> list[dict[str, Any]]:
        return [dict(c.view().model_dump(), action=c.action) for c in self.closures]


Planner = Callable[[AsyncSession, RuleContext, Plan, "ProgressCallback | None"], Awaitable[None]]


async def _tick(progress: ProgressCallback | None, done: int, total: int) -> None:
    if progress is not None and (done % PROGRESS_STEP == 0 or done == total):
        await progress(done, total)


async def _ticks(progress: ProgressCallback | None, total: int) -> None:
    """The progress `_tick` tells over `total` items, once they are all planned at once."""
    if progress is not None:
        for done in [*range(PROGRESS_STEP, total + 1, PROGRESS_STEP), *([total] if total % PROGRESS_STEP else [])]:
            await progress(done, total)


class ReservePlanner:
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
                plan.fail(index, error, wa_id, requested=(day, slot))
            await _tick(progress, done, len(parsed))


class ModifyPlanner:
    def __init__(self, raw: list[Any], filtered: Filtered | None = None,
                 updates: Updates | None = None) -> None:
        self.raw, self.filtered, self.updates = raw, filtered, updates

    async def _items(self, plan: Plan) -> list[tuple[int, ModifyItem]]:
        items = []
        for index, raw in enumerate(self.raw):
            try:
                items.append((index, parse_item(ModifyItem, raw)))
            except DomainError as error:
                plan.fail(index, error)
        return items

    async def __call__(self, session: AsyncSession, ctx: RuleContext, plan: Plan,
                       progress: ProgressCallback | None) -> None:
        if self.filtered is not None and self.updates is not None:
            return await self._filtered(session, ctx, plan, progress, self.filtered, self.updates)
        items = []
        for index, item in await self._items(plan):
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
                plan.fail(index, error, parsed.wa_id, item.reservation_id, _current(state, item.reservation_id))
            await _tick(progress, done, len(items))

    @staticmethod
    async def _filtered(session: AsyncSession, ctx: RuleContext, plan: Plan, progress: ProgressCallback | None,
                        filtered: Filtered, updates: Updates) -> None:
        """Every found reservation gets the same updates: parsed once, no model per item."""
        found = await _found(session, ctx, plan, filtered)
        try:
            day = parse_date(updates.new_date, updates.hijri) if updates.new_date else None
            slot = parse_time(updates.new_time) if updates.new_time else None
        except DomainError as error:
            for index, booking in enumerate(found):
                plan.fail(index, error, booking.wa_id, booking.id, booking)
            return
        state = await _found_state(session, ctx, found, lambda at: (day or at[0], slot or at[1]),
                                   whole_days=updates.placement != "keep_time")
        found = [state.bookings.get(b.id, b) for b in found]  # as of holding the locks; the rows read before go
        # A move to the asked day and time (where "nearest" also goes first), type kept: planned per group.
        if updates.new_type is None and (day or slot) and updates.placement != "first_free":
            moves = plan_moves(ctx, state, found, day, slot)
            if moves is not None:
                plan.ok_all(moves)
                await _ticks(progress, len(found))
                return
        for index, booking in enumerate(found):
            current = state.bookings[booking.id]  # as earlier items of the batch left it
            try:
                change, placed = place(ctx, state, current, day, slot, updates.new_type, updates.placement)
                plan.ok(index, change)
                plan.report.items[-1].placed = placed
            except DomainError as error:
                plan.fail(index, error, current.wa_id, current.id, current)
            await _tick(progress, index + 1, len(found))


async def _found(session: AsyncSession, ctx: RuleContext, plan: Plan,
                 filtered: Filtered) -> list[Booking]:
    """The reservations the filters find; their customers' names go to the report."""
    found, names = await find_by_filters(session, ctx, *filtered)
    plan.report.names.update(names)
    return found


async def _found_state(session: AsyncSession, ctx: RuleContext, found: list[Booking],
                       destination: Callable[[SlotKey], SlotKey] | None = None,
                       whole_days: bool = False) -> CalendarState:
    """Lock the found reservations' customers, then their slots and the slots they go to (`whole_days`:
    every slot of the days they go to, for a placement); the state of the found rows (as of holding the
    locks) and of every day they move to. Rows that stay where they are need no day: leaving a slot never
    breaks its capacity."""
    def places(bookings: list[Booking]) -> tuple[set[SlotKey], set[SlotKey]]:
        sources = {(b.date, b.time_slot) for b in bookings}
        targets = {destination(at) for at in sources} if destination else set()
        if whole_days:
            targets |= {(day, s) for day in {d for d, _ in targets} for s in slots_for(ctx.config, day)}
        return sources, targets

    customers, (sources, targets) = {b.wa_id for b in found}, places(found)
    if len(customers) + len(sources | targets) > FINE_LOCKS:  # decided once: a shared lock is never upgraded
        locked = await lock_whole_calendar(session)
    else:
        locked = await lock_calendar(session, customers, [])
    current = found
    if locked:  # as of holding the locks
        current = list((await load_state(session, ctx.today, reservation_ids=[b.id for b in found])).bookings.values())
        sources, targets = places(current)
    await lock_calendar(session, [], sources | targets)
    if not targets:
        return CalendarState.of(current)
    destinations = await load_state(session, ctx.today, dates={day for day, _ in targets})
    return CalendarState.of([*current, *destinations.bookings.values()])


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


def _current(state: CalendarState, reservation_id: int | None) -> Booking | None:
    return state.bookings.get(reservation_id) if reservation_id is not None else None


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


class CancelPlanner:
    def __init__(self, raw: list[Any], filtered: Filtered | None) -> None:
        self.raw, self.filtered = raw, filtered

    def _items(self, plan: Plan) -> list[tuple[int, CancelItem]]:
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
        if self.filtered is not None:
            return await self._filtered(session, ctx, plan, progress, self.filtered)
        parsed = []
        for index, item in self._items(plan):
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
                plan.fail(index, error, wa_id, item.reservation_id, _current(state, item.reservation_id))
            await _tick(progress, done, len(parsed))

    @staticmethod
    async def _filtered(session: AsyncSession, ctx: RuleContext, plan: Plan, progress: ProgressCallback | None,
                        filtered: Filtered) -> None:
        found = await _found(session, ctx, plan, filtered)
        state = await _found_state(session, ctx, found)
        for index, booking in enumerate(found):
            current = state.bookings[booking.id]
            try:
                plan.ok(index, plan_cancel(ctx, state, current))
            except DomainError as error:
                plan.fail(index, error, current.wa_id, current.id, current)
            await _tick(progress, index + 1, len(found))


class UndoPlanner:
    """Reverts a recorded batch; `hint` is the next step its answer offers (telling the customers it
    notified the restored times)."""

    def __init__(self, batch_id: str, hint: str | None = None, told: int = 0) -> None:
        self.batch_id, self.hint, self.told = batch_id, hint, told

    async def __call__(self, session: AsyncSession, ctx: RuleContext, plan: Plan,
                       progress: ProgressCallback | None) -> None:
        plan.report.hint = self.hint
        plan.notified_before = self.told
        record = await load_record(session, self.batch_id)
        changes = recorded_changes(record.changes)
        state = await undo_state(session, ctx, changes)
        numbers = renumbered(changes)
        plan.closures = await reverted_closures(session, ctx.vacations, changes)
        # Reservations first, as the batch left them; then the customers it renamed or renumbered; then the
        # messages it queued and were not sent yet.
        attendance = await load_attendance(session, [c["after"]["id"] for c in changes if "attendance" in c])
        for index, change in reversed(list(enumerate(changes))):
            if change["action"] in ("customer", "message", "withdrawn") or change["action"] in CLOSURE_ACTIONS:
                continue
            result: Change | DomainError
            try:
                if "attendance" in change:
                    result, edit = revert_mark(ctx, state, change, attendance, index)
                    plan.marks.append(edit)
                else:
                    result = revert(ctx, state, change, numbers)
                plan.changes.append(result)
            except DomainError as error:
                result = error.with_traceback(None)  # as `Plan.fail` keeps errors
            plan.report.items.append(undo_item(index, change, result))
        for index, change in enumerate(changes):
            if change["action"] == "customer":
                plan.edits.append(reverted_customer(index, change))
                plan.report.items.append(ItemResult(index, "ok", change["wa_id"], None, "customer"))
            elif change["action"] == "withdrawn":
                plan.report.items.append(ItemResult(index, "failed", change.get("wa_id"),
                                                    error=DomainError("message_not_requeued")))
        if any(change["action"] == "message" for change in changes):
            await withdraw_messages(session, plan, record.id)
        plan.undoes = record


async def withdraw_messages(session: AsyncSession, plan: Plan, batch_id: str) -> None:
    """Take back a message batch: each notice not sent yet (queued, or held by a sender that has not begun it) is
    withdrawn when the undo is written; one whose send began or ended is reported, with where it stands. The rows
    are locked, so a sender cannot begin one between this plan and its write."""
    notices = await session.scalars(select(Notice).where(Notice.batch_id == batch_id).order_by(Notice.id)
                                    .with_for_update())
    for index, notice in enumerate(notices):
        if notice.status == "queued" or (notice.status == "sending" and notice.attempted_at is None):
            plan.withdrawn.append(notice.id)
            plan.report.items.append(ItemResult(index, "ok", notice.wa_id, action="withdrawn"))
        else:
            status = "being sent" if notice.status in ("sending", "unsure") else notice.status
            plan.report.items.append(ItemResult(index, "failed", notice.wa_id,
                                                error=DomainError("message_already_sent", status=status)))


class MessagePlanner:
    """The customers a message goes to: explicit wa_ids (each must be a customer), or the customers of the
    upcoming reservations the filters find, each once. Nothing in the calendar changes."""

    def __init__(self, wa_ids: list[Any], filtered: Filtered | None, text: str) -> None:
        self.wa_ids, self.filtered, self.text = wa_ids, filtered, text

    async def __call__(self, session: AsyncSession, ctx: RuleContext, plan: Plan,
                       progress: ProgressCallback | None) -> None:
        plan.message = self.text
        if self.filtered is not None:
            found = await _found(session, ctx, plan, self.filtered)
            targets: list[tuple[int, Any]] = [(i, b.wa_id) for i, b in enumerate(found)]
        else:
            targets = list(enumerate(self.wa_ids))
        wanted: list[tuple[int, str]] = []
        for index, raw in targets:
            try:
                wanted.append((index, normalize_wa_id(raw) if isinstance(raw, str) else _not_a_number()))
            except DomainError as error:
                plan.fail(index, error)
        known = set(await session.scalars(select(Customer.wa_id).where(
            Customer.wa_id.in_(sorted({w for _, w in wanted})))))
        seen: set[str] = set()
        for index, wa_id in wanted:
            if wa_id not in known:
                plan.fail(index, DomainError("customer_not_found"), wa_id)
            elif wa_id not in seen:
                seen.add(wa_id)
                plan.report.items.append(ItemResult(index, "ok", wa_id, action="message"))


def _not_a_number() -> str:
    raise DomainError("invalid_wa_id")
