"""The operators' batch endpoints as the served app answers them (on SQLite and on PostgreSQL): booking, moving,
retyping and cancelling from the calendar, the history and undo, the rules' refusals, the confirmation limits, and
hostile input; each checked against the database afterwards."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from domain.notices.outbox import STATUSES
from domain.errors import DomainError
from domain.services import Services
from domain.storage.models import BatchRecord, Notice, Reservation
from tests.conftest import PER_CALL, FixedClock
from tests.fakes.graph_api import RunningBridge, bridge, graph_api  # noqa: F401

SARA, OMAR = "966501234567", "966502222222"
SUNDAY, MONDAY = "2026-12-06", "2026-12-07"  # the fixed clock's today is Tuesday 2026-12-01
Row = tuple[str, str, str, int, str]


async def reservations(services: Services) -> dict[int, Row]:
    """Every reservation row: id -> (wa_id, date, time_slot, type, status)."""
    async with services.db.reading() as session:
        rows = await session.scalars(select(Reservation).order_by(Reservation.id))
        return {r.id: (r.wa_id, r.date.isoformat(), r.time_slot, r.type, str(r.status)) for r in rows}


async def batch_count(services: Services) -> int:
    async with services.db.reading() as session:
        return len((await session.scalars(select(BatchRecord.id))).all())


async def booked(services: Services, wa_id: str = SARA, day: str = SUNDAY, slot: str = "11:00") -> int:
    result = await services.reservations.reserve(wa_id, day, slot, customer_name="Sara")
    assert result.reservation is not None
    return result.reservation.id


async def post(bridge: RunningBridge, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    response = await bridge.http.post(path, json=body)
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    return answer


def customers(count: int) -> list[dict[str, Any]]:
    """`count` bookings of different customers, six to a slot (the operators' capacity) from Sunday 11:00 on."""
    slots = [(day, slot) for day in (SUNDAY, MONDAY) for slot in ("11:00", "13:00", "15:00")]
    return [{"wa_id": f"9665090{n:05d}", "date": slots[n // 6][0], "time_slot": slots[n // 6][1]}
            for n in range(count)]


async def test_a_booking_is_applied_listed_first_as_the_operators_and_undone(bridge: RunningBridge,
                                                                             clock: FixedClock) -> None:
    answer = await post(bridge, "/batches/reserve", {"requests": [
        {"wa_id": SARA, "date": SUNDAY, "time_slot": "1:00 PM", "type": 1, "customer_name": "Sara Khan"}]})
    assert answer["status"] == "applied" and answer["summary"]["by_action"] == {"created": 1}
    item = answer["items"][0]
    assert (item["status"], item["action"], item["date"], item["time_slot"]) == ("ok", "created", SUNDAY, "13:00")
    assert await reservations(bridge.services) == {item["reservation_id"]: (SARA, SUNDAY, "13:00", 1, "active")}
    listed = (await bridge.http.get("/batches")).json()
    first = listed["batches"][0]
    assert (listed["total"], first["batch_id"], first["by"], first["tool"]) == (
        1, answer["batch_id"], "operator", "system_batch_reserve")
    clock.now += timedelta(minutes=5)  # the undo is the newer batch (the fixed clock would give both one time)
    undone = await post(bridge, f"/batches/{answer['batch_id']}/undo", {})
    assert undone["status"] == "applied" and undone["undone_batch_id"] == answer["batch_id"]
    assert await reservations(bridge.services) == {item["reservation_id"]: (SARA, SUNDAY, "13:00", 1, "cancelled")}
    history = (await bridge.http.get("/batches")).json()["batches"]
    assert [(b["batch_id"], b["undo"]) for b in history] == [
        (undone["batch_id"], "system_undo_batch reverts what the calendar still allows"),
        (answer["batch_id"], "already undone")]
    assert history[1]["undone_at"] is not None


async def test_a_recorded_batch_is_read_back_with_its_changes(bridge: RunningBridge) -> None:
    reservation_id = await booked(bridge.services)
    moved = await post(bridge, "/batches/modify", {"requests": [{"reservation_id": reservation_id,
                                                                 "new_time": "15:00"}]})
    response = await bridge.http.get(f"/batches/{moved['batch_id']}")
    assert response.status_code == 200
    recorded = response.json()
    assert (recorded["status"], recorded["tool"], recorded["undone_at"]) == ("applied", "system_batch_modify", None)
    assert [(c["reservation_id"], c["action"], c["from_time"], c["time_slot"], c["customer_name"])
            for c in recorded["changes"]] == [(reservation_id, "moved", "11:00", "15:00", "Sara")]


async def test_a_reservation_is_moved_to_another_day_and_slot(bridge: RunningBridge) -> None:
    reservation_id = await booked(bridge.services)
    answer = await post(bridge, "/batches/modify", {"requests": [
        {"reservation_id": reservation_id, "new_date": MONDAY, "new_time": "15:00"}]})
    item = answer["items"][0]
    assert answer["status"] == "applied" and (item["from_date"], item["from_time"]) == (SUNDAY, "11:00")
    assert await reservations(bridge.services) == {reservation_id: (SARA, MONDAY, "15:00", 0, "active")}


async def test_a_reservations_type_is_changed(bridge: RunningBridge) -> None:
    reservation_id = await booked(bridge.services)
    answer = await post(bridge, "/batches/modify", {"requests": [{"reservation_id": reservation_id, "new_type": 1}]})
    assert answer["status"] == "applied" and answer["items"][0]["reservation_id"] == reservation_id
    assert await reservations(bridge.services) == {reservation_id: (SARA, SUNDAY, "11:00", 1, "active")}


async def test_a_reservation_is_cancelled_and_its_cancellation_undone(bridge: RunningBridge) -> None:
    reservation_id = await booked(bridge.services)
    answer = await post(bridge, "/batches/cancel", {"requests": [{"reservation_id": reservation_id}]})
    assert answer["status"] == "applied" and answer["summary"]["by_action"] == {"cancelled": 1}
    assert await reservations(bridge.services) == {reservation_id: (SARA, SUNDAY, "11:00", 0, "cancelled")}
    restored = await post(bridge, f"/batches/{answer['batch_id']}/undo", {"notify": False})
    assert restored["summary"]["by_action"] == {"restored": 1}
    assert await reservations(bridge.services) == {reservation_id: (SARA, SUNDAY, "11:00", 0, "active")}


async def test_an_operator_books_the_sixth_place_of_a_slot_and_the_seventh_is_refused_with_the_rules_sentence(
        bridge: RunningBridge) -> None:
    for n in range(5):  # an agent's capacity
        await booked(bridge.services, f"96650300000{n}")
    sixth = await post(bridge, "/batches/reserve", {"requests": [{"wa_id": OMAR, "date": SUNDAY,
                                                                  "time_slot": "11:00"}]})
    assert sixth["status"] == "applied"
    before = await reservations(bridge.services)
    refused = await post(bridge, "/batches/reserve", {"requests": [{"wa_id": SARA, "date": SUNDAY,
                                                                    "time_slot": "11:00"}]})
    assert refused["status"] == "failed" and refused["batch_id"] is None
    assert refused["items"][0]["error"] == {"code": "slot_full", "message": "This time slot is fully booked."}
    assert refused["failures"][0]["message"] == "This time slot is fully booked."
    in_arabic = await post(bridge, "/batches/reserve", {"requests": [{"wa_id": SARA, "date": SUNDAY,
                                                                      "time_slot": "11:00"}], "ar": True})
    assert in_arabic["items"][0]["error"]["code"] == "slot_full"
    assert in_arabic["failures"][0]["message"] == DomainError("slot_full").message(ar=True) != "This time slot is fully booked."
    assert await reservations(bridge.services) == before and await batch_count(bridge.services) == 1


async def test_a_booking_on_a_closed_day_fails_naming_the_closure_and_the_rest_applies(
        bridge: RunningBridge) -> None:
    closed = await post(bridge, "/closures", {"start_date": "2026-12-20", "end_date": "2026-12-31",
                                              "title": "Winter break"})
    assert closed["status"] == "applied"
    answer = await post(bridge, "/batches/reserve", {"requests": [
        {"wa_id": SARA, "date": "2026-12-22", "time_slot": "11:00"},
        {"wa_id": OMAR, "date": "2026-12-04", "time_slot": "11:00"},
        {"wa_id": "966503333333", "date": SUNDAY, "time_slot": "11:00"}]})
    assert answer["status"] == "applied" and answer["summary"]["failed"] == 2
    errors = {i["index"]: i["error"] for i in answer["items"] if i["status"] == "failed"}
    assert errors[0] == {"code": "vacation", "message": (
        "The clinic is closed for Winter break from 2026-12-20 to 2026-12-31 (1448-07-11 to 1448-07-22 AH).")}
    assert errors[1]["code"] == "clinic_closed" and errors[1]["message"].startswith("The clinic is closed on this day")
    assert [row[0] for row in (await reservations(bridge.services)).values()] == ["966503333333"]


async def test_a_batch_past_the_limits_asks_and_applies_only_with_its_own_token(bridge: RunningBridge) -> None:
    limit = PER_CALL.bookings.turn
    assert limit == 20
    body = {"requests": customers(limit + 1)}
    asked = await post(bridge, "/batches/reserve", body)
    assert asked["status"] == "needs_confirmation" and asked["batch_id"] is None
    confirmation = asked["confirmation"]
    assert confirmation["preview"]["reservations"] == 21 and confirmation["token"]
    assert await reservations(bridge.services) == {}
    other = {"requests": customers(22)}
    wrong = await bridge.http.post("/batches/reserve", json=dict(other, confirmation_token=confirmation["token"]))
    forged = await bridge.http.post("/batches/reserve", json=dict(body, confirmation_token="Zm9yZ2Vk"))
    for refused in (wrong, forged):
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "confirmation_invalid"
    assert await reservations(bridge.services) == {} and await batch_count(bridge.services) == 0
    applied = await post(bridge, "/batches/reserve", dict(body, confirmation_token=confirmation["token"]))
    assert applied["status"] == "applied" and applied["summary"]["ok"] == 21
    assert len(await reservations(bridge.services)) == 21
    # Undone (asking again: 21 cancellations), the same change needs a person again: the used token is refused.
    undo = f"/batches/{applied['batch_id']}/undo"
    asked_again = await post(bridge, undo, {})
    undone = await post(bridge, undo, {"confirmation_token": asked_again["confirmation"]["token"]})
    assert (asked_again["status"], undone["status"]) == ("needs_confirmation", "applied")
    replayed = await bridge.http.post("/batches/reserve", json=dict(body, confirmation_token=confirmation["token"]))
    assert replayed.status_code == 409 and replayed.json()["error"]["code"] == "confirmation_invalid"
    assert {row[4] for row in (await reservations(bridge.services)).values()} == {"cancelled"}
    assert await batch_count(bridge.services) == 2


async def test_a_page_of_another_origin_is_refused_before_any_batch_runs(bridge: RunningBridge) -> None:
    reservation_id = await booked(bridge.services)
    before = await reservations(bridge.services)
    elsewhere = {"Origin": "http://127.0.0.1:1"}  # another port of this machine: another site
    cancel = await bridge.http.post("/batches/cancel", json={"requests": [{"reservation_id": reservation_id}]},
                                    headers=elsewhere)
    undo = await bridge.http.post("/batches/no-such-batch/undo", json={}, headers=elsewhere)
    assert [cancel.status_code, undo.status_code] == [403, 403]
    assert cancel.json()["error"]["code"] == "invalid_origin"
    assert await reservations(bridge.services) == before and await batch_count(bridge.services) == 0


async def test_a_dry_run_previews_and_writes_nothing(bridge: RunningBridge) -> None:
    reservation_id = await booked(bridge.services)
    answer = await post(bridge, "/batches/cancel", {"requests": [{"reservation_id": reservation_id}],
                                                    "dry_run": True})
    assert answer["status"] == "dry_run" and answer["items"][0]["action"] == "cancelled"
    assert await reservations(bridge.services) == {reservation_id: (SARA, SUNDAY, "11:00", 0, "active")}


async def test_a_cancellation_with_notify_queues_the_customers_notice(bridge: RunningBridge) -> None:
    reservation_id = await booked(bridge.services)
    answer = await post(bridge, "/batches/cancel", {"requests": [{"reservation_id": reservation_id}], "notify": True})
    assert answer["status"] == "applied" and answer["notices"]["customers"] == 1
    async with bridge.services.db.reading() as session:
        told = (await session.execute(select(Notice.wa_id, Notice.purpose)
                                      .where(Notice.batch_id == answer["batch_id"]))).all()
    assert [tuple(row) for row in told] == [(SARA, "cancelled")]
    recorded = (await bridge.http.get(f"/batches/{answer['batch_id']}")).json()
    # The notice sender is running: the notice may have left the queue by now.
    assert [(m["wa_id"], m["purpose"]) for m in recorded["messaged"]] == [(SARA, "cancelled")]
    assert recorded["messaged"][0]["status"] in STATUSES


async def test_the_same_idempotency_key_answers_the_first_result_again(bridge: RunningBridge) -> None:
    booking = {"wa_id": SARA, "date": SUNDAY, "time_slot": "11:00"}
    body = {"requests": [booking], "idempotency_key": "console-1"}
    first = await post(bridge, "/batches/reserve", body)
    again = await post(bridge, "/batches/reserve", body)
    assert (first["status"], again["status"], again["batch_id"]) == ("applied", "replayed", first["batch_id"])
    reused = await bridge.http.post("/batches/reserve", json=dict(body, requests=[dict(booking, wa_id=OMAR)]))
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert len(await reservations(bridge.services)) == 1 and await batch_count(bridge.services) == 1


async def test_malformed_bodies_are_refused_naming_the_field_and_change_nothing(bridge: RunningBridge) -> None:
    reservation_id = await booked(bridge.services)
    before = await reservations(bridge.services)
    item = {"reservation_id": reservation_id}
    refusals: list[tuple[str, dict[str, Any]]] = [
        ("actor: Extra inputs are not permitted", {"requests": [item], "actor": "someone"}),
        ("requests: List should have at most 50 items", {"requests": [item] * 51}),
        ("requests.0.f0: Extra inputs are not permitted", {"requests": [{f"f{n}": n for n in range(21)}]}),
        ("requests: Field required", {}),
        ("requests: List should have at least 1 item", {"requests": []}),
        ("requests: Input should be a valid list", {"requests": item}),
        ("requests.1: Input should be a valid dictionary", {"requests": [item, "not an object"]}),
        ("notify: Input should be a valid boolean", {"requests": [item], "notify": "maybe"}),
    ]
    for sentence, body in refusals:
        response = await bridge.http.post("/batches/cancel", json=body)
        assert response.status_code == 422, sentence
        error = response.json()["error"]
        assert error["code"] == "invalid_body" and error["message"].startswith(sentence), error
        assert len(error["message"]) < 200
    long_key = await bridge.http.post("/batches/cancel", json={"requests": [{"x" * 50_000: 1}]})
    assert long_key.status_code == 422 and len(long_key.text) < 200  # refused without repeating the key whole
    assert long_key.json()["error"]["message"] == f"requests.0.{'x' * 40}…: Extra inputs are not permitted."
    assert (await bridge.http.post("/batches/reserve", json={"requests": [{"customer_name": "x" * 1_100_000}]})
            ).status_code == 413
    assert await reservations(bridge.services) == before and await batch_count(bridge.services) == 0


async def test_hostile_items_are_refused_naming_their_field_before_anything_runs_or_is_recorded(
    bridge: RunningBridge,
) -> None:
    # Read with the tools' own item models: nothing a malformed item carries reaches the service or its record.
    reservation_id = await booked(bridge.services)
    before = await reservations(bridge.services)
    hostile: list[tuple[str, str, dict[str, Any]]] = [
        ("/batches/cancel", "requests.0.reservation_id", {"reservation_id": "1; DROP TABLE reservations"}),
        ("/batches/cancel", "requests.0.reservation_id", {"reservation_id": True}),
        ("/batches/cancel", "requests.1.drop", {"drop": 1}),
        ("/batches/reserve", "requests.0.customer_name",
         {"wa_id": SARA, "date": SUNDAY, "time_slot": "13:00", "customer_name": "x" * 900_000}),
        ("/batches/modify", "requests.0.new_type", {"reservation_id": reservation_id, "new_type": -1}),
    ]
    for path, field, bad in hostile:
        items = [bad] if field.startswith("requests.0") else [{"reservation_id": reservation_id}, bad]
        response = await bridge.http.post(path, json={"requests": items})
        assert response.status_code == 422, (path, bad.keys())
        error = response.json()["error"]
        assert error["code"] == "invalid_body" and error["message"].startswith(field + ":"), error
        assert len(response.text) < 1_000
    unknown = await post(bridge, "/batches/cancel", {"requests": [{"reservation_id": reservation_id + 1000}]})
    assert unknown["status"] == "failed" and unknown["items"][0]["error"]["code"] == "reservation_not_found"
    assert await reservations(bridge.services) == before and await batch_count(bridge.services) == 0


async def test_an_unknown_or_undone_batch_is_refused_and_nothing_changes(bridge: RunningBridge) -> None:
    reservation_id = await booked(bridge.services)
    cancelled = await post(bridge, "/batches/cancel", {"requests": [{"reservation_id": reservation_id}]})
    await post(bridge, f"/batches/{cancelled['batch_id']}/undo", {})
    before = await reservations(bridge.services)
    for batch_id in ("no-such-batch", "1;DROP", "x" * 5000):
        read = await bridge.http.get(f"/batches/{batch_id}")
        undone = await bridge.http.post(f"/batches/{batch_id}/undo", json={})
        for response in (read, undone):
            assert response.status_code == 404 and response.json()["error"]["code"] == "batch_not_found"
    twice = await bridge.http.post(f"/batches/{cancelled['batch_id']}/undo", json={})
    assert twice.status_code == 409 and twice.json()["error"] == {
        "code": "batch_already_undone", "message": f"Batch {cancelled['batch_id']} was already undone."}
    unknown = await bridge.http.post(f"/batches/{cancelled['batch_id']}/undo", json={"force": True})
    empty = await bridge.http.post("/batches/no-such-batch/undo", headers={"Content-Type": "application/json"})
    assert (unknown.status_code, empty.status_code) == (422, 404)
    assert await reservations(bridge.services) == before and await batch_count(bridge.services) == 2


async def test_the_history_pages_and_refuses_numbers_that_are_not_counts(bridge: RunningBridge) -> None:
    for n in range(3):
        await post(bridge, "/batches/reserve", {"requests": [{"wa_id": f"96650400000{n}", "date": SUNDAY,
                                                              "time_slot": "11:00"}]})
    page = (await bridge.http.get("/batches", params={"limit": "2", "offset": "1"})).json()
    assert (page["total"], page["offset"], len(page["batches"]), page["next_offset"]) == (3, 1, 2, None)
    far = (await bridge.http.get("/batches", params={"offset": "99999999"})).json()
    assert far["batches"] == [] and far["total"] == 3
    for params in ({"limit": "abc"}, {"limit": "0"}, {"offset": "-1"}, {"limit": "1.5"}, {"limit": "9" * 5000}):
        response = await bridge.http.get("/batches", params=params)
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_parameter", params
