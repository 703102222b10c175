"""Recall as the served app answers it: `system_find_customers` at /mcp over generated histories, each query
paged to the end and compared with a brute-force computation of the same rule in Python; and a recall as the
target set of `system_message_customers`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from mcp import Client

from domain.config import ClinicConfig
from domain.storage.models import Reservation
from domain.rules.planning import ACTIVE, CANCELLED
from domain.services import Services
from tests.fakes.graph_api import RunningBridge, bridge, graph_api  # noqa: F401
from tests.fakes.histories import History, generated


def expected(histories: list[History], config: ClinicConfig, recall: dict[str, Any]) -> list[str]:
    types = set(recall["reservation_types"]) if "reservation_types" in recall else None
    rows = [h.figures(config, types) for h in histories]
    checks: dict[str, Callable[[dict[str, Any], Any], bool]] = {
        "last_visit_before": lambda r, v: r["last_visit"] is not None and r["last_visit"] < date.fromisoformat(v),
        "last_visit_after": lambda r, v: r["last_visit"] is not None and r["last_visit"] > date.fromisoformat(v),
        "upcoming": lambda r, v: (r["next_booking"] is not None) == v,
        "min_visits": lambda r, v: r["visits"] >= v, "max_visits": lambda r, v: r["visits"] <= v,
        "min_cancellations": lambda r, v: r["cancellations"] >= v, "reservation_types": lambda r, v: True,
        "sort": lambda r, v: True,
    }
    matching = [r for r in rows if all(checks[k](r, v) for k, v in recall.items())]
    sort = recall.get("sort", "last_visit")
    keys: dict[str, Callable[[dict[str, Any]], Any]] = {
        "last_visit": lambda r: (r["last_visit"] is None, r["last_visit"] or date.min, r["wa_id"]),
        "-last_visit": lambda r: (r["last_visit"] is None, -(r["last_visit"] or date.min).toordinal(), r["wa_id"]),
        "visits": lambda r: (-r["visits"], r["wa_id"]), "cancellations": lambda r: (-r["cancellations"], r["wa_id"]),
        "name": lambda r: (r["name"] is None, r["name"] or "", r["wa_id"]),
    }
    return [r["wa_id"] for r in sorted(matching, key=keys[sort])]


async def paged(client: Client, recall: dict[str, Any]) -> tuple[list[list[Any]], list[str]]:
    """Every row of every page (7 a page), and each page's text."""
    rows: list[list[Any]] = []
    texts, cursor = [], None
    while True:
        arguments: dict[str, Any] = {"recall": recall, "max_results": 7, **({"cursor": cursor} if cursor else {})}
        result = await client.call_tool("system_find_customers", arguments)
        assert result.is_error is False, result.content
        data = result.structured_content or {}
        rows += data["customers"]["rows"]
        texts.append(result.content[0].text)  # type: ignore[union-attr]
        cursor = data.get("next_cursor")
        if not cursor:
            return rows, texts


QUERIES = [
    {"last_visit_before": "2026-03-01", "upcoming": False},
    {"last_visit_after": "2026-06-01"},
    {"min_visits": 3},
    {"max_visits": 0},
    {"min_cancellations": 2, "sort": "cancellations"},
    {"reservation_types": [1], "min_visits": 1, "sort": "-last_visit"},
    {"upcoming": True, "sort": "name"},
    {"upcoming": False, "last_visit_after": "2026-02-01", "last_visit_before": "2026-09-01", "sort": "visits"},
]


@pytest.mark.parametrize("recall", QUERIES, ids=[str(q) for q in QUERIES])
async def test_each_recall_finds_exactly_the_customers_a_brute_force_finds_in_order(
        services: Services, bridge: RunningBridge, recall: dict[str, Any]) -> None:  # noqa: F811
    histories = await generated(services)
    async with Client(f"{bridge.url}/mcp") as client:
        rows, texts = await paged(client, recall)
    want = expected(histories, services.config, recall)
    assert [r[0] for r in rows] == want and want  # every generated query matches someone
    figures = {h.wa_id: h.figures(services.config, set(recall.get("reservation_types", [])) or None)
               for h in histories}
    for wa_id, _, last_visit, visits, cancellations, next_booking in rows:
        truth = figures[wa_id]
        assert (last_visit, visits, cancellations, next_booking) == (
            truth["last_visit"] and truth["last_visit"].isoformat(), truth["visits"], truth["cancellations"],
            truth["next_booking"] and truth["next_booking"].isoformat())
    assert texts[0].startswith(f"{len(want)} customer(s) match")


async def test_a_recall_line_names_the_customer_the_last_visit_in_both_calendars_and_the_counts(
        services: Services, bridge: RunningBridge) -> None:  # noqa: F811
    await services.customers.ensure("966501234567", "Omar Haddad")
    async with services.db.unit_of_work() as session:
        session.add_all([Reservation(wa_id="966501234567", date=date(2026, 2, 15), time_slot="11:00", status=ACTIVE),
                         Reservation(wa_id="966501234567", date=date(2026, 4, 5), time_slot="13:00",
                                     status=CANCELLED)])
    async with Client(f"{bridge.url}/mcp") as client:
        result = await client.call_tool("system_find_customers", {
            "recall": {"last_visit_before": "2026-03-01", "upcoming": False}})
    text = result.content[0].text  # type: ignore[union-attr]
    assert '"Omar Haddad"|966501234567|Sun 2026-02-15 (1447-08-27)|1|1|-' in text
    assert "system_message_customers with recall" in text


async def test_a_recall_is_the_target_set_of_a_message(services: Services,
                                                       bridge: RunningBridge) -> None:  # noqa: F811
    histories = await generated(services)
    recall = {"last_visit_before": "2026-03-01", "upcoming": False}
    async with Client(f"{bridge.url}/mcp") as client:
        result = await client.call_tool("system_message_customers", {
            "text": "We miss you: book your follow-up.", "recall": recall, "dry_run": True})
        refused = await client.call_tool("system_message_customers", {
            "text": "Hello", "recall": recall, "wa_ids": [histories[0].wa_id]})
    data = result.structured_content or {}
    assert data["status"] == "dry_run"
    assert data["summary"]["ok"] == len(expected(histories, services.config, recall))
    assert refused.is_error is True and "wa_ids, a date range or recall" in refused.content[0].text  # type: ignore[union-attr]


async def test_a_cursor_for_other_criteria_is_refused_with_a_sentence(services: Services,
                                                                      bridge: RunningBridge) -> None:  # noqa: F811
    await generated(services)
    async with Client(f"{bridge.url}/mcp") as client:
        first = await client.call_tool("system_find_customers", {"recall": {"min_visits": 0}, "max_results": 5})
        cursor = (first.structured_content or {})["next_cursor"]
        other = await client.call_tool("system_find_customers", {"recall": {"min_visits": 1}, "cursor": cursor})
        forged = await client.call_tool("system_find_customers", {"recall": {"min_visits": 0}, "cursor": "AAAA"})
    assert other.is_error is True and "other criteria" in other.content[0].text  # type: ignore[union-attr]
    assert forged.is_error is True and "not one this tool returned" in forged.content[0].text  # type: ignore[union-attr]
