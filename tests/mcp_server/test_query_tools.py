"""The read tools: paged reservations, wa_ids by dates, chat statistics, day snapshots."""

import json
from datetime import UTC, datetime
from typing import Any

from mcp.server import MCPServer
from mcp_types import CallToolResult

from domain.services import Services
from domain.system_agent.batch import BatchOptions
from domain.system_agent.paging import DEFAULT_MAX_RESULTS as PAGE_ROWS
from mcp_server.query_tools import PROBE_ROWS
from mcp_server.rendering import TEXT_BUDGET
from mcp_scenario import ALICE, THURSDAY, WEDNESDAY, Seed, call, data, text, wa_id, weekdays
from tests.conftest import FixedClock


def span(start: str, end: str) -> dict[str, str]:
    return {"start_date": start, "end_date": end}


def records(table: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]


async def test_reservations_come_as_a_table_with_the_totals(system_server: MCPServer, seed: Seed) -> None:
    await seed([WEDNESDAY], 3)
    answer = data(await call(system_server, "system_get_reservations", {"dates": [WEDNESDAY]}))
    assert answer["summary"]["total_reservations"] == 3
    first = records(answer["reservations"])[0]
    assert (first["wa_id"], first["date"], first["weekday"]) == (wa_id(0), WEDNESDAY, "Wednesday")
    assert first["time_slot"] == "11:00"
    assert answer["summary"]["timezone"] == "Asia/Riyadh"


async def test_a_truncated_page_says_so_and_hands_back_a_cursor(system_server: MCPServer, seed: Seed) -> None:
    await seed([WEDNESDAY], 12)
    result = await call(system_server, "system_get_reservations", {"include": ["reservations"], "max_results": 5})
    assert data(result)["summary"]["truncated"] == {"reservations": True}
    assert data(result)["next_cursor"]
    assert f"next_cursor: {data(result)['next_cursor']}" in text(result).splitlines()
    assert "More rows exist: call system_get_reservations again with the same filters" in text(result)


async def reservation_ids_page_by_page(server: MCPServer, arguments: dict[str, Any]) -> list[int]:
    """Every reservation id, following next_cursor until the last page."""
    seen: list[int] = []
    while True:
        answer = data(await call(server, "system_get_reservations", arguments))
        seen += [row["id"] for row in records(answer["reservations"])]
        if "next_cursor" not in answer:
            return seen
        arguments = arguments | {"cursor": answer["next_cursor"]}


async def test_following_the_cursor_returns_every_row_once(system_server: MCPServer, seed: Seed) -> None:
    await seed(weekdays(WEDNESDAY, 2), 30)
    seen = await reservation_ids_page_by_page(system_server, {"include": ["reservations"], "max_results": 7})
    assert len(seen) == len(set(seen)) == 30


def sizes(result: CallToolResult) -> tuple[int, int]:
    """Bytes of the text content (what a model reads) and of the structured content (what programs read)."""
    structured = json.dumps(result.structured_content, ensure_ascii=False, separators=(",", ":"))
    return len(text(result).encode()), len(structured.encode())


async def test_a_long_default_answer_is_shortened_to_under_6_kb_and_says_so(
    system_server: MCPServer, seed: Seed
) -> None:
    await seed(weekdays(WEDNESDAY, 6), 90)
    result = await call(system_server, "system_get_reservations", {})
    answer = data(result)
    assert max(sizes(result)) < 6_000
    assert answer["summary"]["total_reservations"] == 90
    assert 0 < answer["summary"]["returned"]["reservations"] < 90
    assert answer["summary"]["truncated"] == {"reservations": True, "wa_ids": True, "customers": True}
    assert any(note.startswith("Page shortened to") for note in answer["summary"]["notes"])
    assert answer["next_cursor"]


async def test_following_shortened_pages_returns_every_row_once(system_server: MCPServer, seed: Seed) -> None:
    await seed(weekdays(WEDNESDAY, 6), 90)
    seen = await reservation_ids_page_by_page(system_server, {"include": ["reservations"]})
    assert len(seen) == len(set(seen)) == 90


