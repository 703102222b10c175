"""The operators' waitlist endpoints as the served app answers them, on SQLite and PostgreSQL: list, add (or update),
remove; the domain's refusals as 4xx; another site's page and a caller without the operator's token refused with
nothing written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from domain.services import Services
from domain.storage.models import WaitlistEntry
from tests.fakes.graph_api import (FakeGraphApi, RunningBridge, bridge, bridge_settings, graph_api,  # noqa: F401
                                   running_bridge)

SARA, OMAR = "966501234567", "966502222222"
SUNDAY, MONDAY = "2026-12-06", "2026-12-07"  # the fixed clock's today is Tuesday 2026-12-01


async def entries(services: Services) -> list[tuple[str, str, str]]:
    async with services.db.reading() as session:
        rows = await session.scalars(select(WaitlistEntry).order_by(WaitlistEntry.id))
        return [(r.wa_id, r.status, r.author) for r in rows]


async def test_an_operator_adds_lists_updates_and_removes_entries(bridge: RunningBridge) -> None:
    added = await bridge.http.post("/waitlist", json={"wa_id": "+966 50 123 4567", "start_date": SUNDAY,
                                                      "end_date": MONDAY, "times": ["11:00"], "type": 0,
                                                      "customer_name": "Sara"})
    assert added.status_code == 201, added.text
    entry = added.json()["entry"]
    assert (entry["wa_id"], entry["customer_name"], entry["times"], entry["type_name"], entry["author"]) == (
        SARA, "Sara", ["11:00"], "Check-up", "operator")
    updated = await bridge.http.post("/waitlist", json={"wa_id": SARA, "start_date": MONDAY, "end_date": MONDAY})
    assert (updated.status_code, updated.json()["action"], updated.json()["entry"]["id"]) == (200, "updated",
                                                                                              entry["id"])
    await bridge.services.waitlist.join(OMAR, SUNDAY, SUNDAY, author="customer")
    listed = (await bridge.http.get("/waitlist")).json()
    assert [(e["wa_id"], e["start_date"]) for e in listed["entries"]] == [(OMAR, SUNDAY), (SARA, MONDAY)]
    assert listed["timezone"] == "Asia/Riyadh"  # (Sunday has room: the worker may already be offering it)
    assert [e["wa_id"] for e in (await bridge.http.get(f"/waitlist?wa_id={OMAR}")).json()["entries"]] == [OMAR]
    removed = await bridge.http.delete(f"/waitlist/{entry['id']}")
    assert (removed.status_code, removed.json()["removed"]["status"]) == (200, "removed")
    again = await bridge.http.delete(f"/waitlist/{entry['id']}")
    assert (again.status_code, again.json()["error"]["code"]) == (404, "waitlist_entry_not_found")
    everything = (await bridge.http.get("/waitlist?status=all")).json()["entries"]
    assert sorted(e["status"] for e in everything) == ["removed", "waiting"]
    assert await entries(bridge.services) == [(SARA, "removed", "operator"), (OMAR, "waiting", "customer")]


async def test_wrong_or_hostile_requests_are_refused_and_nothing_is_written(bridge: RunningBridge) -> None:
    cases: list[tuple[Any, int, str]] = [
        ({"wa_id": SARA, "start_date": "2026-11-01", "end_date": SUNDAY}, 422, "waitlist_past"),
        ({"wa_id": SARA, "start_date": MONDAY, "end_date": SUNDAY}, 422, "invalid_range"),
        ({"wa_id": SARA, "start_date": SUNDAY, "end_date": "2027-12-01"}, 422, "range_too_long"),
        ({"wa_id": SARA, "start_date": SUNDAY, "end_date": SUNDAY, "times": ["10:30"]}, 422, "waitlist_time_not_slot"),
        ({"wa_id": SARA, "start_date": SUNDAY, "end_date": SUNDAY, "type": 9}, 422, "invalid_type"),
        ({"wa_id": "12", "start_date": SUNDAY, "end_date": SUNDAY}, 422, "invalid_wa_id"),
        ({"wa_id": SARA, "start_date": "2026-12-04", "end_date": "2026-12-04"}, 409, "waitlist_no_open_day"),
        ({"wa_id": SARA, "start_date": SUNDAY, "end_date": SUNDAY, "author": "customer"}, 422, "invalid_body"),
        ({"wa_id": SARA, "start_date": SUNDAY, "end_date": SUNDAY, "type": True}, 422, "invalid_body"),
        ({"wa_id": SARA, "start_date": SUNDAY * 10, "end_date": SUNDAY}, 422, "invalid_body"),
        ([1, 2], 400, "invalid_json"),
    ]
    for body, status, code in cases:
        answer = await bridge.http.post("/waitlist", json=body)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), (body, answer.text)
    await bridge.services.customers.ensure(OMAR)
    await bridge.services.customers.set_flags(OMAR, blocked=True)
    blocked = await bridge.http.post("/waitlist", json={"wa_id": OMAR, "start_date": SUNDAY, "end_date": SUNDAY})
    assert (blocked.status_code, blocked.json()["error"]["code"]) == (409, "waitlist_blocked")
    wrong = await bridge.http.get("/waitlist?status=everything")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (422, "invalid_parameter")
    assert (await bridge.http.delete("/waitlist/not-a-number")).status_code == 404
    assert await entries(bridge.services) == []


async def test_another_sites_page_cannot_add_or_remove(bridge: RunningBridge) -> None:
    kept = (await bridge.services.waitlist.join(SARA, SUNDAY, SUNDAY, author="customer")).entry
    elsewhere = {"Origin": "http://127.0.0.1:1"}
    added = await bridge.http.post("/waitlist", json={"wa_id": OMAR, "start_date": SUNDAY, "end_date": SUNDAY},
                                   headers=elsewhere)
    removed = await bridge.http.delete(f"/waitlist/{kept.id}", headers=elsewhere)
    assert [(r.status_code, r.json()["error"]["code"]) for r in (added, removed)] == [
        (403, "invalid_origin"), (403, "invalid_origin")]
    assert await entries(bridge.services) == [(SARA, "waiting", "customer")]


async def test_without_the_operators_token_nothing_is_listed_or_written(services: Services,
                                                                       graph_api: FakeGraphApi) -> None:  # noqa: F811
    settings = bridge_settings(graph_api, operator_token="operator-secret")
    async with running_bridge(services, graph_api, settings=settings) as running:
        listed = await running.http.get("/waitlist")
        added = await running.http.post("/waitlist", json={"wa_id": SARA, "start_date": SUNDAY, "end_date": SUNDAY})
        assert [listed.status_code, added.status_code] == [401, 401]
        allowed = await running.http.post("/waitlist", json={"wa_id": SARA, "start_date": SUNDAY, "end_date": SUNDAY},
                                          headers={"Authorization": "Bearer operator-secret"})
        assert allowed.status_code == 201
    assert await entries(services) == [(SARA, "waiting", "operator")]
