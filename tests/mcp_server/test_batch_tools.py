"""The batch tools through an in-memory MCP client: items reported one by one, bad input refused clearly."""

import json
import logging
from datetime import timedelta
from typing import Any, cast

import anyio
import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp_types import CallToolResult, RequestParamsMeta
from sqlalchemy import select

from domain.services import Services
from domain.storage.models import BatchRecord
from domain.system_agent.batch import REQUEST_META, SystemAgentBatchService
from tests.conftest import FixedClock
from mcp_scenario import ALICE, BOB, SUNDAY, THURSDAY, WEDNESDAY, Seed, wa_id, weekdays, call, data, text


def rows(result: CallToolResult) -> list[dict[str, Any]]:
    table = data(result)["sample"]
    return [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]


async def active_on(services: Services, wa: str) -> list[str]:
    return [r.date for r in await services.reservations.customer_reservations(wa)]


async def test_batch_reserve_books_every_request(system_server: MCPServer, services: Services) -> None:
    requests = [{"wa_id": ALICE, "date": WEDNESDAY, "time_slot": "1:00 PM"},
                {"wa_id": "+966 50 765 4321", "date": THURSDAY, "time_slot": "11:00", "reservation_type": 1}]
    result = await call(system_server, "system_batch_reserve", {"requests": requests})
    assert data(result)["summary"]["by_action"] == {"created": 2}
    assert await active_on(services, BOB) == [THURSDAY]
    assert text(result).startswith("Applied: 2 ok (created 2), 0 failed, 0 skipped of 2 item(s).")


async def test_a_single_request_object_is_accepted(system_server: MCPServer, services: Services) -> None:
    await call(system_server, "system_batch_reserve",
               {"requests": {"wa_id": ALICE, "date": WEDNESDAY, "time_slot": "13:00"}})
    assert await active_on(services, ALICE) == [WEDNESDAY]


async def test_a_malformed_phone_number_fails_its_item_and_the_rest_is_booked(
    system_server: MCPServer, services: Services
) -> None:
    requests = [{"wa_id": "12-ab", "date": WEDNESDAY, "time_slot": "13:00"},
                {"wa_id": ALICE, "date": WEDNESDAY, "time_slot": "13:00"}]
    result = await call(system_server, "system_batch_reserve", {"requests": requests})
    failed = rows(result)[0]
    assert (failed["index"], failed["status"], failed["error"]) == (0, "failed", "invalid_wa_id")
    assert data(result)["errors"]["invalid_wa_id"] == "The phone number '12-ab' is not a valid WhatsApp number."
    assert await active_on(services, ALICE) == [WEDNESDAY]


async def test_an_unknown_field_in_a_request_is_refused_before_anything_runs(
    system_server: MCPServer, services: Services
) -> None:
    requests = [{"wa_id": ALICE, "date": WEDNESDAY, "time_slot": "13:00", "room": "B"}]
    result = await call(system_server, "system_batch_reserve", {"requests": requests})
    assert result.is_error
    assert "requests.0.room\n  Extra inputs are not permitted" in text(result)
    assert await active_on(services, ALICE) == []


async def test_the_names_a_model_sends_for_a_field_are_accepted(system_server: MCPServer, services: Services) -> None:
    requests = [{"wa_id": ALICE, "date_str": WEDNESDAY, "time_slot": "13:00", "type": 1}]
    result = await call(system_server, "system_batch_reserve", {"requests": requests})
    assert data(result)["summary"]["by_action"] == {"created": 1}
    assert [r.type for r in await services.reservations.customer_reservations(ALICE)] == [1]


async def test_a_text_where_the_requests_list_belongs_is_refused_naming_the_argument(system_server: MCPServer) -> None:
    result = await call(system_server, "system_batch_reserve", {"requests": "book Alice on Wednesday"})
    assert result.is_error
    assert "Error executing tool system_batch_reserve: 1 validation error for system_batch_reserve" in text(result)
    assert "requests.0\n  Input should be a valid dictionary" in text(result)


async def test_an_out_of_range_reservation_id_is_refused_with_its_bound(system_server: MCPServer) -> None:
    result = await call(system_server, "system_batch_modify",
                        {"requests": [{"reservation_id": 2**31, "new_time": "15:00"}]})
    assert result.is_error
    assert "requests.0.reservation_id\n  Input should be less than or equal to 2147483647" in text(result)