async def test_an_explicit_max_results_is_honoured_past_the_size_budget(
    system_server: MCPServer, seed: Seed
) -> None:
    await seed(weekdays(WEDNESDAY, 6), 90)
    answer = data(await call(system_server, "system_get_reservations", {"max_results": 90}))
    assert answer["summary"]["returned"] == {"reservations": 90, "wa_ids": 90, "customers": 90}
    assert "notes" not in answer["summary"]
    assert "next_cursor" not in answer


async def test_a_fuzzy_search_finds_a_customer_by_name(system_server: MCPServer, services: Services) -> None:
    await services.reservations.reserve(ALICE, WEDNESDAY, "13:00", customer_name="محمد العتيبي")
    arguments = {"search_query": "محمد", "include": ["customers"]}
    answer = data(await call(system_server, "system_get_reservations", arguments))
    assert records(answer["customers"])[0]["next_reservation"] == f"{WEDNESDAY} 13:00"


async def test_a_malformed_wa_id_filter_is_a_tool_error(system_server: MCPServer) -> None:
    result = await call(system_server, "system_get_reservations", {"wa_ids": ["0000"]})
    assert result.is_error
    assert "The phone number '0000' is not a valid WhatsApp number." in text(result)


async def test_wa_ids_by_date_range_lists_each_customer_once(system_server: MCPServer, seed: Seed) -> None:
    await seed([WEDNESDAY, THURSDAY], 20)
    result = await call(system_server, "system_get_wa_ids_by_date_range", span(WEDNESDAY, THURSDAY))
    assert data(result)["count"] == 20
    assert data(result)["by_date"] == {WEDNESDAY: 15, THURSDAY: 5}


async def test_a_reversed_range_is_a_tool_error(system_server: MCPServer) -> None:
    result = await call(system_server, "system_get_wa_ids_by_date_range", span(THURSDAY, WEDNESDAY))
    assert result.is_error
    assert "is after the end date" in text(result)


async def test_conversation_analysis_counts_messages_by_role(system_server: MCPServer, services: Services) -> None:
    await services.conversations.append(ALICE, "user", "مرحبا")
    await services.conversations.append(ALICE, "assistant", "أهلًا")
    result = await call(system_server, "system_analyze_conversations", span("2026-12-01", "2026-12-01"))
    assert data(result)["messages_by_role"] == {"assistant": 1, "user": 1}
    assert data(result)["customers_without_upcoming_reservation"]["count"] == 1


async def test_a_snapshot_shows_who_is_booked_in_each_slot(system_server: MCPServer, seed: Seed) -> None:
    await seed([WEDNESDAY], 6)
    day = data(await call(system_server, "system_get_reservation_snapshot", {"start_date": WEDNESDAY}))["days"][0]
    assert [slot["booked"] for slot in day["slots"]] == [5, 1, 0]
    assert day["slots"][1]["reservations"][0]["wa_id"] == wa_id(5)


async def test_a_long_snapshot_summary_stays_small_and_says_what_it_cut(system_server: MCPServer, seed: Seed) -> None:
    await seed(weekdays(WEDNESDAY, 20), 300)
    result = await call(system_server, "system_get_reservation_snapshot", span(WEDNESDAY, "2027-02-28"))
    answer = data(result)
    assert len(json.dumps(answer, ensure_ascii=False).encode()) < 5_500
    assert answer["truncated"]["days"] == 89
    assert answer["totals"]["reservations"] == 300


async def test_a_cut_report_tells_a_text_reader_what_was_cut_and_how_to_get_it(
    system_server: MCPServer, seed: Seed
) -> None:
    await seed(weekdays(WEDNESDAY, 20), 300)
    result = await call(system_server, "system_get_reservation_snapshot", span(WEDNESDAY, "2027-02-28"))
    headline, note, body = text(result).split("\n", 2)
    assert headline.startswith("300 reservation(s) on 89 day(s)")
    assert note.startswith("Cut to keep this answer small: days (of 89)")
    assert 'verbosity "detailed"' in note and json.loads(body) == data(result)


