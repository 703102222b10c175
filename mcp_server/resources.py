"""Read-only resources: a day's reservations, a customer's and a reservation's history, the recent batches and the
schedule configuration, as JSON."""

from __future__ import annotations

from typing import Any

from mcp.server import MCPServer

from domain.services import Services
from domain.errors import DomainError
from domain.system_agent.history import recent_batches
from domain.system_agent.queries import SystemAgentQueryService
from mcp_server.customer_data import json_text, marked
from mcp_server.toolkit import invalid_params

JSON = "application/json"


def add_calendar_resources(server: MCPServer, services: Services, queries: SystemAgentQueryService) -> None:
    """Register `calendar://day/{date}`, `calendar://customer/{wa_id}`, `calendar://reservation/{id}/history`,
    `calendar://batches/recent` and `calendar://config/schedule` on `server`."""

    @server.resource("calendar://day/{date}", name="day", title="A day's reservations", mime_type=JSON,
                     description="One day (YYYY-MM-DD): its status and, per slot, who is booked and the room left.")
    async def day(date: str) -> str:
        try:
            snapshot = await queries.reservation_snapshot(date)
        except DomainError as error:
            raise invalid_params(error) from error
        return _json({"timezone": snapshot["timezone"], "types": snapshot["types"], **snapshot["days"][0]})

    @server.resource("calendar://customer/{wa_id}", name="customer", title="A customer's history", mime_type=JSON,
                     description="One customer by wa_id: name, last visit (with its Hijri date), visits, "
                                 "cancellations, no-shows, late cancellations and next booking.")
    async def customer(wa_id: str) -> str:
        try:
            return _json((await services.recall.customer(wa_id)).model_dump())
        except DomainError as error:
            raise invalid_params(error) from error

    @server.resource("calendar://reservation/{reservation_id}/history", name="reservation_history",
                     title="A reservation's history", mime_type=JSON,
                     description="One reservation by id: when it was made and by whom, then each change (moved, "
                                 "cancelled, marked, restored by an undo) with when, who signed it and which batch.")
    async def reservation_history(reservation_id: str) -> str:
        try:
            if not reservation_id.isascii() or not reservation_id.isdigit() or len(reservation_id) > 10:
                raise DomainError("reservation_not_found")
            return _json((await queries.reservation_history(int(reservation_id))).model_dump(mode="json"))
        except DomainError as error:
            raise invalid_params(error) from error

    @server.resource("calendar://batches/recent", name="batches", title="Recent batches", mime_type=JSON,
                     description="The 20 newest applied batches: batch_id, when, by whom, what in words, counts, "
                                 "notices by status, and how to undo each.")
    async def batches() -> str:
        return _json((await recent_batches(services.db, services.config)).model_dump(mode="json"))

    @server.resource("calendar://config/schedule", name="schedule", title="Schedule configuration", mime_type=JSON,
                     description="Opening hours per weekday, slot length, Ramadan hours, capacities, types, "
                                 "vacations and the timezone.")
    async def schedule() -> str:
        return _json(await schedule_view(services))


async def schedule_view(services: Services) -> dict[str, Any]:
    """The clinic's configuration and its stored vacations."""
    config = services.config.model_dump(mode="json", exclude={"history_limit"})
    return {**config, "vacations": [v.model_dump(mode="json") for v in await services.vacations.list()]}


def _json(data: dict[str, Any]) -> str:
    """A resource as a client (and perhaps its model) reads it: what customers wrote marked and made safe."""
    return json_text(marked(data), indent=1)
