"""The operators' calendar endpoints refuse a name or a title that hides a character, saying which, and change
nothing (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.fakes.graph_api import RunningBridge, bridge, graph_api  # noqa: F401

CUSTOMER = "966501234567"


@pytest.mark.parametrize(("hidden", "named"), [("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
                                               ("\u200b", "U+200B ZERO WIDTH SPACE"), ("\n", "U+000A")])
async def test_a_booking_whose_name_hides_a_character_is_refused_naming_it(
    bridge: RunningBridge, hidden: str, named: str
) -> None:
    response = await bridge.http.post("/reservations", json={
        "wa_id": CUSTOMER, "date": "2026-12-06", "time_slot": "11:00", "customer_name": f"Sara{hidden}Khan"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_name_character" and named in error["message"]
    assert await bridge.services.reservations.customer_reservations(CUSTOMER) == []
    assert await bridge.services.customers.get(CUSTOMER) is None


async def test_a_closure_whose_title_hides_a_character_is_refused_naming_it(bridge: RunningBridge) -> None:
    response = await bridge.http.post("/closures", json={"start_date": "2026-12-20", "title": "Winter\u2066 break"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_name_character"
    assert "U+2066 LEFT-TO-RIGHT ISOLATE" in response.json()["error"]["message"]
    assert (await bridge.http.get("/closures")).json() == {"closures": []}


async def test_an_arabic_name_with_its_diacritics_is_booked_as_written(bridge: RunningBridge) -> None:
    response = await bridge.http.post("/reservations", json={
        "wa_id": CUSTOMER, "date": "2026-12-06", "time_slot": "11:00", "customer_name": "مُحَمَّد العَتِيبِي"})
    assert response.status_code == 201, response.text
    customer = await bridge.services.customers.get(CUSTOMER)
    assert customer is not None and customer.name == "مُحَمَّد العَتِيبِي"
