"""Recall: customers chosen by their history ("who hasn't come back since March?").

A visit is an active reservation whose slot has ended (the one "upcoming" rule of `domain.rules.schedule`, as a
query condition); a cancellation is a cancelled reservation; upcoming is an active reservation not ended.
One grouped statement computes, per customer, the last visit, the visits, the cancellations and the next
booking, and the filters and the order apply to those figures in SQL.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, and_, case, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.rules.capacity import check_type
from domain.calendar.attendance import attendance_counts
from domain.clock import Clock
from domain.config import ClinicConfig
from domain.storage.database import Database
from domain.errors import DomainError
from domain.rules.identities import normalize_wa_id
from domain.storage.models import Customer, Reservation
from domain.rules.planning import ACTIVE, CANCELLED
from domain.rules.schedule import hijri_date, parse_date
from domain.storage.store import upcoming
from domain.system_agent.requests import Short, TypeId
from domain.views import View

DEFAULT_ROWS, MAX_ROWS = 100, 500
MAX_TARGETS = 5_000  # customers one recall may message
Sort = Literal["last_visit", "-last_visit", "visits", "cancellations", "name"]


class Recall(BaseModel):
    """Customers whose history matches every given criterion"""

    model_config = ConfigDict(extra="forbid", frozen=True)

    last_visit_before: Short | None = Field(default=None, description="Last visit before this date")
    last_visit_after: Short | None = Field(default=None, description="Last visit after this date")
    upcoming: bool | None = Field(default=None, description="false: no upcoming booking; true: has one")
    min_visits: int | None = Field(default=None, ge=0, le=100_000)
    max_visits: int | None = Field(default=None, ge=0, le=100_000)
    min_cancellations: int | None = Field(default=None, ge=0, le=100_000)
    reservation_types: list[TypeId] | None = Field(default=None, max_length=100, description="Count only these")
    sort: Sort = Field(default="last_visit", description="last_visit: longest away first")


class RecalledCustomer(View):
    wa_id: str
    name: str | None
    last_visit: str | None
    last_visit_hijri: str | None
    visits: int
    cancellations: int
    next_booking: str | None


class CustomerHistory(RecalledCustomer):
    """One customer's figures, with how often they did not come and cancelled late (`calendar://customer`)."""

    no_shows: int = 0
    late_cancels: int = 0


class RecallPage(View):
    total: int
    offset: int  # customers before this page
    customers: list[RecalledCustomer]
    next_cursor: str | None
    criteria: dict[str, Any]


class RecallService:
    """Customers by their history, paged; and the whole set as wa_ids, for a message or a batch."""

    def __init__(self, db: Database, config: ClinicConfig, clock: Clock) -> None:
        self.db, self.config, self.clock = db, config, clock

    async def page(self, recall: Recall, rows: int = DEFAULT_ROWS, cursor: str | None = None) -> RecallPage:
        """One page of the matching customers in the asked order, with the whole count."""
        rows = max(1, min(rows, MAX_ROWS))
        offset = _offset(cursor, _fingerprint(recall)) if cursor else 0
        figures = self._figures(recall).subquery()
        # The whole count rides along with the page (a window over the grouped rows): one grouping pass.
        ordered = (select(figures, func.count().over().label("total")).order_by(*_order(figures, recall.sort))
                   .offset(offset).limit(rows + 1))
        async with self.db.reading() as session:
            found = (await session.execute(ordered)).all()
            if found:
                total = int(found[0].total)
            else:  # past the last page: counted apart
                total = int(await session.scalar(select(func.count()).select_from(figures)) or 0)
        more = len(found) > rows
        return RecallPage(total=total, offset=offset, customers=[_customer(r) for r in found[:rows]],
                          next_cursor=_cursor(offset + rows, _fingerprint(recall)) if more else None,
                          criteria=recall.model_dump(exclude_defaults=True))

    async def wa_ids(self, session: AsyncSession, recall: Recall) -> list[str]:
        """Every matching customer's wa_id, in the asked order (at most MAX_TARGETS + 1: more is refused)."""
        figures = self._figures(recall).subquery()
        query = select(figures.c.wa_id).order_by(*_order(figures, recall.sort)).limit(MAX_TARGETS + 1)
        return list(await session.scalars(query))

    async def customer(self, wa_id: str) -> CustomerHistory:
        """One customer's figures, no-shows and late cancellations (`customer_not_found` when there is no such
        customer)."""
        query = self._figures(Recall()).where(Customer.wa_id == normalize_wa_id(wa_id))
        async with self.db.reading() as session:
            row = (await session.execute(query)).first()
            if row is None:
                raise DomainError("customer_not_found")
            counts = (await attendance_counts(session, [row.wa_id])).get(row.wa_id)
        figures = _customer(row).model_dump()
        return CustomerHistory(**figures, **(counts.model_dump() if counts is not None else {}))

    def _figures(self, recall: Recall) -> Select[str, str | None, Any, int, int, Any]:
        """Per customer (the system agent's contact aside): name, last visit, visits, cancellations, next
        booking, filtered by the criteria."""
        ahead = upcoming(self.config, self.clock())
        active = Reservation.status == ACTIVE
        visited = and_(active, not_(ahead))
        joined = Reservation.wa_id == Customer.wa_id
        if recall.reservation_types:
            joined = and_(joined, Reservation.type.in_([check_type(self.config, t) for t in recall.reservation_types]))
        last_visit = func.max(case((visited, Reservation.date))).label("last_visit")
        visits = func.count(case((visited, 1))).label("visits")
        cancellations = func.count(case((Reservation.status == CANCELLED, 1))).label("cancellations")
        next_booking = func.min(case((and_(active, ahead), Reservation.date))).label("next_booking")
        query = (select(Customer.wa_id, Customer.name, last_visit, visits, cancellations, next_booking)
                 .select_from(Customer).outerjoin(Reservation, joined)
                 .where(Customer.wa_id != self.config.system_agent_wa_id)
                 .group_by(Customer.wa_id, Customer.name))
        return query.having(*_criteria(recall, last_visit, visits, cancellations, next_booking))


