"""The waitlist as callers see it: entries and open offers, every date in the clinic's zone."""

from __future__ import annotations

from datetime import date

from domain.clock import local_iso
from domain.config import ClinicConfig
from domain.rules.schedule import slot_label
from domain.staff.roles import author_of
from domain.storage.models import WaitlistEntry
from domain.views import View, weekday


class WaitlistEntryView(View):
    """One entry: who waits, for which days, times (None: any) and type (None: any); who put them there."""

    id: int
    wa_id: str
    customer_name: str | None
    start_date: str
    end_date: str
    times: list[str] | None
    type: int | None
    type_name: str | None
    status: str
    author: str  # who put them there: customer, operator, agent, client (`domain.staff.roles.author_of`)
    author_name: str | None  # the staff member's username, when an account signed it
    reservation_id: int | None
    created_at: str | None
    timezone: str


class WaitlistOfferView(View):
    """An open offer: the place (slot) offered, to whom, in which wave, held until when."""

    id: int
    entry_id: int
    wa_id: str
    customer_name: str | None
    date: str
    weekday: str
    time_slot: str
    time_label: str
    wave: int
    status: str
    offered_at: str | None
    hold_until: str | None
    timezone: str


class WaitlistListing(View):
    """Entries (newest first) and the open offers (soonest hold end first)."""

    entries: list[WaitlistEntryView]
    offers: list[WaitlistOfferView]
    timezone: str


class JoinResult(View):
    """`joined` (a new entry) or `updated` (the customer's overlapping waiting entry now says this)."""

    action: str
    entry: WaitlistEntryView


def entry_view(config: ClinicConfig, entry: WaitlistEntry, customer: str | None) -> WaitlistEntryView:
    kind, name = author_of(entry.author)
    return WaitlistEntryView(
        id=entry.id, wa_id=entry.wa_id, customer_name=customer, start_date=entry.start_date.isoformat(),
        end_date=entry.end_date.isoformat(), times=list(entry.times) if entry.times else None, type=entry.type,
        type_name=None if entry.type is None else config.type_name(entry.type), status=entry.status,
        author=kind, author_name=None if kind == "customer" else name, reservation_id=entry.reservation_id,
        created_at=local_iso(config, entry.created_at), timezone=config.timezone)


def offer_label(day_iso: str, slot: str) -> dict[str, str]:
    """The weekday and 12-hour label of an offered slot."""
    return {"weekday": weekday(date.fromisoformat(day_iso)), "time_label": slot_label(slot)}
