"""The advertised shape of batch requests, filters and updates (the domain parses and checks them)."""

from __future__ import annotations

from domain.config import ClinicConfig
from domain.identities import MAX_NAME
from domain.phone_search import MAX_QUERY
from domain.system_agent.requests import MAX_ID
from mcp_server.schemas import JsonSchema, listed, obj, string

WA_ID = "WhatsApp number with country code, e.g. 966501234567"
NEXT = "; alone: their next reservation"
DATE = "YYYY-MM-DD or DD-MM-YYYY"
TIME = "13:00 or 1:00 PM"
HIJRI = {"type": "boolean", "description": "Hijri dates"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TEXT = {"type": "string"}
NAME = {"type": "string", "maxLength": MAX_NAME}


def type_schema(config: ClinicConfig) -> JsonSchema:
    names = ", ".join(f"{t.id} {t.name}" for t in config.reservation_types)
    return {"type": "integer", "minimum": 0, "description": names}


def reserve_requests(config: ClinicConfig) -> JsonSchema:
    item = obj({
        "wa_id": string(WA_ID), "date": string(DATE), "time_slot": string(TIME),
        "reservation_type": type_schema(config), "customer_name": NAME, "hijri": HIJRI,
    }, required=("wa_id", "date", "time_slot"))
    return listed(item, "Reservations to make")


def modify_requests(config: ClinicConfig) -> JsonSchema:
    item = obj({
        "reservation_id": ID, "wa_id": string(WA_ID + NEXT), "new_date": string(DATE), "new_time": string(TIME),
        "new_type": type_schema(config), "new_name": NAME,
        "new_wa_id": string("Move the customer, reservations and chat to this number"), "hijri": HIJRI,
    })
    return listed(item, "Changes, each by reservation_id and/or wa_id; or use filters")


def cancel_requests() -> JsonSchema:
    item = obj({
        "reservation_id": ID, "wa_id": string(WA_ID + NEXT),
        "date": string(DATE + "; with wa_id: their reservation that day"), "hijri": HIJRI,
    })
    return listed(item, "Reservations to cancel, each by reservation_id and/or wa_id; or use filters")


def filters_schema(config: ClinicConfig) -> JsonSchema:
    return obj({
        "wa_ids": listed(TEXT, "Numbers"), "dates": listed(TEXT, DATE),
        "start_date": string("From, inclusive"), "end_date": string("To, inclusive"),
        "time_slots": listed(TEXT, TIME), "reservation_types": listed(type_schema(config), "Types"),
        "search_query": string("Fuzzy name or number; always asks the user, listing whom it matched")
        | {"maxLength": MAX_QUERY}, "hijri": HIJRI,
    }) | {"description": "Selects every upcoming active reservation matching all given filters"}


def updates_schema(config: ClinicConfig) -> JsonSchema:
    return obj({"new_date": string(DATE), "new_time": string(TIME), "new_type": type_schema(config), "hijri": HIJRI}
               ) | {"description": "With filters: the change applied to each reservation found"}