async def test_a_default_page_whose_probe_all_fits_reads_the_whole_page(system_server: MCPServer, seed: Seed) -> None:
    """A default page reads PROBE_ROWS first; when all of them fit and more follow (wa_ids are short), it reads the
    whole page, so the answer is as long as the budget allows, not the probe."""
    await seed(weekdays(WEDNESDAY, 6), 90)
    result = await call(system_server, "system_get_reservations", {"include": ["wa_ids"]})
    answer = data(result)
    assert answer["summary"]["returned"] == {"wa_ids": 90} and PROBE_ROWS[1] < 90
    assert answer["wa_ids"] == [wa_id(n) for n in range(90)] and "next_cursor" not in answer
    assert max(sizes(result)) < 6_000


async def test_a_shortened_default_page_continues_right_after_its_last_row(
    system_server: MCPServer, seed: Seed
) -> None:
    await seed(weekdays(WEDNESDAY, 6), 90)
    first = data(await call(system_server, "system_get_reservations", {"include": ["reservations"]}))
    following = data(await call(system_server, "system_get_reservations",
                                {"include": ["reservations"], "cursor": first["next_cursor"]}))
    shown, then = records(first["reservations"]), records(following["reservations"])
    assert 0 < len(shown) < PROBE_ROWS[1] and following["summary"]["offset"] == {"reservations": len(shown)}
    assert then[0]["id"] == shown[-1]["id"] + 1


async def test_a_listing_the_probe_reads_whole_answers_as_the_whole_page(system_server: MCPServer, seed: Seed) -> None:
    await seed([WEDNESDAY], 5)
    answer = data(await call(system_server, "system_get_reservations", {}))
    assert answer["summary"]["returned"] == {"reservations": 5, "wa_ids": 5, "customers": 5}
    assert (answer["summary"]["max_results"], "next_cursor" in answer, "notes" in answer["summary"]) == (
        PAGE_ROWS, False, False)


TUESDAY = "2026-12-01"  # the tests' today: 10:00 in Riyadh, before its first slot
DURING = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)  # 11:30 in Riyadh: the 11:00 slot has started
YES = BatchOptions(confirmed=True)


async def attended_day(services: Services, seed: Seed, clock: FixedClock) -> list[int]:
    """Tuesday's 11:00 bookings of wa_id(0..3): booked, confirmed, arrived and a no-show; then wa_id(4)'s 13:00
    booking cancelled inside the late window and wa_id(5)'s a week on cancelled in time."""
    ids = await seed([TUESDAY], 4)
    late, early = [(await services.reservations.reserve(wa_id(n), day, "13:00")).reservation for n, day in (
        (4, TUESDAY), (5, "2026-12-08"))]
    assert late is not None and early is not None
    await services.reservations.cancel(wa_id(4), late.id)
    await services.reservations.cancel(wa_id(5), early.id)
    assert await services.attendance.confirm_by_customer(wa_id(1), ids[1])
    clock.now = DURING
    assert (await services.batch.mark_attendance("arrived", [ids[2]], options=YES)).status == "applied"
    assert (await services.batch.mark_attendance("no_show", [ids[3]], options=YES)).status == "applied"
    return [*ids, late.id, early.id]


def attendance_of(answer: dict[str, Any]) -> dict[int, tuple[str, str]]:
    return {row["id"]: (row["status"], row["attendance"]) for row in records(answer["reservations"])}


async def test_each_reservation_row_shows_its_attendance_in_the_table_and_the_text(
    system_server: MCPServer, services: Services, seed: Seed, clock: FixedClock
) -> None:
    ids = await attended_day(services, seed, clock)
    result = await call(system_server, "system_get_reservations", {"dates": [TUESDAY]})
    assert attendance_of(data(result)) == {ids[0]: ("active", "booked"), ids[1]: ("active", "confirmed"),
                                           ids[2]: ("active", "arrived")}  # a no-show holds no place
    lines = text(result).splitlines()
    assert "Reservations (#id|customer|wa_id|day|time|type|status|attendance):" in lines
    assert [line.rsplit("|", 2)[1:] for line in lines if line.startswith("#")] == [
        ["active", "booked"], ["active", "confirmed"], ["active", "arrived"]]


