"""ReservationService: reserve, modify, cancel and undo a cancellation, one item per unit of work."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock, system_clock
from domain.config import BookingSource, ClinicConfig
from domain.calendar.changelog import log_change, signature_for
from domain.calendar.customers import change_wa_id, customer_names, rename_customer
from domain.storage.database import Database
from domain.errors import DomainError
from domain.events import CalendarEvents
from domain.rules.identities import normalize_wa_id
from domain.storage.models import Reservation
from domain.rules.planning import (
    ACTIVE, Booking, CalendarState, Change, ReservationStatus, RuleContext, find_target, plan_cancel, plan_modify,
    plan_reserve,
)
from domain.rules.schedule import parse_date, parse_time
from domain.staff.audit import AuditEvent, AuditLog
from domain.staff.roles import Signature
from domain.storage.store import (ensure_customers, load_state, load_vacations, lock_calendar, not_ended,
                                  write_changes, write_late_cancels)
from domain.views import ReservationView, View, reservation_view


class ReservationResult(View):
    """What an operation did, with the reservation after (and before) it."""

    action: str
    reservation: ReservationView | None
    previous: ReservationView | None = None


class ReservationService:
    """The single-item reservation verbs; the batch service plans with the same rules in bulk. Each change is
    signed (`by`; see `changelog.signature_for` when none is given) in the reservation's history and the audit log."""

    def __init__(
        self, db: Database, config: ClinicConfig, clock: Clock = system_clock, events: CalendarEvents | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.events = events or CalendarEvents()
        self.audit = audit or AuditLog(db, config, clock)

    async def rule_context(
        self, session: AsyncSession, source: BookingSource, max_reservations: int | None = None
    ) -> RuleContext:
        vacations = await load_vacations(session)
        return RuleContext(self.config, self.clock(), vacations, source, max_reservations)

    async def reserve(
        self,
        wa_id: str,
        day: str | date,
        time_slot: str,
        reservation_type: int | str = 0,
        customer_name: str | None = None,
        *,
        source: BookingSource = BookingSource.AGENT,
        max_reservations: int | None = None,
        hijri: bool = False,
        by: Signature | None = None,
    ) -> ReservationResult:
        """Book a slot; a customer's upcoming reservation is moved there instead of adding a second."""
        wa_id, when, slot = normalize_wa_id(wa_id), parse_date(day, hijri), parse_time(time_slot)
        async with self.db.unit_of_work() as session:
            await lock_calendar(session, [wa_id], [(when, slot)])
            ctx = await self.rule_context(session, source, max_reservations)
            state = await load_state(session, ctx.today, wa_ids=[wa_id], slots=[(when, slot)])
            change = plan_reserve(ctx, state, wa_id, when, slot, reservation_type)
            await ensure_customers(session, {wa_id: customer_name})
            result = await self._finish(session, change, signature_for(by, source, wa_id))
        return await self._published(result)

    async def modify(
        self,
        wa_id: str | None = None,
        reservation_id: int | None = None,
        *,
        new_date: str | date | None = None,
        new_time: str | None = None,
        new_type: int | str | None = None,
        new_name: str | None = None,
        new_wa_id: str | None = None,
        source: BookingSource = BookingSource.AGENT,
        max_reservations: int | None = None,
        hijri: bool = False,
        by: Signature | None = None,
    ) -> ReservationResult:
        """Change a reservation (by id, else the customer's nearest upcoming) and/or the customer."""
        wa_id = normalize_wa_id(wa_id) if wa_id is not None else None
        when = parse_date(new_date, hijri) if new_date is not None else None
        slot = parse_time(new_time) if new_time is not None else None
        target_wa = normalize_wa_id(new_wa_id) if new_wa_id is not None else None
        if when is None and slot is None and new_type is None and not new_name and target_wa is None:
            raise DomainError("nothing_to_change")
        async with self.db.unit_of_work() as session:
            result = ReservationResult(action="modified", reservation=None)
            owner = wa_id
            if when is not None or slot is not None or new_type is not None:
                change = await self._plan_modify(session, wa_id, reservation_id, when, slot, new_type, source, max_reservations)
                owner = change.after.wa_id
                result = await self._finish(session, change, signature_for(by, source, owner))
            elif reservation_id is not None:
                ctx = await self.rule_context(session, source)
                owner = (await self._locate(session, ctx, wa_id, reservation_id)).wa_id
            if owner is None:
                raise DomainError("reservation_not_found")
            await self._change_customer(session, owner, new_name, target_wa)
            if new_name or target_wa:
                self.audit.add(session, _customer_event(signature_for(by, source, owner), owner, new_name, target_wa))
        return await self._published(_with_customer(result, new_name, target_wa))

    async def _change_customer(
        self, session: AsyncSession, owner: str, new_name: str | None, new_wa_id: str | None
    ) -> None:
        await lock_calendar(session, [owner] + ([new_wa_id] if new_wa_id else []), [])
        if new_name:
            await rename_customer(session, owner, new_name)
        if new_wa_id is not None and new_wa_id != owner:
            await change_wa_id(session, owner, new_wa_id)

    async def _plan_modify(
        self,
        session: AsyncSession,
        wa_id: str | None,
        reservation_id: int | None,
        when: date | None,
        slot: str | None,
        new_type: int | str | None,
        source: BookingSource,
        max_reservations: int | None,
    ) -> Change:
        ctx = await self.rule_context(session, source, max_reservations)
        target = await self._locate(session, ctx, wa_id, reservation_id)
        key = (when or target.date, slot or target.time_slot)
        await lock_calendar(session, [target.wa_id], [key])
        state = await load_state(session, ctx.today, [target.wa_id], reservation_ids=[target.id], slots=[key])
        return plan_modify(ctx, state, state.bookings[target.id], key[0], key[1], new_type)

    async def _locate(
        self, session: AsyncSession, ctx: RuleContext, wa_id: str | None, reservation_id: int | None
    ) -> Booking:
        """Find the target before locking: an id's row, else the customer's nearest upcoming."""
        ids = [reservation_id] if reservation_id is not None else []
        state = await load_state(session, ctx.today, [wa_id] if wa_id else [], reservation_ids=ids)
        return find_target(ctx, state, wa_id, reservation_id)

    async def cancel(
        self, wa_id: str | None = None, reservation_id: int | None = None, *,
        source: BookingSource = BookingSource.AGENT, by: Signature | None = None,
    ) -> ReservationResult:
        """Soft-cancel a reservation (by id, else the customer's nearest upcoming)."""
        wa_id = normalize_wa_id(wa_id) if wa_id is not None else None
        async with self.db.unit_of_work() as session:
            ctx = await self.rule_context(session, source)
            target = await self._locate(session, ctx, wa_id, reservation_id)
            await lock_calendar(session, [target.wa_id], [])
            state = await load_state(session, ctx.today, reservation_ids=[target.id])
            change = plan_cancel(ctx, state, state.bookings[target.id])
            result = await self._finish(session, change, signature_for(by, source, target.wa_id))
        return await self._published(result)

    async def customer_reservations(
        self, wa_id: str, *, include_past: bool = False, include_cancelled: bool = False
    ) -> list[ReservationView]:
        """A customer's reservations, soonest first."""
        wa_id = normalize_wa_id(wa_id)
        query = select(Reservation).where(Reservation.wa_id == wa_id)
        async with self.db.reading() as session:
            ctx = await self.rule_context(session, BookingSource.AGENT)
            if not include_past:
                query = query.where(not_ended(self.config, ctx.now))
            if not include_cancelled:
                query = query.where(Reservation.status == ACTIVE)
            rows = await session.scalars(query.order_by(Reservation.date, Reservation.time_slot))
            names = await customer_names(session, [wa_id])
        bookings = [Booking(r.id, r.wa_id, r.date, r.time_slot, r.type, r.status) for r in rows]
        return [reservation_view(self.config, b, names.get(wa_id)) for b in bookings]

    async def _published(self, result: ReservationResult) -> ReservationResult:
        """Tell the calendar's listeners, once the change is committed (a caller's, inside `Database.together`)."""
        if result.reservation is not None and result.action != "unchanged":
            await self.db.after_commit(lambda: self._publish(result))
        return result

    async def _publish(self, result: ReservationResult) -> None:
        assert result.reservation is not None
        await self.events.publish(result.action, result.reservation)
        await self.events.days_changed({date.fromisoformat(v.date) for v in (result.reservation, result.previous)
                                        if v is not None})

    async def _finish(self, session: AsyncSession, change: Change, by: Signature) -> ReservationResult:
        ids = await write_changes(session, [change])
        now = self.clock()
        await write_late_cancels(session, self.config, [change], now)
        after = change.after
        if after.id in ids:
            after = Booking(ids[after.id], after.wa_id, after.date, after.time_slot, after.type, after.status)
        if change.action != "unchanged":
            log_change(session, self.audit, by, change.action, change.before, after, now)
        names = await customer_names(session, [after.wa_id])
        before = reservation_view(self.config, change.before, names.get(after.wa_id)) if change.before else None
        shown = reservation_view(self.config, after, names.get(after.wa_id))
        return ReservationResult(action=change.action, reservation=shown, previous=before)


def _customer_event(by: Signature, wa_id: str, new_name: str | None, new_wa_id: str | None) -> AuditEvent:
    """The audit line of a customer renamed or given a new number."""
    return AuditEvent(actor=by.actor, role=by.role, action="customer modify", target=wa_id,
                      detail={"new_name": new_name, "new_wa_id": new_wa_id})


def _with_customer(result: ReservationResult, new_name: str | None, new_wa_id: str | None) -> ReservationResult:
    """The result as it reads after the customer's name or number changed too."""
    if result.reservation is None:
        return result
    changed = {"customer_name": new_name} if new_name else {}
    if new_wa_id:
        changed["wa_id"] = new_wa_id
    return result.model_copy(update={"reservation": result.reservation.model_copy(update=changed)})
