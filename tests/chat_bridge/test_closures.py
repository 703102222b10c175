"""Closing the clinic as the served app does it: `system_close_days` at /mcp and `POST /closures`, then every
way a booking arrives (the system agent's tools, the customer assistant's tools, the operator API) refused
with the period in both calendars; reopening, undo, confirmation and notices; and the database afterwards."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

from mcp import Client
from sqlalchemy import func, select

from domain.storage.models import Notice, Reservation, Vacation
from domain.services import Services
from domain.system_agent.batch import BatchOptions
from domain.system_agent.effects import EffectLimits
from mcp_server.customer_server import build_customer_server
from tests.fakes.graph_api import FakeGraphApi, RunningBridge, bridge, graph_api, running_bridge  # noqa: F401

FATIMA, OMAR, LAYLA, NEWCOMER = "966501111111", "966502222222", "966503333333", "966504444444"
REFUSAL = ("The clinic is closed for Winter break from 2026-12-20 to 2026-12-31 (1448-07-11 to 1448-07-22 AH).")
WINTER = {"start_date": "2026-12-20", "end_date": "2026-12-31", "title": "Winter break"}


async def booked_around_the_break(services: Services) -> dict[str, int]:
    """Fatima and Omar booked inside the break, Layla on the day after it."""
    ids = {}
    for wa_id, name, day in [(FATIMA, "فاطمة", "2026-12-20"), (OMAR, "Omar Haddad", "2026-12-27"),
                             (LAYLA, "Layla", "2027-01-03")]:
        await services.customers.ensure(wa_id, name)
        result = await services.reservations.reserve(wa_id, day, "11:00")
        assert result.reservation is not None
        ids[wa_id] = result.reservation.id
    return ids


async def call(bridge: RunningBridge, name: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any], bool]:
    async with Client(f"{bridge.url}/mcp") as client:
        result = await client.call_tool(name, arguments)
    return result.content[0].text, result.structured_content or {}, result.is_error  # type: ignore[union-attr]


async def statuses(services: Services) -> dict[str, str]:
    async with services.db.reading() as session:
        rows = await session.execute(select(Reservation.wa_id, Reservation.status))
        return {wa_id: status for wa_id, status in rows}


async def closures(services: Services) -> list[tuple[str, str, str]]:
    async with services.db.reading() as session:
        rows = await session.scalars(select(Vacation).order_by(Vacation.id))
        return [(v.start_date.isoformat(), v.end_date.isoformat(), v.title) for v in rows]


async def test_closing_days_cancels_their_bookings_in_one_batch_and_tells_the_model_what_it_did(
        services: Services, bridge: RunningBridge) -> None:  # noqa: F811
    ids = await booked_around_the_break(services)
    text, data, is_error = await call(bridge, "system_close_days", WINTER)
    assert is_error is False
    assert text.startswith("Applied: 2 ok (cancelled 2), 0 failed")
    assert ("Closed for Winter break: 2026-12-20 to 2026-12-31 (1448-07-11 to 1448-07-22 AH), closure id "
            in text)
    assert f'#{ids[FATIMA]}|"فاطمة"|{FATIMA}|cancelled' in text
    assert f'#{ids[OMAR]}|"Omar Haddad"|{OMAR}|cancelled' in text
    assert data["closures"][0]["title"] == "Winter break" and data["closures"][0]["action"] == "closed"
    assert await statuses(services) == {FATIMA: "cancelled", OMAR: "cancelled", LAYLA: "active"}
    assert await closures(services) == [("2026-12-20", "2026-12-31", "Winter break")]


async def test_every_way_of_booking_a_closed_day_is_refused_naming_the_period_in_both_calendars(
        services: Services, bridge: RunningBridge) -> None:  # noqa: F811
    await booked_around_the_break(services)
    await call(bridge, "system_close_days", WINTER)
    _, reserved, _ = await call(bridge, "system_batch_reserve", {"requests": [
        {"wa_id": NEWCOMER, "date": "2026-12-22", "time_slot": "11:00"}]})
    assert reserved["failures"][0]["code"] == "vacation" and reserved["failures"][0]["message"] == REFUSAL
    _, moved, _ = await call(bridge, "system_batch_modify", {"requests": [
        {"wa_id": LAYLA, "new_date": "2026-12-30"}]})
    assert moved["failures"][0]["message"] == REFUSAL
    async with Client(build_customer_server(services, NEWCOMER), mode="legacy") as customer:
        assistant = await customer.call_tool("reserve_time_slot", {"date": "2026-12-28", "time_slot": "1:00 PM"})
        open_days = await customer.call_tool("search_available_appointments", {"start_date": "2026-12-30"})
    assert assistant.is_error is True and assistant.content[0].text.endswith(": " + REFUSAL)  # type: ignore[union-attr]
    assert "Wed 2026-12-30 (1448-07-21) vacation: Winter break" in open_days.content[0].text  # type: ignore[union-attr]
    operator = await bridge.http.post("/reservations", json={"wa_id": NEWCOMER, "date": "2026-12-21",
                                                             "time_slot": "13:00"})
    assert operator.status_code == 409 and operator.json()["error"] == {"code": "vacation", "message": REFUSAL}
    assert await statuses(services) == {FATIMA: "cancelled", OMAR: "cancelled", LAYLA: "active"}


async def test_the_clock_lists_the_closures_to_come_and_the_operator_api_too(
        services: Services, bridge: RunningBridge) -> None:  # noqa: F811
    await services.vacations.add("2026-11-01", "2026-11-03", "Long gone")
    await call(bridge, "system_close_days", WINTER)
    text, data, _ = await call(bridge, "get_current_datetime", {})
    closure_id = data["closures"][0]["id"]
    assert f"{closure_id}|Winter break|2026-12-20|2026-12-31|1448-07-11 to 1448-07-22" in text
    assert "Long gone" not in text and len(data["closures"]) == 1
    listed = (await bridge.http.get("/closures")).json()["closures"]
    assert [(c["id"], c["title"], c["start_hijri"]) for c in listed] == [(closure_id, "Winter break", "1448-07-11")]
    assert len((await bridge.http.get("/closures", params={"all": "true"})).json()["closures"]) == 2


async def test_undoing_a_closure_reopens_its_days_and_restores_the_bookings_it_cancelled(
        services: Services, bridge: RunningBridge) -> None:  # noqa: F811
    await booked_around_the_break(services)
    _, closed, _ = await call(bridge, "system_close_days", WINTER)
    text, undone, _ = await call(bridge, "system_undo_batch", {"batch_id": closed["batch_id"]})
    assert undone["status"] == "applied" and undone["summary"]["by_action"] == {"restored": 2}
    assert "Reopened (closure" in text and "2026-12-20 to 2026-12-31 can be booked again" in text
    assert await statuses(services) == {FATIMA: "active", OMAR: "active", LAYLA: "active"}
    assert await closures(services) == []
    again, _, _ = await call(bridge, "system_undo_batch", {"batch_id": undone["batch_id"]})
    assert await closures(services) == [("2026-12-20", "2026-12-31", "Winter break")]
    assert await statuses(services) == {FATIMA: "cancelled", OMAR: "cancelled", LAYLA: "active"}


async def test_reopening_days_lets_them_be_booked_and_keeps_the_cancelled_bookings_cancelled(
        services: Services, bridge: RunningBridge) -> None:  # noqa: F811
    await booked_around_the_break(services)
    _, closed, _ = await call(bridge, "system_close_days", WINTER)
    closure_id = closed["closures"][0]["id"]
    text, reopened, _ = await call(bridge, "system_reopen_days", {"closure_id": closure_id})
    assert f"Reopened (closure {closure_id}, Winter break): 2026-12-20 to 2026-12-31 can be booked again." in text
    booked = await bridge.http.post("/reservations", json={"wa_id": NEWCOMER, "date": "2026-12-21",
                                                           "time_slot": "13:00", "customer_name": "New One"})
    assert booked.status_code == 201 and booked.json()["action"] == "created"
    assert (await statuses(services))[FATIMA] == "cancelled"
    _, undone, _ = await call(bridge, "system_undo_batch", {"batch_id": reopened["batch_id"]})
    assert undone["status"] == "applied"
    assert await closures(services) == [("2026-12-20", "2026-12-31", "Winter break")]


async def test_a_closure_over_the_threshold_is_previewed_then_confirmed_and_notifies_each_customer_once(
        services: Services, graph_api: FakeGraphApi) -> None:  # noqa: F811
    services.batch.limits = EffectLimits.uniform(1)
    await booked_around_the_break(services)
    async with running_bridge(services, graph_api) as bridge:
        body = dict(WINTER, notify=True)
        preview = (await bridge.http.post("/closures", json=body)).json()
        assert preview["status"] == "needs_confirmation" and preview["confirmation"]["preview"]["reservations"] == 2
        assert preview["notices"]["customers"] == 2 and await closures(services) == []
        token = preview["confirmation"]["token"]
        applied = (await bridge.http.post("/closures", json=dict(body, confirmation_token=token))).json()
    assert applied["status"] == "applied" and applied["closures"][0]["id"] is not None
    async with services.db.reading() as session:
        told = dict((await session.execute(select(Notice.wa_id, Notice.purpose)
                                           .where(Notice.batch_id == applied["batch_id"]))).all())
    assert told == {FATIMA: "cancelled", OMAR: "cancelled"}


async def test_a_dry_run_writes_nothing_and_says_what_it_would_close(services: Services,
                                                                     bridge: RunningBridge) -> None:  # noqa: F811
    await booked_around_the_break(services)
    text, data, _ = await call(bridge, "system_close_days", dict(WINTER, dry_run=True))
    assert data["status"] == "dry_run" and "Would close for Winter break: 2026-12-20 to 2026-12-31" in text
    assert await closures(services) == [] and (await statuses(services))[FATIMA] == "active"


async def test_bad_closures_are_refused_with_a_sentence_and_change_nothing(services: Services,
                                                                           bridge: RunningBridge) -> None:  # noqa: F811
    await call(bridge, "system_close_days", WINTER)
    refusals: dict[str, dict[str, Any]] = {
        "overlap": dict(WINTER, start_date="2026-12-31", end_date="2027-01-02"),
        "past": dict(WINTER, start_date="2026-11-30", end_date="2026-12-02"),
        "backwards": dict(WINTER, start_date="2027-01-05", end_date="2027-01-02"),
        "control characters": dict(WINTER, start_date="2027-02-01", end_date=None, title="Break\u0000\n"),
        "too long": dict(WINTER, start_date="2027-02-01", end_date="2028-03-01"),
    }
    sentences = {}
    for why, arguments in refusals.items():
        text, _, is_error = await call(bridge, "system_close_days", arguments)
        assert is_error is True, why
        sentences[why] = text
    assert ("The clinic is already closed for Winter break from 2026-12-20 to 2026-12-31 (1448-07-11 to "
            "1448-07-22 AH, closure" in sentences["overlap"])
    assert sentences["past"].endswith(": Cannot reserve in the past.")
    assert "not valid" in sentences["control characters"]
    assert "at most 366 days" in sentences["too long"]
    huge = await bridge.http.post("/closures", json=dict(WINTER, start_date="2027-03-01", title="x" * 1_000_000))
    assert huge.status_code in (413, 422)
    unknown = await bridge.http.post("/closures", json=dict(WINTER, start_date="2027-03-01", actor="someone"))
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "invalid_body"
    missing = await bridge.http.delete("/closures/999999")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "No closure with id 999999."
    huge = await bridge.http.delete("/closures/99999999999999999999")
    assert huge.status_code == 404 and huge.json()["error"]["code"] == "closure_not_found"
    assert await closures(services) == [("2026-12-20", "2026-12-31", "Winter break")]


async def test_bookings_racing_a_closure_never_stay_active_inside_it(services: Services) -> None:
    """Forty customers book days of the break through the single service and batches while it closes:
    whatever order the database serialises them in, none is left active inside the closure."""
    wa_ids = [f"96650900{n:04d}" for n in range(40)]

    async def book(n: int, wa_id: str) -> None:
        day, slot = f"2026-12-{20 + n % 10}", ("11:00", "13:00", "15:00")[n % 3]
        try:
            if n % 2:
                await services.reservations.reserve(wa_id, day, slot)
            else:
                await services.batch.reserve([{"wa_id": wa_id, "date": day, "time_slot": slot}])
        except Exception as error:  # refused once the closure is in: what matters is what is left
            assert "Winter break" in str(error) or "closed" in str(error), error

    async def close() -> None:
        await asyncio.sleep(0)
        report = await services.batch.close("2026-12-20", "2026-12-31", "Winter break",
                                            options=BatchOptions(confirmed=True))
        assert report.status == "applied"

    await asyncio.gather(close(), *(book(n, w) for n, w in enumerate(wa_ids)))
    async with services.db.reading() as session:
        inside = await session.scalar(select(func.count()).select_from(Reservation).where(
            Reservation.status == "active", Reservation.date.between(date(2026, 12, 20), date(2026, 12, 31))))
    assert inside == 0


async def test_closing_a_morning_cancels_and_refuses_only_its_slots(services: Services,
                                                                   bridge: RunningBridge) -> None:  # noqa: F811
    await booked_around_the_break(services)  # Fatima at 11:00 on the 20th
    await services.customers.ensure(LAYLA, "Layla")
    meeting = {"start_date": "2026-12-20", "title": "Staff meeting", "from_time": "11:00", "to_time": "1:00 PM"}
    text, closed, _ = await call(bridge, "system_close_days", meeting)
    assert "Closed for Staff meeting: 2026-12-20 to 2026-12-20, 11:00-13:00 (1448-07-11 to 1448-07-11 AH)" in text
    assert closed["summary"]["by_action"] == {"cancelled": 1} and (await statuses(services))[FATIMA] == "cancelled"
    refused = await bridge.http.post("/reservations", json={"wa_id": NEWCOMER, "date": "2026-12-20",
                                                            "time_slot": "11:00"})
    assert refused.status_code == 409 and refused.json()["error"]["message"] == (
        "The clinic is closed for Staff meeting from 11:00 to 13:00, 2026-12-20 to 2026-12-20 (1448-07-11 to "
        "1448-07-11 AH).")
    allowed = await bridge.http.post("/reservations", json={"wa_id": NEWCOMER, "date": "2026-12-20",
                                                            "time_slot": "13:00"})
    assert allowed.status_code == 201
    async with Client(build_customer_server(services, LAYLA), mode="legacy") as customer:
        open_day = await customer.call_tool("search_available_appointments", {"start_date": "2026-12-20"})
    assert [s["time_slot"] for s in (open_day.structured_content or {})["days"][0]["slots"]] == ["13:00", "15:00"]
    overlapping, _, refused_whole = await call(bridge, "system_close_days", dict(WINTER, end_date=None))
    afternoon, _, afternoon_error = await call(bridge, "system_close_days", dict(meeting, from_time="13:00",
                                                                                 to_time="15:00"))
    assert refused_whole is True and "already closed for Staff meeting" in overlapping
    assert afternoon_error is False, afternoon
    _, undone, _ = await call(bridge, "system_undo_batch", {"batch_id": closed["batch_id"]})
    assert undone["summary"]["by_action"] == {"restored": 1} and (await statuses(services))[FATIMA] == "active"


async def test_hours_that_close_no_slot_or_run_backwards_are_refused(services: Services,
                                                                    bridge: RunningBridge) -> None:  # noqa: F811
    evening = {"start_date": "2026-12-20", "title": "x", "from_time": "18:00", "to_time": "20:00"}
    backwards = dict(evening, from_time="13:00", to_time="11:00")
    half = dict(evening, to_time=None)
    texts = [(await call(bridge, "system_close_days", arguments))[0] for arguments in (evening, backwards, half)]
    assert "no slot of those days starts between 18:00 and 20:00" in texts[0]
    assert "to_time (11:00) must be after from_time (13:00)" in texts[1]
    assert "give both from_time and to_time" in texts[2]
    assert await closures(services) == []


async def test_another_web_page_cannot_close_days_or_book(services: Services,
                                                          bridge: RunningBridge) -> None:  # noqa: F811
    evil = {"Origin": "http://evil.example"}
    closing = await bridge.http.post("/closures", json=WINTER, headers=evil)
    booking = await bridge.http.post("/reservations", headers=evil, json={"wa_id": NEWCOMER, "date": "2026-12-06",
                                                                          "time_slot": "11:00"})
    reopening = await bridge.http.delete("/closures/1", headers=evil)
    plain = await bridge.http.post("/closures", content=json.dumps(WINTER), headers={"Content-Type": "text/plain"})
    assert [r.status_code for r in (closing, booking, reopening)] == [403, 403, 403]
    assert (plain.status_code, plain.json()["error"]["code"]) == (415, "unsupported_media_type")
    assert await closures(services) == [] and await statuses(services) == {}


async def test_a_booking_whose_type_is_true_is_refused(services: Services,
                                                      bridge: RunningBridge) -> None:  # noqa: F811
    refused = await bridge.http.post("/reservations", json={"wa_id": NEWCOMER, "date": "2026-12-21",
                                                            "time_slot": "11:00", "reservation_type": True})
    assert refused.status_code == 422 and "true is not an id" in refused.json()["error"]["message"]
    assert await statuses(services) == {}
