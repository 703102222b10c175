"""The tools both servers share: the clinic's clock and its open slots."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from domain.config import ClinicConfig
from domain.services import Services
from domain.rules.schedule import clinic_today, hijri_date, hours_for, is_ramadan, slot_label
from mcp_server.budget import fit
from mcp_server.rendering import day_label, row, time_label
from mcp_server.toolkit import READ_ONLY, answer, declare

DateArg = Annotated[str, Field(max_length=40, description="YYYY-MM-DD or DD-MM-YYYY")]
TimeArg = Annotated[str | None, Field(max_length=40, description="A time like 13:00 or 1:00 PM")]
HijriArg = Annotated[bool, Field(description="Dates are Hijri (Umm al-Qura)")]
ArabicArg = Annotated[bool, Field(description="Answer in Arabic")]
CLOSURES = 50  # closures to come that the clock's answer lists


def type_names(config: ClinicConfig) -> str:
    """The configured reservation types, as the description of a type argument: "0 Check-up, 1 Follow-up"."""
    return ", ".join(f"{t.id} {t.name}" for t in config.reservation_types)


class CurrentTime(BaseModel):
    now: str
    date: str
    weekday: str
    time: str
    time_label: str
    hijri_date: str
    timezone: str
    is_ramadan: bool
    hours_today: str | None = None
    closures: list[dict[str, Any]] | None = None


class Availability(BaseModel):
    timezone: str
    start_date: str
    end_date: str
    near_time: str | None = None
    days: list[dict[str, Any]]
    summary: dict[str, int]
    truncated: dict[str, int] | None = None


class ClinicTools:
    """The clinic's clock and availability, as tools."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def tools(self) -> list[Tool]:
        return [
            declare(self.get_current_datetime, title="Current date and time", annotations=READ_ONLY),
            declare(self.search_available_appointments, title="Find open slots", annotations=READ_ONLY),
        ]

    async def get_current_datetime(self) -> Annotated[CallToolResult, CurrentTime]:
        """The clinic's date and time now, weekday, Hijri date, Ramadan, today's hours and the closures to
        come."""
        config = self.services.config
        now = self.services.clock().astimezone(config.zone)
        today = clinic_today(config, now)
        hours = hours_for(config, today)
        data = CurrentTime(
            now=now.isoformat(timespec="seconds"), date=today.isoformat(), weekday=today.strftime("%A"),
            time=now.strftime("%H:%M"), time_label=slot_label(now.strftime("%H:%M")), hijri_date=hijri_date(today),
            timezone=config.timezone, is_ramadan=is_ramadan(today),
            hours_today=None if hours is None else f"{hours.opens:%H:%M}-{hours.closes:%H:%M}",
            closures=[c.model_dump() for c in await self.services.vacations.list(ending_from=today)][:CLOSURES])
        text = f"{data.weekday} {data.date} {data.time} ({data.time_label}) {data.timezone}; Hijri {data.hijri_date}."
        if data.closures:
            text += "\nClosed (closure id|title|from|to|Hijri|hours, - for whole days):\n" + "\n".join(
                row([c["id"], c["title"], c["start_date"], c["end_date"], f"{c['start_hijri']} to {c['end_hijri']}",
                     f"{c['from_time']}-{c['to_time']}" if c.get("from_time") else None])
                for c in data.closures)
        return answer(text, data.model_dump(exclude_none=True))

    async def search_available_appointments(
        self,
        start_date: DateArg,
        end_date: Annotated[str | None, Field(description="Last day (inclusive); omit for one day")] = None,
        near_time: TimeArg = None,
        hijri: HijriArg = False,
        ar: ArabicArg = False,
    ) -> Annotated[CallToolResult, Availability]:
        """Open slots with the places left, for a day or a range (at most 366 days); with near_time,
        the nearest open slot each day. Days without slots say why in `status`."""
        days = await self.services.availability.search(start_date, end_date, near_time=near_time, hijri=hijri)
        shaped = [_day(dict(d)) for d in days]
        data = {"timezone": self.services.config.timezone, "start_date": days[0]["date"],
                "end_date": days[-1]["date"], "near_time": near_time, "days": shaped, "summary": _totals(shaped)}
        shown = fit(data)
        return answer(_availability_text(shown, self.services.config), shown)


def _day(day: dict[str, Any]) -> dict[str, Any]:
    slots = [{k: s[k] for k in SLOT_KEYS if k in s} for s in day["slots"]]
    status = "full" if day["status"] == "open" and not slots else day_status_text(day)
    return {"date": day["date"], "weekday": day["weekday"], "hijri_date": day["hijri_date"], "status": status,
            "slots": slots}


SLOT_KEYS = ("time_slot", "time_label", "remaining", "type_remaining")


def day_status_text(day: dict[str, Any]) -> str:
    """open, past, closed, or the vacation with its title ("vacation: Eid holiday")."""
    return f"vacation: {day['vacation']}" if day.get("vacation") else str(day["status"])


def _type_room(slot: dict[str, Any], config: ClinicConfig) -> str:
    """The types whose own cap this slot has reached: ' (Follow-up full)'."""
    full = [config.type_name(int(t)) for t, n in slot.get("type_remaining", {}).items() if n == 0]
    return f" ({', '.join(full)} full)" if full else ""


def _totals(days: list[dict[str, Any]]) -> dict[str, int]:
    return {"days": len(days), "days_with_slots": sum(1 for d in days if d["slots"]),
            "available_slots": sum(len(d["slots"]) for d in days)}


def _availability_text(data: dict[str, Any], config: ClinicConfig) -> str:
    """The totals, then one line per day: its status and each open slot with the places left."""
    totals = data["summary"]
    span = data["start_date"] if totals["days"] == 1 else f"{data['start_date']} to {data['end_date']}"
    lines = [f"{totals['available_slots']} available slot(s) on {totals['days_with_slots']} of {totals['days']} "
             f"day(s), {span} ({data['timezone']}). Per day: slot (places left)."]
    for day in data["days"]:
        slots = ", ".join(f"{time_label(s['time_slot'])} {s['remaining']} left{_type_room(s, config)}"
                          for s in day["slots"])
        lines.append(f"{day_label(day['date'])} {day['status']}" + (f": {slots}" if slots else ""))
    if len(data["days"]) < totals["days"]:
        lines.append(f"{totals['days'] - len(data['days'])} more day(s) not shown: ask for a shorter range.")
    return "\n".join(lines)
