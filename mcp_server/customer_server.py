"""The customer assistant's MCP server: one customer's tools, bound to their number.

The wa_id is fixed when the server is built and is never a tool argument, so a model talking with one
customer cannot read or change another's reservations. The system agent's tools are not here.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from domain.services import Services
from domain.config import BookingSource
from domain.rules.identities import MAX_NAME, normalize_wa_id
from domain.staff.roles import customer_signature
from domain.calendar.reservations import ReservationResult
from domain.system_agent.requests import MAX_ID, NotBoolean
from domain.views import ReservationView
from mcp_server.clinic_tools import SLOT_KEYS, ArabicArg, ClinicTools, DateArg, HijriArg, day_status_text, type_names
from mcp_server.schemas import shared_arguments_note
from mcp_server.toolkit import READ_ONLY, WRITES, ClinicServer, answer, declare
from mcp_server.waitlist_tools import CustomerWaitlistTools

TimeSlotArg = Annotated[str, Field(max_length=40, description="Slot start, e.g. 13:00 or 1:00 PM")]
TypeArg = Annotated[int, Field(ge=0, le=MAX_ID), NotBoolean]  # described by the configured types (`notes`)
IdArg = Annotated[Annotated[int, Field(ge=1, le=MAX_ID), NotBoolean] | None, Field(
    description="Which reservation; omit for the customer's next one")]


class CustomerReservations(BaseModel):
    wa_id: str
    timezone: str
    reservations: list[dict[str, Any]]


class DaySlots(BaseModel):
    date: str
    weekday: str
    status: str
    timezone: str
    slots: list[dict[str, Any]]


class ReservationChange(BaseModel):
    action: str
    reservation: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None


def build_customer_server(services: Services, wa_id: str) -> MCPServer:
    """An MCPServer with the customer assistant's tools, every one acting for `wa_id` only."""
    tools = CustomerTools(services, normalize_wa_id(wa_id)).tools()
    shared = shared_arguments_note([tool.parameters for tool in tools])
    return ClinicServer("clinic-calendar-customer", title="Clinic appointments",
                        instructions="Appointment tools for the customer in this chat; times are local to "
                                     f"{services.config.timezone}. {shared}", tools=tools)


class CustomerTools:
    """The customer assistant's verbs over the domain services, for one customer."""

    def __init__(self, services: Services, wa_id: str) -> None:
        self.services = services
        self.wa_id = wa_id
        self.signature = customer_signature(wa_id)  # every change here is the customer's own

    def tools(self) -> list[Tool]:
        clinic = ClinicTools(self.services).tools()
        names = type_names(self.services.config)
        return [clinic[0],
                declare(self.get_customer_reservations, title="My reservations", annotations=READ_ONLY),
                declare(self.get_available_time_slots, title="Open slots on a day", annotations=READ_ONLY),
                clinic[1],
                declare(self.reserve_time_slot, title="Book a slot", annotations=WRITES,
                        notes={"reservation_type": names}),
                declare(self.modify_reservation, title="Change my reservation", annotations=WRITES,
                        notes={"new_type": names}),
                declare(self.cancel_reservation, title="Cancel my reservation", annotations=WRITES),
                *CustomerWaitlistTools(self.services.waitlist, self.services.config, self.wa_id).tools()]

    async def get_customer_reservations(
        self, include_past: bool = False, include_cancelled: bool = False,
    ) -> Annotated[CallToolResult, CustomerReservations]:
        """This customer's reservations, soonest first (upcoming and active only, unless asked)."""
        rows = await self.services.reservations.customer_reservations(
            self.wa_id, include_past=include_past, include_cancelled=include_cancelled)
        data = {"wa_id": self.wa_id, "timezone": self.services.config.timezone,
                "reservations": [r.model_dump(mode="json") for r in rows]}
        text = "; ".join(_when(r) for r in rows) if rows else "No reservations."
        return answer(text, data)

    async def get_available_time_slots(
        self, date: DateArg, hijri: HijriArg = False, ar: ArabicArg = False,
    ) -> Annotated[CallToolResult, DaySlots]:
        """Open slots on one day with the places left. Say so when the day is closed or full."""
        days = await self.services.availability.search(date, hijri=hijri)
        day: dict[str, Any] = dict(days[0])
        slots = [{k: s[k] for k in SLOT_KEYS if k in s} for s in day["slots"]]
        left = "متبقٍ {n}" if ar else "{n} place(s) left"
        labels = ", ".join(f"{s['time_label']} ({left.format(n=s['remaining'])})" for s in slots) \
            or f"none ({day_status_text(day)})"
        data = {"date": day["date"], "weekday": day["weekday"], "status": day_status_text(day),
                "timezone": day["timezone"], "slots": slots}
        return answer(f"{day['weekday']} {day['date']}: {labels}.", data)

    async def reserve_time_slot(
        self, date: DateArg, time_slot: TimeSlotArg, reservation_type: TypeArg = 0,
        customer_name: Annotated[str | None, Field(
            max_length=MAX_NAME, description="The customer's name, if they gave it")] = None,
        hijri: HijriArg = False, ar: ArabicArg = False,
    ) -> Annotated[CallToolResult, ReservationChange]:
        """Book a slot for this customer. If they already have an upcoming reservation it is moved to
        this slot (one upcoming reservation per customer); the answer's action says which happened."""
        result = await self.services.reservations.reserve(
            self.wa_id, date, time_slot, reservation_type, customer_name, source=BookingSource.AGENT, hijri=hijri,
            by=self.signature)
        return _change(result)

    async def modify_reservation(
        self, new_date: Annotated[str | None, Field(description="YYYY-MM-DD or DD-MM-YYYY")] = None,
        new_time: Annotated[str | None, Field(description="e.g. 13:00 or 1:00 PM")] = None,
        new_type: Annotated[int, Field(ge=0, le=MAX_ID), NotBoolean] | None = None,
        new_name: Annotated[str | None, Field(description="The customer's corrected name")] = None,
        reservation_id: IdArg = None, hijri: HijriArg = False, ar: ArabicArg = False,
    ) -> Annotated[CallToolResult, ReservationChange]:
        """Change this customer's reservation (the next one unless reservation_id is given): date,
        time, type, or their name. Capacity and opening hours are checked."""
        result = await self.services.reservations.modify(
            self.wa_id, reservation_id, new_date=new_date, new_time=new_time, new_type=new_type,
            new_name=new_name, source=BookingSource.AGENT, hijri=hijri, by=self.signature)
        return _change(result)

    async def cancel_reservation(
        self, reservation_id: IdArg = None, ar: ArabicArg = False,
    ) -> Annotated[CallToolResult, ReservationChange]:
        """Cancel this customer's reservation (the next one unless reservation_id is given). Ask the
        customer to confirm before calling. Past reservations cannot be cancelled."""
        result = await self.services.reservations.cancel(self.wa_id, reservation_id, source=BookingSource.AGENT,
                                                         by=self.signature)
        return _change(result)


def _change(result: ReservationResult) -> CallToolResult:
    text = f"{result.action.capitalize()}: {_when(result.reservation)}." if result.reservation else result.action
    return answer(text, result.model_dump(mode="json"))


def _when(view: ReservationView | None) -> str:
    if view is None:
        return "-"
    return (f"#{view.id} {view.weekday} {view.date} {view.time_slot} ({view.time_label}) "
            f"{view.timezone}, {view.type_name}, {view.status}")