async def test_no_shows_and_late_cancellations_are_listed_with_include_cancelled(
    system_server: MCPServer, services: Services, seed: Seed, clock: FixedClock
) -> None:
    ids = await attended_day(services, seed, clock)
    result = await call(system_server, "system_get_reservations", {"include_cancelled": True})
    assert attendance_of(data(result)) == {
        ids[0]: ("active", "booked"), ids[1]: ("active", "confirmed"), ids[2]: ("active", "arrived"),
        ids[3]: ("no_show", "no_show"), ids[4]: ("cancelled", "late_cancelled"), ids[5]: ("cancelled", "cancelled")}
    rows = {int(line.split("|")[0][1:]): line for line in text(result).splitlines() if line.startswith("#")}
    assert rows[ids[3]].endswith("|no_show|no_show") and rows[ids[4]].endswith("|cancelled|late_cancelled")
    assert rows[ids[5]].endswith("|cancelled|cancelled")


async def test_the_attendance_filter_lists_only_the_statuses_it_names(
    system_server: MCPServer, services: Services, seed: Seed, clock: FixedClock
) -> None:
    ids = await attended_day(services, seed, clock)
    arguments = {"attendance": ["no_show", "late_cancelled"], "include": ["reservations"]}
    answer = data(await call(system_server, "system_get_reservations", arguments))
    assert attendance_of(answer) == {ids[3]: ("no_show", "no_show"), ids[4]: ("cancelled", "late_cancelled")}
    assert answer["summary"]["total_reservations"] == 2
    assert answer["summary"]["filters"]["attendance"] == ["no_show", "late_cancelled"]
    confirmed = data(await call(system_server, "system_get_reservations", {"attendance": "confirmed"}))
    assert list(attendance_of(confirmed)) == [ids[1]] and records(confirmed["customers"])[0]["wa_id"] == wa_id(1)


async def test_an_unknown_attendance_is_a_tool_error(system_server: MCPServer) -> None:
    result = await call(system_server, "system_get_reservations", {"attendance": ["absent"]})
    assert result.is_error and "absent" in text(result)


async def test_each_customer_row_carries_their_no_shows_and_late_cancellations(
    system_server: MCPServer, services: Services, seed: Seed, clock: FixedClock
) -> None:
    await attended_day(services, seed, clock)
    result = await call(system_server, "system_get_reservations", {"include_cancelled": True,
                                                                   "include": ["customers"]})
    counts = {c["wa_id"]: (c["no_shows"], c["late_cancels"]) for c in records(data(result)["customers"])}
    assert counts == {wa_id(0): (0, 0), wa_id(1): (0, 0), wa_id(2): (0, 0), wa_id(3): (1, 0), wa_id(4): (0, 1),
                      wa_id(5): (0, 0)}
    lines = text(result).splitlines()
    assert "Customers (wa_id|name|matching reservations|next reservation|no-shows|late cancellations|flags):" in lines
    shown = {line.split("|")[0]: line.split("|")[4:6] for line in lines if line.startswith(wa_id(0)[:5])}
    assert shown[wa_id(3)] == ["1", "0"] and shown[wa_id(4)] == ["0", "1"] and shown[wa_id(0)] == ["0", "0"]


async def test_a_customer_s_counts_are_all_theirs_whatever_the_rows_listed(
    system_server: MCPServer, services: Services, seed: Seed, clock: FixedClock
) -> None:
    """The default listing leaves the no-show out, yet its customer's row (for another booking) still counts it."""
    ids = await attended_day(services, seed, clock)
    await services.reservations.reserve(wa_id(3), "2026-12-09", "11:00")
    answer = data(await call(system_server, "system_get_reservations", {"wa_ids": [wa_id(3)]}))
    assert ids[3] not in attendance_of(answer)
    assert [(c["no_shows"], c["late_cancels"]) for c in records(answer["customers"])] == [(1, 0)]


async def test_an_arabic_listing_names_the_attendance_and_count_columns_in_arabic(
    system_server: MCPServer, services: Services, seed: Seed, clock: FixedClock
) -> None:
    await attended_day(services, seed, clock)
    lines = text(await call(system_server, "system_get_reservations", {"ar": True})).splitlines()
    assert "الحجوزات (#id|العميل|wa_id|اليوم|الوقت|النوع|الحالة|الحضور):" in lines
    assert any(line.startswith("العملاء (") and "مرات عدم الحضور|مرات الإلغاء المتأخر" in line for line in lines)
