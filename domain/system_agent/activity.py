"""What operators, agents and customers did over a period, for the dashboard: messages by who wrote them, and the
changes by who signed them (each staff member, the agent for each, their OAuth clients, the customers together, the
system): the batches they applied by tool, and the reservations they changed one at a time."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.staff.roles import author_of
from domain.storage.models import BatchRecord, ConversationMessage, ReservationChange
from domain.system_agent.authors import Author, authors
from domain.views import View

CUSTOMERS = "customer"  # every customer's own changes are counted together


class PersonActivity(View):
    """One author's changes in the period (`by`, `author`, `author_name` as `authors.Author`; the customers
    together have no author): the batches they applied by tool, and the reservations changed one at a time."""

    by: str
    author: str | None = None
    author_name: str | None = None
    batches: dict[str, int]
    changes: int


class Activity(View):
    """Messages by who wrote them; applied batches by actor, then by tool; and every author's changes (`people`,
    the most active first)."""

    messages: dict[str, int]
    batches: dict[str, dict[str, int]]
    people: list[PersonActivity]


async def activity(session: AsyncSession, start: datetime, end: datetime, system_wa_id: str) -> Activity:
    """Messages by who wrote them (operators, agents, customers), applied batches by actor and tool, and the changes
    by author, from `start` to `end`."""
    in_period = and_(ConversationMessage.timestamp >= start, ConversationMessage.timestamp < end)
    to_agent = (ConversationMessage.wa_id == system_wa_id).label("to_agent")  # grouped by its label: one bound value
    chats = (select(ConversationMessage.role, to_agent, func.count())
             .where(in_period).group_by(ConversationMessage.role, to_agent))
    batches = (select(BatchRecord.actor, BatchRecord.tool, func.count())
               .where(BatchRecord.created_at >= start, BatchRecord.created_at < end)
               .group_by(BatchRecord.actor, BatchRecord.tool))
    changes = (select(ReservationChange.actor, func.count())
               .where(ReservationChange.at >= start, ReservationChange.at < end).group_by(ReservationChange.actor))
    messages: Counter[str] = Counter()
    for role, agents_chat, count in (await session.execute(chats)).all():
        messages[_writer(str(role), bool(agents_chat))] += int(count)
    by_actor: dict[str, dict[str, int]] = defaultdict(dict)
    for actor, tool, count in (await session.execute(batches)).all():
        by_actor[str(actor)][str(tool)] = int(count)
    alone = {str(actor): int(count) for actor, count in (await session.execute(changes)).all()}
    return Activity(messages=dict(sorted(messages.items())), batches=dict(sorted(by_actor.items())),
                    people=await _people(session, by_actor, alone))


async def _people(session: AsyncSession, batches: dict[str, dict[str, int]],
                  alone: dict[str, int]) -> list[PersonActivity]:
    """Each author's batches by tool and single changes; the customers as one."""
    actors = {*batches, *alone}
    signed = await authors(session, [a for a in actors if author_of(a)[0] != CUSTOMERS])
    tools: dict[str, Counter[str]] = defaultdict(Counter)
    changes: Counter[str] = Counter()
    for actor in actors:
        key = CUSTOMERS if author_of(actor)[0] == CUSTOMERS else actor
        tools[key].update(batches.get(actor, {}))
        changes[key] += alone.get(actor, 0)
    people = [PersonActivity(**signed.get(key, Author(by=CUSTOMERS)).model_dump(), batches=dict(tools[key]),
                             changes=changes[key]) for key in tools]
    return sorted(people, key=lambda p: (-sum(p.batches.values()) - p.changes, p.by, p.author or ""))


def _writer(role: str, to_agent: bool) -> str:
    """Who a message is from, for the activity counts."""
    if role == "secretary":
        return "operator_to_system_agent" if to_agent else "operator_to_customers"
    if role == "assistant":
        return "system_agent" if to_agent else "customer_assistant"
    return "customers" if role == "user" else role
