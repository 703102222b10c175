"""`calendar://reservation/{id}/history` on the system agent's server (SQLite and PostgreSQL): a reservation's
history as a model reads it, each step signed, and an unknown id refused as invalid params."""

import json

import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp.shared.exceptions import MCPError

from domain.services import Services
from domain.system_agent.batch import BatchOptions
from mcp_scenario import ALICE, WEDNESDAY


async def test_the_resource_lists_a_reservations_steps_with_who_signed_them(system_server: MCPServer,
                                                                             services: Services) -> None:
    made = await services.reservations.reserve(ALICE, WEDNESDAY, "11:00")
    assert made.reservation is not None
    await services.batch.cancel([{"reservation_id": made.reservation.id}],
                                options=BatchOptions(actor="operator:amal", confirmed=True))
    async with Client(system_server) as client:
        result = await client.read_resource(f"calendar://reservation/{made.reservation.id}/history")
    history = json.loads(result.contents[0].text)  # type: ignore[union-attr]
    assert [(e["action"], e["by"], e["author"]) for e in history["events"]] == [
        ("created", "customer", ALICE), ("cancelled", "operator", "amal")]


@pytest.mark.parametrize("reservation_id", ["999999", "x1", "12345678901234"])
async def test_an_unknown_reservation_is_invalid_params(system_server: MCPServer, reservation_id: str) -> None:
    async with Client(system_server) as client:
        with pytest.raises(MCPError, match="Reservation not found"):
            await client.read_resource(f"calendar://reservation/{reservation_id}/history")
