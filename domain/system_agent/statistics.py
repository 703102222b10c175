"""Calendar statistics for the system agent: who wrote, how much, and who has no upcoming reservation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock, local_iso
from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.rules.schedule import clinic_midnight, parse_date, slot_label
from domain.storage.database import Database
from domain.storage.models import ConversationMessage, Customer, Reservation
from domain.storage.store import upcoming

MAX_ANALYSIS_DAYS = 366
MAX_LISTED_CUSTOMERS = 200
BUSIEST_HOURS = 5


class CalendarStatistics:
    """Counts over a period: who wrote, how much, and how full each day is."""

    def __init__(self, db: Database, config: ClinicConfig, clock: Clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock

    async def conversation_analysis(self, start_date: str, end_date: str) -> dict[str, Any]:
        """Message statistics of the customers' chats over clinic days start to end (inclusive).

        The system agent's own chat is left out and only counted apart.
        """
        first, last = date_range(start_date, end_date, MAX_ANALYSIS_DAYS)
        start, end = clinic_midnight(self.config, first), clinic_midnight(self.config, last + timedelta(days=1))
        period = [ConversationMessage.timestamp >= start, ConversationMessage.timestamp < end]
        customer_chats = [*period, ConversationMessage.wa_id != self.config.system_agent_wa_id]
        system_chat = select(func.count()).select_from(ConversationMessage).where(
            *period, ConversationMessage.wa_id == self.config.system_agent_wa_id)
        async with self.db.reading() as session:
            # Clinic days and hours depend on the zone's rules, so the timestamps are bucketed here, not in SQL.
            messages = (await session.execute(
                select(ConversationMessage.role, ConversationMessage.timestamp).where(*customer_chats))).all()
            writers = await self._writers(session, customer_chats)
            system_messages = int(await session.scalar(system_chat) or 0)
        stats = message_stats(self.config, messages, first, last)
        return {"start_date": first.isoformat(), "end_date": last.isoformat(), "timezone": self.config.timezone,
                **stats, **writers, "system_agent_messages": system_messages}

    async def _writers(self, session: AsyncSession, customer_chats: list[ColumnElement[bool]]) -> dict[str, Any]:
        """Customers who wrote in the period, and those of them with no upcoming reservation."""
        writers = (select(ConversationMessage.wa_id, func.max(ConversationMessage.timestamp).label("last"))
                   .where(*customer_chats, ConversationMessage.role == "user")
                   .group_by(ConversationMessage.wa_id).subquery())
        booked = select(Reservation.wa_id).where(upcoming(self.config, self.clock()))
        without = select(writers.c.wa_id, writers.c.last, Customer.name).outerjoin(
            Customer, Customer.wa_id == writers.c.wa_id).where(writers.c.wa_id.not_in(booked))
        count_without = select(func.count()).select_from(without.subquery())
        listed = (await session.execute(
            without.order_by(writers.c.last.desc(), writers.c.wa_id).limit(MAX_LISTED_CUSTOMERS))).all()
        total = int(await session.scalar(count_without) or 0)
        return {
            "active_customers": int(await session.scalar(select(func.count()).select_from(writers)) or 0),
            "customers_without_upcoming_reservation": {
                "count": total, "truncated": total > len(listed),
                "customers": [{"wa_id": w, "name": n, "last_message_at": local_iso(self.config, at)}
                              for w, at, n in listed],
            },
        }


def message_stats(
    config: ClinicConfig, messages: Iterable[tuple[str, datetime]], first: date, last: date
) -> dict[str, Any]:
    """Counts by role, per clinic day (every day of the range) and the busiest local hours of customers' messages."""
    local = [(role, at.astimezone(config.zone)) for role, at in messages]
    per_day = Counter(moment.date() for _, moment in local)
    hours = Counter(moment.hour for role, moment in local if role == "user")
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return {
        "total_messages": len(local),
        "messages_by_role": dict(sorted(Counter(role for role, _ in local).items())),
        "messages_per_day": {day.isoformat(): per_day.get(day, 0) for day in days},
        "busiest_hours": [{"hour": f"{h:02d}:00", "label": slot_label(f"{h:02d}:00"), "customer_messages": n}
                          for h, n in sorted(hours.items(), key=lambda item: (-item[1], item[0]))[:BUSIEST_HOURS]],
    }


def date_range(start_date: str, end_date: str, max_days: int | None = None) -> tuple[date, date]:
    """Parse an inclusive range; raises `invalid_range`, or `range_too_long` past `max_days` days."""
    first, last = parse_date(start_date), parse_date(end_date)
    if last < first:
        raise DomainError("invalid_range", start=first.isoformat(), end=last.isoformat())
    if max_days is not None and (last - first).days + 1 > max_days:
        raise DomainError("range_too_long", max_days=max_days)
    return first, last

