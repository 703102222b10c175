"""The operator API's read side: contacts, search, conversation pages, confirmation answers, health."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.graph_api import RunningBridge, bridge, graph_api  # noqa: F401

CUSTOMER = "966501234567"
AGENT = "12125550123"


async def test_health_answers_ok(bridge: RunningBridge) -> None:
    assert (await bridge.http.get("/health")).json() == {"status": "ok"}


async def test_names_list_the_system_agent_on_a_fresh_database(bridge: RunningBridge) -> None:
    response = await bridge.http.get("/customers/names")
    assert response.status_code == 200
    [agent] = response.json()
    assert (agent["wa_id"], agent["name"], agent["is_system_agent"]) == (AGENT, "Calendar AI Assistant", True)


async def test_names_pin_the_system_agent_before_customers(bridge: RunningBridge) -> None:
    await bridge.services.customers.ensure(CUSTOMER, "Sara")
    await bridge.services.conversations.append(CUSTOMER, "user", "hi")
    names = (await bridge.http.get("/customers/names")).json()
    assert [(c["wa_id"], c["name"]) for c in names] == [(AGENT, "Calendar AI Assistant"), (CUSTOMER, "Sara")]


async def test_search_finds_a_customer_by_name_and_by_digits(bridge: RunningBridge) -> None:
    await bridge.services.customers.ensure(CUSTOMER, "Sara Ahmed")
    by_name = (await bridge.http.get("/customers/search", params={"q": "sara"})).json()
    by_digits = (await bridge.http.get("/customers/search", params={"q": "501234"})).json()
    assert [hit["wa_id"] for hit in by_name] == [CUSTOMER] == [hit["wa_id"] for hit in by_digits]


async def test_search_without_a_query_finds_nothing(bridge: RunningBridge) -> None:
    assert (await bridge.http.get("/customers/search", params={"q": "  "})).json() == []


async def test_a_conversation_is_paged_oldest_first(bridge: RunningBridge) -> None:
    for n in range(5):
        await bridge.services.conversations.append(CUSTOMER, "user", f"m{n}")
    newest = (await bridge.http.get(f"/conversations/{CUSTOMER}", params={"limit": 2})).json()
    assert [m["text"] for m in newest["messages"]] == ["m3", "m4"]
    older = (await bridge.http.get(f"/conversations/{CUSTOMER}",
                                   params={"limit": 2, "before_id": newest["next_before_id"]})).json()
    assert [m["text"] for m in older["messages"]] == ["m1", "m2"]
    oldest = (await bridge.http.get(f"/conversations/{CUSTOMER}",
                                    params={"limit": 2, "before_id": older["next_before_id"]})).json()
    assert ([m["text"] for m in oldest["messages"]], oldest["next_before_id"]) == (["m0"], None)


async def test_the_system_agent_conversation_is_readable(bridge: RunningBridge) -> None:
    await bridge.services.conversations.append(AGENT, "secretary", "status?")
    page = (await bridge.http.get("/conversations/+12125550123")).json()
    assert (page["wa_id"], [m["text"] for m in page["messages"]]) == (AGENT, ["status?"])


async def test_a_conversation_of_an_invalid_number_is_refused(bridge: RunningBridge) -> None:
    response = await bridge.http.get("/conversations/123")
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_wa_id")


async def test_a_page_cursor_that_is_not_a_number_is_refused(bridge: RunningBridge) -> None:
    response = await bridge.http.get(f"/conversations/{CUSTOMER}", params={"before_id": "abc"})
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_parameter")


async def test_an_answer_to_an_unknown_confirmation_is_not_found(bridge: RunningBridge) -> None:
    response = await bridge.http.post("/confirmations/c-2", json={"accept": True})
    assert (response.status_code, response.json()["error"]["code"]) == (404, "confirmation_not_found")


async def test_an_answer_that_is_not_a_boolean_is_refused(bridge: RunningBridge) -> None:
    response = await bridge.http.post("/confirmations/c-1", json={"accept": "yes"})
    assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_answer")


async def test_an_operator_blocks_and_favourites_a_customer(bridge: RunningBridge) -> None:
    await bridge.services.customers.ensure(CUSTOMER, "Sara")
    blocked = await bridge.http.patch(f"/customers/+{CUSTOMER}", json={"blocked": True})
    favourite = await bridge.http.patch(f"/customers/{CUSTOMER}", json={"favorite": True, "blocked": False})
    assert blocked.status_code == favourite.status_code == 200
    assert (blocked.json()["is_blocked"], blocked.json()["is_favorite"]) == (True, False)
    assert (favourite.json()["is_blocked"], favourite.json()["is_favorite"]) == (False, True)
    assert await bridge.services.customers.is_blocked(CUSTOMER) is False


@pytest.mark.parametrize("body", [{}, {"blocked": "yes"}, {"blocked": 1}, {"blocked": True, "name": "x"},
                                  {"favorite": None}, {"blocked": "x" * 1_000_000}])
async def test_flags_that_are_not_booleans_change_nothing(bridge: RunningBridge, body: dict[str, Any]) -> None:
    await bridge.services.customers.ensure(CUSTOMER, "Sara")
    response = await bridge.http.patch(f"/customers/{CUSTOMER}", json=body)
    assert response.json()["error"]["code"] in ("invalid_flags", "request_too_large")
    assert response.status_code in (422, 413)
    assert await bridge.services.customers.is_blocked(CUSTOMER) is False


async def test_flags_of_an_unknown_customer_are_not_found(bridge: RunningBridge) -> None:
    response = await bridge.http.patch("/customers/966509999999", json={"blocked": True})
    assert (response.status_code, response.json()) == (404, {"error": {"code": "customer_not_found",
                                                                        "message": "No customer with that number."}})
