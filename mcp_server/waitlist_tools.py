"""The waitlist's tools: the customer assistant's own (`join_waitlist`, `leave_waitlist`, `get_my_waitlist`, bound to
the customer in the chat) and the system agent's `system_waitlist` (list, add for a customer, remove)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from domain.config import ClinicConfig
from domain.staff.roles import customer_signature, signed
from domain.system_agent.requests import MAX_ID, NotBoolean
from domain.waitlist.rules import MAX_TIMES, WAITING
from domain.waitlist.service import WaitlistService
from domain.waitlist.views import JoinResult, WaitlistEntryView, WaitlistListing, WaitlistOfferView
from mcp_server.clinic_tools import ArabicArg, type_names
from mcp_server.customer_data import marked, note, quoted
from mcp_server.principals import caller
from mcp_server.toolkit import READ_ONLY, WRITES, answer, declare

StartArg = Annotated[str, Field(max_length=40, description="First day wanted (today or later)")]
EndArg = Annotated[str, Field(max_length=40, description="Last day wanted, YYYY-MM-DD (inclusive)")]
TimesArg = Annotated[list[Annotated[str, Field(max_length=20)]] | None, Field(
    max_length=MAX_TIMES, description="Slot start times wanted, e.g. [\"11:00\", \"1:00 PM\"]; omit for any time")]
TypeArg = Annotated[Annotated[int, Field(ge=0, le=MAX_ID), NotBoolean] | None, Field(
    description="Appointment type wanted; omit for any")]
EntryIdArg = Annotated[int, Field(ge=1, le=MAX_ID), NotBoolean]


class WaitlistAnswer(BaseModel):
    """Entries and open offers (`entries`, `offers`), or what a join or removal did (`action`, `entry`, `removed`)."""

    timezone: str
    action: str | None = None
    entry: dict[str, Any] | None = None
    removed: list[dict[str, Any]] | None = None
    entries: list[dict[str, Any]] | None = None
    offers: list[dict[str, Any]] | None = None


class CustomerWaitlistTools:
    """The customer assistant's waitlist verbs, for one customer."""

    def __init__(self, waitlist: WaitlistService, config: ClinicConfig, wa_id: str) -> None:
        self.waitlist, self.config, self.wa_id = waitlist, config, wa_id

    def tools(self) -> list[Tool]:
        names = type_names(self.config)
        return [declare(self.join_waitlist, title="Join the waitlist", annotations=WRITES, notes={"type": names}),
                declare(self.leave_waitlist, title="Leave the waitlist", annotations=WRITES),
                declare(self.get_my_waitlist, title="My waitlist", annotations=READ_ONLY)]

    async def join_waitlist(self, start_date: StartArg, end_date: EndArg, times: TimesArg = None,
                            type: TypeArg = None, ar: ArabicArg = False,
                            ) -> Annotated[CallToolResult, WaitlistAnswer]:
        """Put this customer on the waitlist for a date range (at most the clinic's limit, usually 90 days) when
        the slots they want are full. When a place frees that matches, they get a WhatsApp message with Accept
        and Decline buttons; the first to accept is booked (an upcoming booking of theirs is moved). Joining
        again over an overlapping range updates their entry and keeps their place in the line. Suggest free
        slots first (search_available_appointments); use this when none suits."""
        result = await self.waitlist.join(self.wa_id, start_date, end_date, times, type,
                                          author=customer_signature(self.wa_id).actor)
        return _joined(self.config, result, ar)

    async def leave_waitlist(self, entry_id: Annotated[EntryIdArg | None, Field(
            description="Which entry (from get_my_waitlist); omit to leave the waitlist entirely")] = None,
                             ar: ArabicArg = False) -> Annotated[CallToolResult, WaitlistAnswer]:
        """Take this customer off the waitlist: one entry, or every waiting entry of theirs. Ask them first."""
        removed = await self.waitlist.leave(self.wa_id, entry_id)
        text = ("أُزيل من قائمة الانتظار: " if ar else "Removed from the waitlist: ") + "; ".join(
            _entry_line(e, ar) for e in removed)
        return answer(text, {"timezone": self.config.timezone, "action": "removed",
                             "removed": [e.model_dump(mode="json") for e in removed]})

    async def get_my_waitlist(self, ar: ArabicArg = False) -> Annotated[CallToolResult, WaitlistAnswer]:
        """This customer's waiting entries and any place currently offered to them (with until when it is held)."""
        listing = await self.waitlist.listing(self.wa_id, WAITING)
        return _listing(listing, ar)


