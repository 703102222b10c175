"""`system_get_dashboard`: the console dashboard's numbers, for a model."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult
from pydantic import Field

from domain.system_agent.dashboard import DashboardService
from mcp_server.budget import fit
from mcp_server.clinic_tools import DateArg
from mcp_server.query_tools import Report
from mcp_server.rendering import record_text
from mcp_server.toolkit import READ_ONLY, answer, declare


class DashboardTool:
    def __init__(self, dashboard: DashboardService) -> None:
        self.dashboard = dashboard

    def tools(self) -> list[Tool]:
        return [declare(self.system_get_dashboard, title="Clinic dashboard", annotations=READ_ONLY)]

    async def system_get_dashboard(
        self, start_date: DateArg,
        end_date: Annotated[str | None, Field(max_length=40, description="Inclusive; at most 366 days")] = None,
    ) -> Annotated[CallToolResult, Report]:
        """Bookings per day and type, cancellations and share, no-show rate (no-shows / (arrived +
        no-shows)) by day and type, busiest slots, new vs returning customers, operator and agent
        activity over a period."""
        data = fit((await self.dashboard.figures(start_date, end_date)).model_dump(mode="json"))
        return answer(record_text(headline(data), data), data)


def headline(data: dict[str, Any]) -> str:
    totals, customers = data["totals"], data["customers"]
    top = data["busiest_slots"][0] if data["busiest_slots"] else None
    busiest = f" Busiest: {top['weekday']} {top['time_slot']} ({top['bookings']})." if top else ""
    return (f"{data['start_date']} to {data['end_date']} ({data['timezone']}): {totals['bookings']} booking(s), "
            f"{totals['cancelled']} cancelled ({totals['cancelled_share']:.0%}); {customers['total']} customer(s) "
            f"booked, {customers['new']} new and {customers['returning']} returning.{busiest}{no_shows(totals)}")


def no_shows(totals: dict[str, Any]) -> str:
    """The no-show rate's sentence: no-shows of the bookings marked arrived or no-show."""
    marked = totals["no_shows"]
    if marked["rate"] is None:
        return " No booking marked arrived or no-show."
    return (f" No-shows: {marked['no_shows']} of {marked['no_shows'] + marked['arrived']} marked "
            f"({marked['rate']:.0%}); late cancellations: {totals['late_cancelled']}.")
