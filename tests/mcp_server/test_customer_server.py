"""The customer-scoped server: one customer's tools, bound to their number, and nothing more."""

from mcp import Client
from mcp.server import MCPServer

from domain.services import Services
from domain.config import BookingSource
from mcp_scenario import ALICE, BOB, FRIDAY, THURSDAY, WEDNESDAY, Seed, call, data, text

CUSTOMER_TOOLS = {"get_current_datetime", "get_customer_reservations", "get_available_time_slots",
                  "search_available_appointments", "reserve_time_slot", "modify_reservation", "cancel_reservation",
                  "join_waitlist", "leave_waitlist", "get_my_waitlist"}


async def test_the_customer_server_lists_only_the_customer_tools(customer_server: MCPServer) -> None:
    async with Client(customer_server) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == CUSTOMER_TOOLS


async def test_no_customer_tool_takes_a_wa_id(customer_server: MCPServer) -> None:
    async with Client(customer_server) as client:
        tools = (await client.list_tools()).tools
    assert all("wa_id" not in tool.input_schema["properties"] for tool in tools)


async def test_a_system_tool_cannot_be_called_on_the_customer_server(
    customer_server: MCPServer, services: Services, seed: Seed
) -> None:
    await seed([WEDNESDAY], 3)
    result = await call(customer_server, "system_batch_cancel", {"filters": {"dates": [WEDNESDAY]}})
    assert result.is_error and "Unknown tool" in text(result)
    assert len(await services.reservations.customer_reservations("966500000000")) == 1


async def test_reserve_time_slot_books_for_the_bound_customer(customer_server: MCPServer, services: Services) -> None:
    result = await call(customer_server, "reserve_time_slot", {"date": WEDNESDAY, "time_slot": "1:00 PM"})
    assert data(result)["action"] == "created"
    assert [r.time_slot for r in await services.reservations.customer_reservations(ALICE)] == ["13:00"]


async def test_reserving_again_moves_the_upcoming_reservation(customer_server: MCPServer, services: Services) -> None:
    await call(customer_server, "reserve_time_slot", {"date": WEDNESDAY, "time_slot": "13:00"})
    result = await call(customer_server, "reserve_time_slot", {"date": THURSDAY, "time_slot": "11:00"})
    assert data(result)["action"] == "moved"
    assert [r.date for r in await services.reservations.customer_reservations(ALICE)] == [THURSDAY]


async def test_a_customer_books_at_most_five_per_slot(customer_server: MCPServer, seed: Seed) -> None:
    await seed([WEDNESDAY], 5)
    result = await call(customer_server, "reserve_time_slot", {"date": WEDNESDAY, "time_slot": "11:00"})
    assert result.is_error and "This time slot is fully booked." in text(result)


async def test_another_customers_reservation_is_not_found(customer_server: MCPServer, services: Services) -> None:
    bobs = await services.reservations.reserve(BOB, WEDNESDAY, "13:00", source=BookingSource.OPERATOR)
    assert bobs.reservation is not None
    result = await call(customer_server, "cancel_reservation", {"reservation_id": bobs.reservation.id})
    assert result.is_error and "Reservation not found." in text(result)
    assert len(await services.reservations.customer_reservations(BOB)) == 1


async def test_get_customer_reservations_lists_only_their_own(customer_server: MCPServer, services: Services) -> None:
    await services.reservations.reserve(BOB, WEDNESDAY, "13:00")
    await services.reservations.reserve(ALICE, THURSDAY, "15:00")
    result = await call(customer_server, "get_customer_reservations", {})
    assert [(r["wa_id"], r["date"]) for r in data(result)["reservations"]] == [(ALICE, THURSDAY)]


async def test_available_slots_of_a_closed_day_say_closed(customer_server: MCPServer) -> None:
    result = await call(customer_server, "get_available_time_slots", {"date": FRIDAY})
    assert data(result)["status"] == "closed"
    assert text(result) == "Friday 2026-12-04: none (closed)."


async def test_available_slots_say_how_many_places_each_has_left(customer_server: MCPServer, services: Services) -> None:
    for n in range(3):
        await services.reservations.reserve(f"96650999{n:04d}", WEDNESDAY, "11:00")
    result = await call(customer_server, "get_available_time_slots", {"date": WEDNESDAY})
    assert text(result) == ("Wednesday 2026-12-02: 11:00 AM (2 place(s) left), 1:00 PM (5 place(s) left), "
                            "3:00 PM (5 place(s) left).")
    arabic = await call(customer_server, "get_available_time_slots", {"date": WEDNESDAY, "ar": True})
    assert "11:00 AM (متبقٍ 2)" in text(arabic)


async def test_modify_reservation_changes_the_time(customer_server: MCPServer, services: Services) -> None:
    await services.reservations.reserve(ALICE, WEDNESDAY, "11:00")
    result = await call(customer_server, "modify_reservation", {"new_time": "3:00 PM"})
    assert data(result)["reservation"]["time_slot"] == "15:00"


async def test_cancel_reservation_cancels_the_next_one(customer_server: MCPServer, services: Services) -> None:
    await services.reservations.reserve(ALICE, WEDNESDAY, "11:00")
    result = await call(customer_server, "cancel_reservation", {})
    assert data(result)["action"] == "cancelled"
    assert await services.reservations.customer_reservations(ALICE) == []


async def test_an_error_in_arabic_for_an_arabic_conversation(customer_server: MCPServer) -> None:
    result = await call(customer_server, "reserve_time_slot", {"date": "2026-11-01", "time_slot": "13:00", "ar": True})
    assert result.is_error and "لا يمكن الحجز في وقت مضى." in text(result)


async def test_true_is_not_the_customers_reservation_1(customer_server: MCPServer, services: Services) -> None:
    mine = await services.reservations.reserve(ALICE, WEDNESDAY, "13:00")
    assert mine.reservation is not None and mine.reservation.id == 1
    result = await call(customer_server, "cancel_reservation", {"reservation_id": True})
    assert result.is_error and "true is not an id" in text(result)
    assert [r.status for r in await services.reservations.customer_reservations(ALICE)] == ["active"]