async def test_a_refusal_names_at_most_ten_problems(system_server: MCPServer) -> None:
    requests = [{"wa_id": ALICE, "date": WEDNESDAY, "time_slot": "13:00", "room": n} for n in range(500)]
    result = await call(system_server, "system_batch_reserve", {"requests": requests})
    assert result.is_error
    assert "10 validation errors for system_batch_reserve (the first 10 of 500)" in text(result)
    assert "requests.9.room" in text(result) and "requests.10.room" not in text(result)
    assert "errors.pydantic.dev" not in text(result)


async def test_a_single_value_in_place_of_a_filter_list_is_that_one(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await seed([WEDNESDAY], 2)
    result = await call(system_server, "system_batch_cancel", {"filters": {"dates": WEDNESDAY}})
    assert data(result)["summary"]["by_action"] == {"cancelled": 2}


async def test_per_item_errors_are_in_arabic_when_asked(system_server: MCPServer) -> None:
    requests = [{"wa_id": ALICE, "date": "2026-11-01", "time_slot": "13:00"}]
    result = await call(system_server, "system_batch_reserve", {"requests": requests, "ar": True})
    assert data(result)["errors"] == {"past_date": "لا يمكن الحجز في وقت مضى."}


async def test_an_invalid_date_fails_its_item(system_server: MCPServer) -> None:
    requests = [{"wa_id": ALICE, "date": "31-02-2026", "time_slot": "13:00"}]
    result = await call(system_server, "system_batch_reserve", {"requests": requests})
    assert rows(result)[0]["error"] == "invalid_date"


async def test_an_empty_batch_is_a_tool_error(system_server: MCPServer) -> None:
    result = await call(system_server, "system_batch_reserve", {"requests": []})
    assert result.is_error
    assert "The batch is invalid: it is empty" in text(result)


async def test_a_batch_of_more_than_10000_items_is_a_tool_error(system_server: MCPServer, services: Services) -> None:
    requests = [{"wa_id": wa_id(n), "date": WEDNESDAY, "time_slot": "13:00"} for n in range(10_001)]
    result = await call(system_server, "system_batch_reserve", {"requests": requests})
    assert result.is_error
    assert "requests\n  Value error, it has 10001 items; at most 10000 per call" in text(result)
    assert await active_on(services, wa_id(0)) == []


@pytest.mark.parametrize("tool", ["system_batch_cancel", "system_batch_modify"])
async def test_an_oversized_batch_is_refused_by_its_count_before_any_item_is_read(
    system_server: MCPServer, services: Services, tool: str
) -> None:
    await services.reservations.reserve(ALICE, WEDNESDAY, "13:00")
    requests: list[dict[str, Any]] = [{"reservation_id": True}] + [{}] * 199_999
    result = await call(system_server, tool, {"requests": requests})
    assert result.is_error and "1 validation error" in text(result)
    assert "requests\n  Value error, it has 200000 items; at most 10000 per call" in text(result)
    assert "requests.0" not in text(result) and len(text(result)) < 500
    assert await active_on(services, ALICE) == [WEDNESDAY]


async def test_an_unknown_argument_is_a_tool_error_and_nothing_runs(
    system_server: MCPServer, services: Services
) -> None:
    arguments = {"requests": [{"wa_id": ALICE, "date": WEDNESDAY, "time_slot": "13:00"}], "force": True}
    result = await call(system_server, "system_batch_reserve", arguments)
    assert result.is_error and "force" in text(result)
    assert await active_on(services, ALICE) == []


async def test_dry_run_reports_what_would_happen_and_writes_nothing(
    system_server: MCPServer, services: Services
) -> None:
    requests = [{"wa_id": ALICE, "date": WEDNESDAY, "time_slot": "13:00"}]
    result = await call(system_server, "system_batch_reserve", {"requests": requests, "dry_run": True})
    assert data(result)["status"] == "dry_run"
    assert data(result)["summary"]["ok"] == 1
    assert await active_on(services, ALICE) == []


async def test_an_atomic_batch_with_a_bad_item_writes_nothing(system_server: MCPServer, services: Services) -> None:
    requests = [{"wa_id": ALICE, "date": WEDNESDAY, "time_slot": "13:00"},
                {"wa_id": BOB, "date": "2026-11-01", "time_slot": "13:00"}]
    result = await call(system_server, "system_batch_reserve", {"requests": requests, "mode": "atomic"})
    assert data(result)["status"] == "rolled_back"
    assert await active_on(services, ALICE) == []


async def test_a_retry_with_the_same_idempotency_key_changes_nothing(
    system_server: MCPServer, services: Services
) -> None:
    first = {"requests": [{"wa_id": ALICE, "date": WEDNESDAY, "time_slot": "13:00"}], "idempotency_key": "k-1"}
    applied = await call(system_server, "system_batch_reserve", first)
    replayed = await call(system_server, "system_batch_reserve", first)
    assert data(replayed)["status"] == "replayed"
    assert data(replayed)["batch_id"] == data(applied)["batch_id"]
    assert text(replayed).startswith("Already applied earlier (replayed, nothing written now): 1 ok (created 1)")
    assert await active_on(services, ALICE) == [WEDNESDAY]


async def test_an_idempotency_key_reused_with_other_arguments_or_another_tool_is_refused(
    system_server: MCPServer, services: Services
) -> None:
    first = [{"wa_id": ALICE, "date": WEDNESDAY, "time_slot": "13:00"}]
    await call(system_server, "system_batch_reserve", {"requests": first, "idempotency_key": "k-1"})
    other_day = await call(system_server, "system_batch_reserve", {
        "requests": [{"wa_id": ALICE, "date": THURSDAY, "time_slot": "13:00"}], "idempotency_key": "k-1"})
    other_tool = await call(system_server, "system_batch_cancel", {
        "requests": [{"wa_id": ALICE}], "idempotency_key": "k-1"})
    for refused in (other_day, other_tool):
        assert refused.is_error
        assert "The idempotency_key 'k-1' was already used by another call (system_batch_reserve" in text(refused)
    assert await active_on(services, ALICE) == [WEDNESDAY]


async def test_modify_with_filters_and_updates_moves_a_whole_day(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await seed([WEDNESDAY], 6)
    result = await call(system_server, "system_batch_modify",
                        {"filters": {"dates": [WEDNESDAY]}, "updates": {"new_date": SUNDAY}})
    assert data(result)["summary"]["by_action"] == {"moved": 6}
    assert await active_on(services, wa_id(5)) == [SUNDAY]


async def test_modify_new_wa_id_moves_the_customer_to_the_new_number(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await seed([WEDNESDAY], 1)
    result = await call(system_server, "system_batch_modify", {"requests": [{"wa_id": wa_id(0), "new_wa_id": BOB}]})
    assert data(result)["summary"]["ok"] == 1
    assert await active_on(services, BOB) == [WEDNESDAY]
    assert await active_on(services, wa_id(0)) == []


async def test_modify_of_an_unknown_reservation_fails_its_item(system_server: MCPServer) -> None:
    result = await call(system_server, "system_batch_modify",
                        {"requests": [{"reservation_id": 999_999, "new_time": "15:00"}]})
    assert rows(result)[0]["error"] == "reservation_not_found"


async def test_modify_filters_with_an_unknown_field_is_a_tool_error(system_server: MCPServer) -> None:
    result = await call(system_server, "system_batch_modify",
                        {"filters": {"day": WEDNESDAY}, "updates": {"new_date": SUNDAY}})
    assert result.is_error
    assert "filters.day\n  Extra inputs are not permitted" in text(result)


async def test_cancel_with_filters_cancels_the_range(system_server: MCPServer, services: Services, seed: Seed) -> None:
    await seed([WEDNESDAY, THURSDAY], 20)
    result = await call(system_server, "system_batch_cancel",
                        {"filters": {"start_date": WEDNESDAY, "end_date": THURSDAY}})
    assert data(result)["summary"]["by_action"] == {"cancelled": 20}
    assert await active_on(services, wa_id(19)) == []


async def test_cancel_for_an_unknown_wa_id_fails_its_item_and_changes_nothing(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await seed([WEDNESDAY], 1)
    result = await call(system_server, "system_batch_cancel", {"requests": [{"wa_id": BOB}]})
    assert rows(result)[0]["error"] == "no_future_reservation"
    assert await active_on(services, wa_id(0)) == [WEDNESDAY]


async def test_undo_restores_what_a_batch_cancelled(system_server: MCPServer, services: Services, seed: Seed) -> None:
    await seed([WEDNESDAY], 3)
    cancelled = await call(system_server, "system_batch_cancel", {"filters": {"dates": [WEDNESDAY]}})
    undone = await call(system_server, "system_undo_batch", {"batch_id": data(cancelled)["batch_id"]})
    assert data(undone)["summary"]["by_action"] == {"restored": 3}
    assert await active_on(services, wa_id(2)) == [WEDNESDAY]


async def test_undo_of_an_unknown_batch_is_a_tool_error(system_server: MCPServer) -> None:
    result = await call(system_server, "system_undo_batch", {"batch_id": "no-such-batch"})
    assert result.is_error
    assert "No batch with id no-such-batch." in text(result)


async def test_a_tool_error_is_in_arabic_when_the_call_asks(system_server: MCPServer) -> None:
    result = await call(system_server, "system_get_batch", {"batch_id": "no-such-batch", "ar": True})
    assert result.is_error
    assert "لا توجد دفعة بالمعرّف no-such-batch." in text(result)


async def test_detailed_verbosity_returns_every_item_with_before_and_after(
    system_server: MCPServer, seed: Seed
) -> None:
    await seed([WEDNESDAY], 2)
    result = await call(system_server, "system_batch_modify", {
        "filters": {"dates": [WEDNESDAY]}, "updates": {"new_time": "15:00"}, "verbosity": "detailed"})
    items = data(result)["items"]
    assert [(i["before"]["time_slot"], i["after"]["time_slot"]) for i in items] == [("11:00", "15:00")] * 2
    assert items[0]["after"]["timezone"] == "Asia/Riyadh"


async def test_a_batch_over_100_items_reports_progress(system_server: MCPServer) -> None:
    requests = [{"wa_id": wa_id(n), "date": day, "time_slot": "13:00"}
                for n, day in enumerate(d for d in weekdays(WEDNESDAY, 30) for _ in range(5))]
    seen: list[tuple[float, float | None]] = []

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with Client(system_server) as client:
        await client.call_tool("system_batch_reserve", {"requests": requests}, progress_callback=progress)
    assert seen == [(100, 150), (150, 150)]


async def test_the_default_answer_stays_under_6_kb_for_a_thousand_moves(system_server: MCPServer, seed: Seed) -> None:
    days = weekdays(WEDNESDAY, 67)
    await seed(days, 1_000)
    result = await call(system_server, "system_batch_modify", {
        "filters": {"start_date": days[0], "end_date": days[-1]}, "updates": {"new_time": "13:00"}, "dry_run": True})
    structured = len(json.dumps(data(result), ensure_ascii=False, separators=(",", ":")).encode())
    assert data(result)["summary"]["requested"] == 1_000
    assert len(text(result).encode()) < 6_000 and structured < 6_000


async def test_an_unexpected_failure_is_opaque_to_the_model_and_logged(
    system_server: MCPServer, batch: SystemAgentBatchService, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("password=hunter2")

    monkeypatch.setattr(batch, "reserve", broken)
    result = await call(system_server, "system_batch_reserve",
                        {"requests": [{"wa_id": ALICE, "date": WEDNESDAY, "time_slot": "13:00"}]})
    assert result.is_error
    assert "hunter2" not in text(result)
    assert "hunter2" in caplog.text
    assert any(record.levelno == logging.ERROR for record in caplog.records)


async def test_a_call_cancelled_mid_batch_writes_nothing(system_server: MCPServer, services: Services) -> None:
    requests = [{"wa_id": wa_id(n), "date": day, "time_slot": "13:00"}
                for n, day in enumerate(d for d in weekdays(WEDNESDAY, 30) for _ in range(5))]
    async with Client(system_server) as client:
        with anyio.CancelScope() as scope:

            async def cancel_at_first_progress(progress: float, total: float | None, message: str | None) -> None:
                scope.cancel()

            await client.call_tool("system_batch_reserve", {"requests": requests},
                                   progress_callback=cancel_at_first_progress)
    assert scope.cancelled_caught
    assert await active_on(services, wa_id(0)) == []


async def test_a_batch_that_matches_nothing_says_so_and_records_nothing(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await seed([WEDNESDAY], 3)
    result = await call(system_server, "system_batch_cancel", {"filters": {"dates": [THURSDAY]}})
    assert data(result)["status"] == "nothing_matched" and data(result).get("batch_id") is None
    assert text(result).startswith("Nothing matched, nothing written and no batch recorded: no upcoming reservation "
                                   "or customer fits the request.")
    async with services.db.reading() as session:
        tools = list(await session.scalars(select(BatchRecord.tool)))
    assert tools == ["system_batch_reserve"]  # the seed's own batch only


async def test_a_failed_booking_names_the_day_and_time_it_asked_for(
    system_server: MCPServer, services: Services, seed: Seed
) -> None:
    await seed([WEDNESDAY], 5)  # 11:00 is full
    result = await call(system_server, "system_batch_reserve", {
        "requests": [{"wa_id": BOB, "date": WEDNESDAY, "time_slot": "11:00"}]})
    [group] = data(result)["failures"]
    [item] = group["items"]
    assert (item["date"], item["time_slot"]) == (WEDNESDAY, "11:00")
    assert f"|Wed {WEDNESDAY} (1448-06-22)|11:00 (11:00 AM)" in text(result)


async def test_the_newest_batches_say_what_each_did_and_an_undo_by_a_listed_id_works(
    system_server: MCPServer, services: Services, seed: Seed, clock: FixedClock
) -> None:
    ids = await seed([WEDNESDAY], 3)
    clock.now += timedelta(minutes=1)  # a batch's time orders the listing
    moved = data(await call(system_server, "system_batch_modify", {
        "filters": {"dates": [WEDNESDAY]}, "updates": {"new_date": THURSDAY}}))
    await services.customers.ensure(wa_id(0), "Sara Khan")
    clock.now += timedelta(minutes=1)
    await call(system_server, "system_message_customers", {"text": "See you\u2028 soon.", "wa_ids": [wa_id(0)]})
    clock.now += timedelta(minutes=1)

    listing = await call(system_server, "system_get_batch", {})

    [message, move, _] = data(listing)["batches"]
    assert data(listing)["total"] == 3 and data(listing).get("next_offset") is None
    assert (move["batch_id"], move["tool"], move["by"], move["ok"]) == (moved["batch_id"], "system_batch_modify",
                                                                        "agent", 3)
    assert move["what"] == f"filters: days {WEDNESDAY}; to date {THURSDAY}"
    assert move["undo"] == "system_undo_batch reverts what the calendar still allows"
    assert message["what"] == '1 listed customer(s); text "See you soon."'
    assert message["notices"] == {"queued": 1}
    assert message["undo"] == "system_undo_batch withdraws the messages not sent yet"
    lines = text(listing).split("\n")
    assert lines[0] == "Applied batches, newest first: 3 of 3 from 0 (Asia/Riyadh)."
    assert text(await call(system_server, "system_get_batch", {"offset": 2})).startswith(
        "Applied batches, newest first: 1 of 3 from 2")
    assert lines[1] == "batch_id|at|by|tool|what|ok|failed|notices|undo|asked for"
    assert lines[2].endswith("|-")  # no client said what the call served
    undone = data(await call(system_server, "system_undo_batch", {"batch_id": move["batch_id"]}))
    assert undone["status"] == "applied" and len(ids) == 3
    again = data(await call(system_server, "system_get_batch", {}))["batches"]
    assert [b["tool"] for b in again] == ["system_undo_batch", "system_message_customers", "system_batch_modify",
                                          "system_batch_reserve"]
    assert again[2]["undo"] == "already undone" and again[0]["what"] == f"undo of {move['batch_id']}"
    async with Client(system_server) as client:
        resource = await client.read_resource("calendar://batches/recent")
    assert json.loads(resource.contents[0].text)["total"] == 4  # type: ignore[union-attr]


async def test_a_batch_keeps_the_request_its_client_names_on_one_line_and_cut_to_300_characters(
    system_server: MCPServer, seed: Seed, clock: FixedClock
) -> None:
    await seed([WEDNESDAY], 2)
    clock.now += timedelta(minutes=1)  # a batch's time orders the listing
    said = "Move Wednesday\n to Thursday | the doctor is away\u2028 " + "please " * 100
    async with Client(system_server) as client:
        await client.call_tool("system_batch_modify", {
            "filters": {"dates": [WEDNESDAY]}, "updates": {"new_date": THURSDAY}}, meta=cast(RequestParamsMeta, {REQUEST_META: said}))
        listing = await client.call_tool("system_get_batch", {})
    newest = data(listing)["batches"][0]
    assert newest["request"].startswith("Move Wednesday to Thursday | the doctor is away please please")
    assert len(newest["request"]) == 300 and newest["request"].endswith("…")
    row = text(listing).split("\n")[2]
    assert json.loads(row.rsplit("|", 1)[1]) == newest["request"]
