"""The clock and availability tools, through an in-memory MCP client."""

from mcp.server import MCPServer

from mcp_scenario import FRIDAY, WEDNESDAY, Seed, call, text


async def test_current_datetime_is_the_clinic_time_with_its_zone(system_server: MCPServer) -> None:
    result = await call(system_server, "get_current_datetime", {})
    assert result.structured_content is not None
    assert result.structured_content["now"] == "2026-12-01T10:00:00+03:00"
    assert result.structured_content["weekday"] == "Tuesday"
    line = "Tuesday 2026-12-01 10:00 (10:00 AM) Asia/Riyadh; Hijri 1448-06-21."
    assert text(result) == line


async def test_one_day_lists_the_open_slots_with_the_places_left(system_server: MCPServer, seed: Seed) -> None:
    await seed([WEDNESDAY], 2)
    result = await call(system_server, "search_available_appointments", {"start_date": WEDNESDAY})
    assert result.structured_content is not None
    slots = result.structured_content["days"][0]["slots"]
    assert [(s["time_slot"], s["remaining"]) for s in slots] == [("11:00", 3), ("13:00", 5), ("15:00", 5)]


async def test_with_a_time_each_day_gives_its_nearest_open_slot(system_server: MCPServer) -> None:
    result = await call(system_server, "search_available_appointments",
                        {"start_date": "02-12-2026", "end_date": "03-12-2026", "near_time": "2:10 PM"})
    assert result.structured_content is not None
    assert [[s["time_slot"] for s in d["slots"]] for d in result.structured_content["days"]] == [["15:00"], ["15:00"]]


async def test_a_range_says_friday_is_closed(system_server: MCPServer) -> None:
    result = await call(system_server, "search_available_appointments", {"start_date": WEDNESDAY, "end_date": FRIDAY})
    assert result.structured_content is not None
    assert [d["status"] for d in result.structured_content["days"]] == ["open", "open", "closed"]


async def test_a_full_day_says_full(system_server: MCPServer, seed: Seed) -> None:
    await seed([WEDNESDAY], 15)
    result = await call(system_server, "search_available_appointments", {"start_date": WEDNESDAY})
    assert result.structured_content is not None
    assert result.structured_content["days"][0]["status"] == "full"


async def test_an_invalid_date_is_a_tool_error_naming_the_format(system_server: MCPServer) -> None:
    result = await call(system_server, "search_available_appointments", {"start_date": "2026-13-45"})
    assert result.is_error
    assert "The date '2026-13-45' is not valid; use YYYY-MM-DD." in text(result)


async def test_an_invalid_date_in_arabic_gives_the_arabic_sentence(system_server: MCPServer) -> None:
    result = await call(system_server, "search_available_appointments", {"start_date": "tomorrow", "ar": True})
    assert result.is_error
    assert "التاريخ 'tomorrow' غير صالح" in text(result)