class SystemWaitlistTools:
    """`system_waitlist`: the operators' view of the waitlist and their changes to it."""

    def __init__(self, waitlist: WaitlistService, config: ClinicConfig) -> None:
        self.waitlist, self.config = waitlist, config

    def tools(self) -> list[Tool]:
        return [declare(self.system_waitlist, title="Waitlist", annotations=WRITES,
                        notes={"type": type_names(self.config)})]

    async def system_waitlist(
        self, action: Annotated[Literal["list", "add", "remove"], Field(
            description="list entries and open offers; add a customer; remove an entry")] = "list",
        wa_id: Annotated[str | None, Field(max_length=40, description="The customer (list: filter; add: who)")] = None,
        status: Annotated[Literal["waiting", "booked", "removed", "expired", "all"], Field(
            description="list: which entries")] = "waiting",
        start_date: Annotated[str | None, Field(max_length=40, description="add: first day (today or later)")] = None,
        end_date: Annotated[str | None, Field(max_length=40, description="add: last day (inclusive)")] = None,
        times: TimesArg = None, type: TypeArg = None,
        entry_id: Annotated[EntryIdArg | None, Field(description="remove: the entry's id")] = None,
        ar: ArabicArg = False,
    ) -> Annotated[CallToolResult, WaitlistAnswer]:
        """The waitlist: list its entries and open offers, add a customer for a date range (optionally start times
        and a type; their overlapping entry is updated instead), or remove an entry by id. A freed place is offered
        to the longest-waiting matching entries by WhatsApp, and the first to accept is booked."""
        who = caller()
        signature = signed(who.principal, who.actor)
        if action == "add":
            if not (wa_id and start_date and end_date):
                raise ToolError("add needs wa_id, start_date and end_date.")
            return _joined(self.config, await self.waitlist.join(wa_id, start_date, end_date, times, type,
                                                                 author=signature.actor, role=signature.role), ar)
        if action == "remove":
            if entry_id is None:
                raise ToolError("remove needs entry_id (system_waitlist with action list shows the ids).")
            removed = await self.waitlist.remove(entry_id, signature)
            data = marked({"timezone": self.config.timezone, "action": "removed",
                           "removed": [removed.model_dump(mode="json")]})
            return answer(_noted(data, ar, ("أُزيل: " if ar else "Removed: ") + _entry_line(removed, ar)), data)
        return _listing(await self.waitlist.listing(wa_id, None if status == "all" else status), ar)


def _joined(config: ClinicConfig, result: JoinResult, ar: bool) -> CallToolResult:
    said = {"joined": ("Joined the waitlist", "انضم إلى قائمة الانتظار"),
            "updated": ("Updated the waitlist entry", "حُدّث طلب الانتظار")}[result.action][1 if ar else 0]
    data = marked({"timezone": config.timezone, "action": result.action, "entry": result.entry.model_dump(mode="json")})
    return answer(_noted(data, ar, f"{said}: {_entry_line(result.entry, ar)}."), data)


def _noted(data: dict[str, Any], ar: bool, text: str) -> str:
    """`text` after the sentence saying quoted names are the customers' own, when it shows any."""
    said = note(data, ar)
    return f"{said}\n{text}" if said else text


def _listing(listing: WaitlistListing, ar: bool) -> CallToolResult:
    data = marked({"timezone": listing.timezone, "entries": [e.model_dump(mode="json") for e in listing.entries],
                   "offers": [o.model_dump(mode="json") for o in listing.offers]})
    if not listing.entries and not listing.offers:
        return answer("لا توجد طلبات انتظار." if ar else "No waitlist entries.", data)
    lines = [note(data, ar) or "", *(_entry_line(e, ar) for e in listing.entries),
             *(_offer_line(o, ar) for o in listing.offers)]
    return answer("\n".join(line for line in lines if line), data)


def _entry_line(entry: WaitlistEntryView, ar: bool) -> str:
    times = ", ".join(entry.times) if entry.times else ("أي وقت" if ar else "any time")
    kind = entry.type_name or ("أي نوع" if ar else "any type")
    who = quoted(entry.customer_name) if entry.customer_name else "-"
    return (f"#{entry.id} {who} {entry.wa_id}: {entry.start_date} → {entry.end_date}, {times}, {kind}, "
            f"{entry.status} ({entry.timezone})")


def _offer_line(offer: WaitlistOfferView, ar: bool) -> str:
    held = "محجوز حتى" if ar else "held until"
    return (f"offer #{offer.id} to {offer.wa_id}: {offer.weekday} {offer.date} {offer.time_slot} ({offer.time_label}), "
            f"wave {offer.wave}, {held} {offer.hold_until}")
