"""Who signed a change, as the histories and the dashboard show it: the kind of author (`by`: operator, agent,
client, customer, system), their username or wa_id (`author`), and the name a person reads (`author_name`: the
staff member's display name, the customer's name)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar.customers import customer_names
from domain.staff.roles import author_of
from domain.storage.models import StaffUser
from domain.views import View


class Author(View):
    """The signature of a change, readable: `by` the kind, `author` who (None: the single-token modes' operator or
    system agent, the records of before accounts, the system), `author_name` as a person reads it."""

    by: str
    author: str | None = None
    author_name: str | None = None


async def authors(session: AsyncSession, actors: Iterable[str]) -> dict[str, Author]:
    """Each actor's `Author`, with the display names of the staff and the customers they name."""
    signed = {actor: author_of(actor) for actor in set(actors)}
    staff = {name for kind, name in signed.values() if name and kind != "customer"}
    customers = {name for kind, name in signed.values() if name and kind == "customer"}
    names = await _display_names(session, staff) if staff else {}
    names_of_customers = await customer_names(session, customers) if customers else {}
    return {actor: Author(by=kind, author=name,
                          author_name=(names_of_customers if kind == "customer" else names).get(name or ""))
            for actor, (kind, name) in signed.items()}


async def _display_names(session: AsyncSession, usernames: set[str]) -> dict[str, str]:
    rows = await session.execute(select(StaffUser.username, StaffUser.display_name)
                                 .where(StaffUser.username.in_(sorted(usernames))))
    return {username: display for username, display in rows.all()}