def _criteria(recall: Recall, last_visit: Any, visits: Any, cancellations: Any, next_booking: Any) -> list[Any]:
    before = parse_date(recall.last_visit_before) if recall.last_visit_before else None
    after = parse_date(recall.last_visit_after) if recall.last_visit_after else None
    if before and after and before <= after:
        raise DomainError("invalid_range", start=after.isoformat(), end=before.isoformat())
    conditions = []
    if before is not None:
        conditions.append(last_visit < before)
    if after is not None:
        conditions.append(last_visit > after)
    if recall.upcoming is not None:
        conditions.append(next_booking.is_not(None) if recall.upcoming else next_booking.is_(None))
    if recall.min_visits is not None:
        conditions.append(visits >= recall.min_visits)
    if recall.max_visits is not None:
        conditions.append(visits <= recall.max_visits)
    if recall.min_cancellations is not None:
        conditions.append(cancellations >= recall.min_cancellations)
    return conditions


def _order(figures: Any, sort: Sort) -> list[Any]:
    """The page order, customers without a visit last by last visit; the wa_id breaks every tie."""
    c = figures.c
    first = {"last_visit": [c.last_visit.is_(None), c.last_visit],
             "-last_visit": [c.last_visit.is_(None), c.last_visit.desc()],
             "visits": [c.visits.desc()], "cancellations": [c.cancellations.desc()],
             "name": [c.name.is_(None), c.name]}[sort]
    return [*first, c.wa_id]


def _customer(row: Any) -> RecalledCustomer:
    last, upcoming_day = _day(row.last_visit), _day(row.next_booking)
    return RecalledCustomer(wa_id=row.wa_id, name=row.name, last_visit=last.isoformat() if last else None,
                            last_visit_hijri=hijri_date(last) if last else None, visits=int(row.visits),
                            cancellations=int(row.cancellations),
                            next_booking=upcoming_day.isoformat() if upcoming_day else None)


def _day(value: Any) -> date | None:
    """A grouped date as a date: SQLite hands back the stored text."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _fingerprint(recall: Recall) -> str:
    return hashlib.sha256(recall.model_dump_json().encode()).hexdigest()[:16]


def _cursor(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "f": fingerprint}).encode()).decode()


def _offset(cursor: str, fingerprint: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        offset = int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise DomainError("invalid_request", reason="the cursor is not one this tool returned.") from None
    if data.get("f") != fingerprint or offset < 0:
        raise DomainError("invalid_request", reason="the cursor was made for other criteria: pass next_cursor "
                                                    "back with exactly the same criteria.")
    return offset
