"""One rule each for "upcoming", the room in a slot and a day's status, as the served app applies them: the
MCP tools at /mcp and the console's /calendar answer alike, and writes agree with reads."""

from datetime import UTC, datetime
from typing import Any

import pytest
from mcp import Client

from domain.config import BookingSource, ClinicConfig
from domain.services import Services
from tests.conftest import FixedClock
from tests.fakes.graph_api import FakeGraphApi, graph_api, running_bridge  # noqa: F401

ALICE, BOB, CAROL = "966501234567", "966507654321", "966509876543"
TODAY, SUNDAY = "2026-12-01", "2026-12-06"
AFTER_ALICES_SLOT = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)  # 13:30 in Riyadh: 11:00-13:00 has ended


async def tool(url: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    async with Client(f"{url}/mcp") as client:
        result = await client.call_tool(name, arguments)
    assert result.is_error is False, result.content
    structured: dict[str, Any] | None = result.structured_content
    assert structured is not None
    return structured


def slot_of(snapshot: dict[str, Any], day: str, time_slot: str) -> dict[str, Any]:
    [found] = [s for d in snapshot["days"] if d["date"] == day for s in d["slots"] if s["time_slot"] == time_slot]
    slot: dict[str, Any] = found
    return slot


async def test_a_reservation_whose_slot_has_ended_is_past_for_filters_writes_and_reads(
    services: Services, graph_api: FakeGraphApi, clock: FixedClock  # noqa: F811 (fixture)
) -> None:
    alice = (await services.reservations.reserve(ALICE, TODAY, "11:00")).reservation
    assert alice is not None
    await services.reservations.reserve(BOB, TODAY, "13:00")
    clock.now = AFTER_ALICES_SLOT
    async with running_bridge(services, graph_api) as bridge:
        cancelled = await tool(bridge.url, "system_batch_cancel", {"filters": {"dates": [TODAY]}})
        moved = await tool(bridge.url, "system_batch_modify",
                           {"requests": [{"reservation_id": alice.id, "new_time": "15:00"}]})
    # The filter selects Bob's 13:00 (in progress, still upcoming) and not Alice's ended 11:00 ...
    assert cancelled["summary"]["requested"] == cancelled["summary"]["ok"] == 1
    # ... and moving Alice's ended reservation by id is refused for the same reason.
    assert moved["summary"]["failed"] == 1 and "past_reservation" in moved["errors"]
    assert await services.reservations.customer_reservations(ALICE) == []
    [kept] = await services.reservations.customer_reservations(ALICE, include_past=True)
    assert (kept.time_slot, kept.status) == ("11:00", "active")


class TestTypeCaps:
    @pytest.fixture
    def config(self) -> ClinicConfig:
        return ClinicConfig(type_capacity={1: 1})

    async def test_a_capped_type_shows_its_own_room_in_the_tools_and_the_console(
        self, services: Services, graph_api: FakeGraphApi  # noqa: F811 (fixture)
    ) -> None:
        await services.reservations.reserve(ALICE, SUNDAY, "11:00", reservation_type=1)
        async with running_bridge(services, graph_api) as bridge:
            async with Client(f"{bridge.url}/mcp") as client:
                found = await client.call_tool("search_available_appointments", {"start_date": SUNDAY})
            snapshot = (await bridge.http.get("/calendar", params={"start": SUNDAY})).json()
            booked = await tool(bridge.url, "system_batch_reserve",
                                {"requests": [{"wa_id": BOB, "date": SUNDAY, "time_slot": "11:00",
                                               "reservation_type": 1}]})
        assert found.structured_content is not None
        first = found.structured_content["days"][0]["slots"][0]
        assert first == {"time_slot": "11:00", "time_label": "11:00 AM", "remaining": 4, "type_remaining": {"1": 0}}
        assert "11:00 (11:00 AM) 4 left (Follow-up full), 13:00 (1:00 PM) 5 left," in found.content[0].text  # type: ignore[union-attr]
        console = slot_of(snapshot, SUNDAY, "11:00")
        assert console["remaining"] == {"agent": 4, "operator": 5}
        assert console["type_remaining"] == {"agent": {"1": 0}, "operator": {"1": 0}}
        assert console["full"] == {"agent": False, "operator": False}
        assert booked["summary"]["failed"] == 1 and "type_full" in booked["errors"]


class TestEveryTypeCapped:
    @pytest.fixture
    def config(self) -> ClinicConfig:
        return ClinicConfig(type_capacity={0: 1, 1: 1})

    async def test_a_slot_where_no_type_fits_is_full_everywhere(
        self, services: Services, graph_api: FakeGraphApi  # noqa: F811 (fixture)
    ) -> None:
        await services.reservations.reserve(ALICE, SUNDAY, "11:00", reservation_type=0)
        await services.reservations.reserve(BOB, SUNDAY, "11:00", reservation_type=1,
                                            source=BookingSource.OPERATOR)
        async with running_bridge(services, graph_api) as bridge:
            found = await tool(bridge.url, "search_available_appointments", {"start_date": SUNDAY})
            snapshot = (await bridge.http.get("/calendar", params={"start": SUNDAY})).json()
            booked = await tool(bridge.url, "system_batch_reserve",
                                {"requests": [{"wa_id": CAROL, "date": SUNDAY, "time_slot": "11:00"}]})
        assert [s["time_slot"] for s in found["days"][0]["slots"]] == ["13:00", "15:00"]
        console = slot_of(snapshot, SUNDAY, "11:00")
        assert (console["booked"], console["remaining"]["agent"], console["full"]["agent"]) == (2, 3, True)
        assert booked["summary"]["failed"] == 1 and "type_full" in booked["errors"]


async def test_a_vacation_day_reads_the_same_in_the_tools_and_the_console(
    services: Services, graph_api: FakeGraphApi  # noqa: F811 (fixture)
) -> None:
    await services.vacations.add(SUNDAY, SUNDAY, "Staff training")
    async with running_bridge(services, graph_api) as bridge:
        found = await tool(bridge.url, "search_available_appointments", {"start_date": SUNDAY})
        snapshot = (await bridge.http.get("/calendar", params={"start": SUNDAY})).json()
        refused = await tool(bridge.url, "system_batch_reserve",
                             {"requests": [{"wa_id": ALICE, "date": SUNDAY, "time_slot": "11:00"}]})
    assert found["days"][0]["status"] == "vacation: Staff training"
    assert (snapshot["days"][0]["status"], snapshot["days"][0]["vacation"]) == ("vacation", "Staff training")
    assert "vacation" in refused["errors"]
