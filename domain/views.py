"""How reservations and messages are shown to callers: frozen models, every time with its zone.

Adapters shape them at the edge: `model_dump(mode="json")` is the JSON the tools and endpoints return.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.clock import local_iso
from domain.config import ClinicConfig
from domain.storage.models import ConversationMessage
from domain.rules.planning import Booking
from domain.rules.schedule import hijri_date, slot_label


class View(BaseModel):
    """A read-only result of a service."""

    model_config = ConfigDict(frozen=True)


class ReservationView(View):
    """A reservation as callers see it: its day in both calendars, its slot's label, its type's name."""

    id: int
    wa_id: str
    customer_name: str | None
    date: str
    hijri_date: str
    weekday: str
    time_slot: str
    time_label: str
    type: int
    type_name: str
    status: str
    timezone: str


class MessageView(View):
    """A stored conversation message; `meta` is the JSON the message was stored with, passed through."""

    id: int
    wa_id: str
    role: str
    text: str
    timestamp: str | None
    delivery_status: str | None
    meta: dict[str, Any] | None


def reservation_view(config: ClinicConfig, booking: Booking, customer_name: str | None = None) -> ReservationView:
    return ReservationView(
        id=booking.id, wa_id=booking.wa_id, customer_name=customer_name, date=booking.date.isoformat(),
        hijri_date=hijri_date(booking.date), weekday=weekday(booking.date), time_slot=booking.time_slot,
        time_label=slot_label(booking.time_slot), type=booking.type, type_name=config.type_name(booking.type),
        status=booking.status, timezone=config.timezone,
    )


@lru_cache(maxsize=8192)
def weekday(day: date) -> str:
    """'Monday' (English: the name callers' tools read)."""
    return day.strftime("%A")


def message_view(config: ClinicConfig, message: ConversationMessage) -> MessageView:
    return message_row_view(config, message.id, message.wa_id, message.role, message.text, message.timestamp,
                            message.delivery_status, message.meta)


def message_row_view(config: ClinicConfig, id_: int, wa_id: str, role: str, text: str, moment: datetime | None,
                     delivery_status: str | None, meta: dict[str, Any] | None) -> MessageView:
    """A message's view from its columns (a row read without the ORM, or one just inserted)."""
    return MessageView(id=id_, wa_id=wa_id, role=role, text=text, timestamp=local_iso(config, moment),
                       delivery_status=delivery_status, meta=meta)
