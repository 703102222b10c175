"""CustomerService and the customer-level writes other services share (rename, new wa_id)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import ClinicConfig
from domain.storage.database import Database, note_change
from domain.errors import DomainError
from domain.rules.identities import checked_name, display_wa_id, normalize_wa_id
from domain.storage.models import ConversationMessage, Customer, Reservation
from domain.storage.store import CUSTOMER_GONE, CUSTOMER_NAMED, ListParameters, ensure_customers
from domain.clock import local_iso
from domain.views import View


class CustomerView(View):
    """A contact as the console lists it; the system agent's own contact is pinned first."""

    wa_id: str
    name: str | None
    display: str
    is_system_agent: bool
    is_blocked: bool
    is_favorite: bool
    notices_opt_out: bool
    last_message_at: str | None


async def customer_names(session: AsyncSession, wa_ids: Iterable[str]) -> dict[str, str | None]:
    wanted = sorted(set(wa_ids))
    if not wanted:
        return {}
    listed = ListParameters(session)
    rows = await session.execute(select(Customer.wa_id, Customer.name).where(listed.one_of(Customer.wa_id, wanted)),
                                 listed.values)
    return {wa_id: name for wa_id, name in rows}


async def rename_customer(session: AsyncSession, wa_id: str, name: str) -> None:
    customer = await session.get(Customer, wa_id)
    if customer is None:
        raise DomainError("customer_not_found")
    customer.name = checked_name(name)
    note_change(session, CUSTOMER_NAMED, wa_id, customer.name)


async def change_wa_id(session: AsyncSession, old: str, new: str) -> None:
    """Move a customer, their reservations and their conversation to a new number."""
    customer = await session.get(Customer, old)
    if customer is None:
        raise DomainError("customer_not_found")
    if await session.get(Customer, new) is not None:
        raise DomainError("wa_id_taken", value=new)
    session.add(Customer(wa_id=new, name=customer.name, is_blocked=customer.is_blocked,
                         is_favorite=customer.is_favorite, created_at=customer.created_at))
    await session.flush()
    await session.execute(update(Reservation).where(Reservation.wa_id == old).values(wa_id=new))
    await session.execute(update(ConversationMessage).where(ConversationMessage.wa_id == old).values(wa_id=new))
    await session.execute(delete(Customer).where(Customer.wa_id == old))
    note_change(session, CUSTOMER_GONE, old)
    note_change(session, CUSTOMER_NAMED, new, customer.name)


class CustomerService:
    """Customers and the contact list."""

    def __init__(self, db: Database, config: ClinicConfig) -> None:
        self.db = db
        self.config = config

    async def get(self, wa_id: str) -> CustomerView | None:
        wa_id = normalize_wa_id(wa_id)
        async with self.db.reading() as session:
            customer = await session.get(Customer, wa_id)
            return None if customer is None else self._view(customer)

    async def ensure(self, wa_id: str, name: str | None = None) -> CustomerView:
        """The customer with this number, created if new; a given name replaces the old one."""
        wa_id = normalize_wa_id(wa_id)
        async with self.db.unit_of_work() as session:
            await ensure_customers(session, {wa_id: name})
            customer = await session.get(Customer, wa_id)
            assert customer is not None
            view = self._view(customer)
        return view

    async def set_flags(self, wa_id: str, *, blocked: bool | None = None, favorite: bool | None = None,
                        notices_opt_out: bool | None = None) -> CustomerView:
        """Block or unblock, favourite or not, opted out of notices or not; None leaves a flag as it is."""
        wa_id = normalize_wa_id(wa_id)
        async with self.db.unit_of_work() as session:
            customer = await session.get(Customer, wa_id)
            if customer is None:
                raise DomainError("customer_not_found")
            if blocked is not None:
                customer.is_blocked = blocked
            if favorite is not None:
                customer.is_favorite = favorite
            if notices_opt_out is not None:
                customer.notices_opt_out = notices_opt_out
            return self._view(customer)

    async def is_blocked(self, wa_id: str) -> bool:
        async with self.db.reading() as session:
            customer = await session.get(Customer, wa_id)
            return bool(customer and customer.is_blocked)

    async def contacts(self) -> list[CustomerView]:
        """Every contact, the system agent pinned first (even on an empty database), then newest talk first."""
        last = (
            select(ConversationMessage.wa_id, func.max(ConversationMessage.timestamp).label("last"))
            .group_by(ConversationMessage.wa_id).subquery()
        )
        query = select(Customer, last.c.last).outerjoin(last, last.c.wa_id == Customer.wa_id)
        async with self.db.reading() as session:
            rows = (await session.execute(query)).all()
        others = [self._view(c, at) for c, at in rows if c.wa_id != self.config.system_agent_wa_id]
        others.sort(key=lambda c: (c.last_message_at or "", c.wa_id), reverse=True)
        return [self.system_agent_contact()] + others

    def system_agent_contact(self) -> CustomerView:
        wa_id = self.config.system_agent_wa_id
        return CustomerView(wa_id=wa_id, name=self.config.system_agent_name, display=display_wa_id(wa_id),
                            is_system_agent=True, is_blocked=False, is_favorite=True, notices_opt_out=False,
                            last_message_at=None)

    def _view(self, customer: Customer, last_message: datetime | None = None) -> CustomerView:
        return CustomerView(wa_id=customer.wa_id, name=customer.name, display=display_wa_id(customer.wa_id),
                            is_system_agent=False, is_blocked=customer.is_blocked, is_favorite=customer.is_favorite,
                            notices_opt_out=bool(customer.notices_opt_out), last_message_at=local_iso(self.config, last_message))
