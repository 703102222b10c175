"""`system_view_week`: the week view's own tool, called by the view (never listed to a model) for the calendar of
the week it shows."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any

from hijridate.ummalqura import GREGORIAN_RANGE
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from domain.rules.schedule import clinic_today
from domain.system_agent.queries import SystemAgentQueryService
from mcp_server.clinic_tools import ArabicArg
from mcp_server.toolkit import READ_ONLY, answer, declare

WEEK_DAYS = 7
# The weeks whose days the clinic's Umm al-Qura calendar (Ramadan hours, Hijri dates) can place.
FIRST_DAY = date(*GREGORIAN_RANGE[0]) + timedelta(days=WEEK_DAYS)
LAST_DAY = date(*GREGORIAN_RANGE[1]) - timedelta(days=WEEK_DAYS)
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: Any) -> Any:
    """Only a text `YYYY-MM-DD` in ASCII digits is a day: no timestamp number, no other digits, no time."""
    if not isinstance(value, str) or not ISO_DAY.fullmatch(value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


def _placeable(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"the week view shows days from {FIRST_DAY} to {LAST_DAY}")
    return day


ViewDay = Annotated[date, BeforeValidator(_iso_day), AfterValidator(_placeable),
                    Field(description="Any day of the week to show (YYYY-MM-DD)")]


class WeekAnswer(BaseModel):
    """The week (Sunday to Saturday) holding the day asked: its first day, the clinic's today, and the calendar
    of those seven days as `system_get_reservation_snapshot` (and the console's calendar) reads it."""

    week_start: str
    today: str
    snapshot: dict[str, Any]


def week_start(day: date) -> date:
    """The Sunday on or before `day`: the clinic's week runs Sunday to Saturday."""
    return day - timedelta(days=(day.weekday() + 1) % WEEK_DAYS)


class WeekView:
    """The week view's tool over `SystemAgentQueryService` (read-only)."""

    def __init__(self, queries: SystemAgentQueryService) -> None:
        self.queries = queries

    def tool(self) -> Tool:
        return declare(self.system_view_week, title="Calendar week", annotations=READ_ONLY)

    async def system_view_week(self, day: ViewDay, ar: ArabicArg = False) -> Annotated[CallToolResult, WeekAnswer]:
        """The calendar of the week (Sunday to Saturday) holding day, for the week view: each day's status and,
        per slot, who is booked and the places left."""
        first = week_start(day)
        snapshot = await self.queries.reservation_snapshot(first.isoformat(),
                                                           (first + timedelta(days=WEEK_DAYS - 1)).isoformat())
        today = clinic_today(self.queries.config, self.queries.clock())
        totals = snapshot["totals"]
        text = (f"أسبوع {first.isoformat()}: {totals['reservations']} حجزًا." if ar
                else f"Week of {first.isoformat()}: {totals['reservations']} reservation(s).")
        return answer(text, {"week_start": first.isoformat(), "today": today.isoformat(), "snapshot": dict(snapshot)})
