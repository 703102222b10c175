"""What a model that reads only the text content is told by each tool: enough to answer and to act."""

import re

from mcp.server import MCPServer

from domain.services import Services
from mcp_scenario import SUNDAY, WEDNESDAY, Seed, call, data, text, wa_id, weekdays

MONDAY = "2026-12-07"
ARABIC = re.compile("[\u0600-\u06ff]")


def reservation_ids(answer: str) -> list[int]:
    return [int(m) for m in re.findall(r"^#(\d+)\|", answer, flags=re.MULTILINE)]


async def name(services: Services, n: int, full_name: str) -> None:
    await services.customers.ensure(wa_id(n), full_name)


async def two_mohammeds(services: Services, seed: Seed) -> None:
    """Three customers on Wednesday, two of them named Mohammed: wa_id(0) Ali, wa_id(1) Saleh."""
    await seed([WEDNESDAY], 3)
    await name(services, 0, "Mohammed Ali")
    await name(services, 1, "Mohammed Saleh")


async def test_a_listing_names_every_booked_customer_with_id_day_and_both_times(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    ids = await seed([WEDNESDAY], 6)
    await name(services, 0, "فاطمة الزهراني")
    await name(services, 5, "Omar Haddad")
    answer = text(await call(system_server, "system_get_reservations", {"dates": [WEDNESDAY]}))
    assert answer.startswith("6 reservation(s) and 6 customer(s) match.")
    assert reservation_ids(answer) == ids
    assert f'#{ids[0]}|"فاطمة الزهراني"|{wa_id(0)}|Wed {WEDNESDAY} (1448-06-22)|11:00 (11:00 AM)|0 Check-up|active' in answer
    assert f'#{ids[5]}|"Omar Haddad"|{wa_id(5)}|Wed {WEDNESDAY} (1448-06-22)|13:00 (1:00 PM)' in answer
    assert f"#{ids[1]}|(no name)|{wa_id(1)}|" in answer


async def test_a_cut_page_tells_the_model_its_cursor_and_how_to_follow_it(
    system_server: MCPServer, seed: Seed
) -> None:
    await seed(weekdays(WEDNESDAY, 6), 90)
    arguments = {"include": ["reservations"]}
    result = await call(system_server, "system_get_reservations", arguments)
    first = text(result)
    [cursor] = re.findall(r"^next_cursor: (\S+)$", first, flags=re.MULTILINE)
    assert cursor == data(result)["next_cursor"]
    assert "Page shortened to" in first and "do not conclude from this page alone" in first
    seen = reservation_ids(first)
    while cursor:
        page = text(await call(system_server, "system_get_reservations", arguments|{"cursor": cursor}))
        seen += reservation_ids(page)
        cursor = next(iter(re.findall(r"^next_cursor: (\S+)$", page, flags=re.MULTILINE)), "")
    assert len(seen) == len(set(seen)) == 90


async def test_fuzzy_candidates_are_listed_for_the_model_to_ask_about(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await two_mohammeds(services, seed)
    answer = text(await call(system_server, "system_get_reservations", {"search_query": "Mohammed"}))
    assert re.search(rf'^"Mohammed Ali"\|{wa_id(0)}\|[0-9.]+$', answer, flags=re.MULTILINE)
    assert re.search(rf'^"Mohammed Saleh"\|{wa_id(1)}\|[0-9.]+$', answer, flags=re.MULTILINE)


async def test_a_move_that_overflows_names_each_failed_item_under_its_reason(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await seed([MONDAY], 4)
    moving = await seed([SUNDAY], 2, first=10)
    await name(services, 11, "Sara Khan")
    result = await call(system_server, "system_batch_modify",
                        {"filters": {"dates": [SUNDAY]}, "updates": {"new_date": MONDAY}})
    answer = text(result)
    assert answer.startswith("Applied: 1 ok (moved 1), 1 failed, 0 skipped of 2 item(s). batch_id=")
    assert data(result)["batch_id"] in answer
    assert "slot_full: This time slot is fully booked. (1 failed)" in answer
    assert f'#{moving[1]}|"Sara Khan"|{wa_id(11)}|Sun {SUNDAY} (1448-06-26)|11:00 (11:00 AM)' in answer
    assert f"#{moving[0]}|(no name)|{wa_id(10)}|moved|Sun {SUNDAY} (1448-06-26) 11:00 (11:00 AM)|Mon {MONDAY} (1448-06-27) 11:00" in answer


async def test_failures_past_the_budget_are_counted_and_every_one_is_in_the_batch_record(
    system_server: MCPServer, seed: Seed
) -> None:
    days = weekdays(WEDNESDAY, 21)
    await seed(days[:20], 300)
    await seed([days[20]], 14, first=300)
    result = await call(system_server, "system_batch_modify", {  # 300 moves into a day with one place left
        "filters": {"start_date": days[0], "end_date": days[19]}, "updates": {"new_date": days[20]},
        "confirmation_token": None})
    answer, batch_id = text(result), data(result)["batch_id"]
    shown = len(reservation_ids(answer))
    assert answer.startswith("Applied: 1 ok (moved 1), 299 failed")
    assert len(answer.encode()) < 6_000 and 1 < shown < 300
    failed_shown = shown - 1  # the one moved is listed under "Changed"
    assert f"Not listed here: {299 - failed_shown} slot_full ({299 - failed_shown} item(s))." in answer
    assert f"system_get_batch with batch_id={batch_id}" in answer
    listed: list[int] = []
    offset: str|None = "0"
    while offset is not None:
        page = text(await call(system_server, "system_get_batch", {"batch_id": batch_id, "offset": int(offset)}))
        listed += reservation_ids(page)
        offset = next(iter(re.findall(r"offset=(\d+)\.$", page, flags=re.MULTILINE)), None)
    assert len(listed) == len(set(listed)) == 300  # 299 failed, then the one moved


async def test_arabic_is_asked_and_the_sentences_come_back_in_arabic(system_server: MCPServer, seed: Seed) -> None:
    await seed([WEDNESDAY], 2)
    listing = text(await call(system_server, "system_get_reservations", {"dates": [WEDNESDAY], "ar": True}))
    moved = text(await call(system_server, "system_batch_modify", {
        "filters": {"dates": [WEDNESDAY]}, "updates": {"new_date": "2026-12-03"}, "ar": True}))
    assert ARABIC.search(listing.splitlines()[0]) and ARABIC.search(moved.splitlines()[0])


async def test_an_undo_says_which_batch_it_undoes(system_server: MCPServer, seed: Seed) -> None:
    await seed([WEDNESDAY], 2)
    moved = data(await call(system_server, "system_batch_modify", {
        "filters": {"dates": [WEDNESDAY]}, "updates": {"new_date": "2026-12-03"}}))
    undo = await call(system_server, "system_undo_batch", {"batch_id": moved["batch_id"]})
    answer = text(undo)
    assert answer.startswith("Applied: 2 ok (moved 2)") and f"This undoes batch {moved['batch_id']}." in answer


async def test_an_unknown_batch_is_a_clear_tool_error(system_server: MCPServer) -> None:
    result = await call(system_server, "system_get_batch", {"batch_id": "no-such-batch"})
    assert result.is_error and text(result).endswith(": No batch with id no-such-batch.")


async def test_availability_lists_each_open_slot_with_the_places_left(system_server: MCPServer, seed: Seed) -> None:
    await seed([WEDNESDAY], 7)
    answer = text(await call(system_server, "search_available_appointments", {"start_date": WEDNESDAY}))
    assert f"Wed {WEDNESDAY} (1448-06-22) open: 13:00 (1:00 PM) 3 left, 15:00 (3:00 PM) 5 left" in answer.splitlines()


async def test_a_batch_over_many_days_keeps_its_text_small_and_counts_the_days_it_does_not_name(
    system_server: MCPServer, seed: Seed
) -> None:
    days = weekdays(WEDNESDAY, 80)
    await seed(days, 1_200)
    result = await call(system_server, "system_batch_modify", {
        "filters": {"start_date": days[0], "end_date": days[-1]}, "updates": {"new_type": 1}, "dry_run": True})
    answer = text(result)
    assert len(answer.encode()) < 6_000
    assert re.search(r"and \d+ more day\(s\) up to \w{3} \d{4}-\d{2}-\d{2} \(\d{4}-\d{2}-\d{2}\)\. Times are Asia/Riyadh\.", answer)


async def test_a_batch_in_which_every_item_failed_is_not_applied_and_leaves_no_record(
    system_server: MCPServer, seed: Seed
) -> None:
    await seed([MONDAY], 15)
    await seed([SUNDAY], 3, first=20)
    result = await call(system_server, "system_batch_modify",
                        {"filters": {"dates": [SUNDAY]}, "updates": {"new_date": MONDAY}})
    assert data(result)["status"] == "failed" and "batch_id" not in data(result)
    assert text(result).startswith("Every item failed, nothing written: 3 failed, 0 skipped of 3 item(s).")


async def test_a_page_too_long_for_one_answer_is_shortened_so_the_cursor_skips_no_row(
    system_server: MCPServer, seed: Seed
) -> None:
    days = weekdays(WEDNESDAY, 40)
    await seed(days, 600)
    arguments = {"start_date": days[0], "end_date": days[-1], "max_results": 200}
    seen: list[int] = []
    customers: set[str] = set()
    cursor = ""
    while True:
        page = text(await call(system_server, "system_get_reservations", arguments | ({"cursor": cursor} if cursor else {})))
        assert len(page.encode()) <= 16_000
        seen += reservation_ids(page)
        customers |= set(re.findall(r"^(96650\d{7})\|", page, flags=re.MULTILINE))
        cursor = next(iter(re.findall(r"^next_cursor: (\S+)$", page, flags=re.MULTILINE)), "")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 600 and len(customers) == 600


async def test_a_fuzzy_cancel_lists_whom_it_matched_and_waits_for_the_user(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await two_mohammeds(services, seed)
    result = await call(system_server, "system_batch_cancel", {"filters": {"search_query": "Mohammed"}})
    answer = text(result)
    assert data(result)["status"] == "needs_confirmation"
    assert answer.startswith("Needs confirmation, nothing written: 2 would be ok (cancelled 2)")
    assert "The targets were found by search_query: 2 customer(s) matched" in answer
    assert re.search(rf'^"Mohammed Ali"\|{wa_id(0)}\|[0-9.]+$', answer, flags=re.MULTILINE)
    assert len(await services.reservations.customer_reservations(wa_id(0))) == 1
