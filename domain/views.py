"""How reservations and messages are shown to callers: plain dicts, every time with its zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.config import ClinicConfig
from domain.models import ConversationMessage
from domain.planning import Booking
from domain.schedule import hijri_date, slot_label


class View(BaseModel):
    """A read-only result of a service."""

    model_config = ConfigDict(frozen=True)


def local_iso(config: ClinicConfig, moment: datetime | None) -> str | None:
    """An aware timestamp in the clinic's zone, ISO 8601 with its offset."""
    return None if moment is None else moment.astimezone(config.zone).isoformat(timespec="seconds")


def reservation_view(config: ClinicConfig, booking: Booking, customer_name: str | None = None) -> dict[str, Any]:
    return {
        "id": booking.id,
        "wa_id": booking.wa_id,
        "customer_name": customer_name,
        "date": booking.date.isoformat(),
        "hijri_date": hijri_date(booking.date),
        "weekday": booking.date.strftime("%A"),
        "time_slot": booking.time_slot,
        "time_label": slot_label(booking.time_slot),
        "type": booking.type,
        "type_name": config.type_name(booking.type),
        "status": booking.status,
        "timezone": config.timezone,
    }


def message_view(config: ClinicConfig, message: ConversationMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "wa_id": message.wa_id,
        "role": message.role,
        "text": message.text,
        "timestamp": local_iso(config, message.timestamp),
        "delivery_status": message.delivery_status,
        "meta": message.meta,
    }
