"""Every change signed by its author, through the app as `calendar-agent serve` builds it (on SQLite and
PostgreSQL): a booking made and moved from the console by a signed-in operator, moved again by the agent answering
her, cancelled by the customer through their assistant's own tools; the booking's history, the batch history and the
dashboard name each author, and the audit log keeps each change, and an agent's call its person may not make."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.server import MCPServer
from sqlalchemy import func, select

from chat_bridge.agent.acting import acting_for
from domain.services import Services
from domain.staff.roles import Principal, Role
from domain.storage.models import Reservation
from mcp_server.customer_server import build_customer_server
from mcp_server.system_server import build_system_server
from tests.conftest import FixedClock
from tests.fakes.graph_api import RunningBridge, bridge, graph_api  # noqa: F401

PASSWORD = "correct horse battery"
SARA, OMAR = "966501234567", "966502222222"
SUNDAY = "2026-12-06"
AMAL, VERA = Principal("amal", Role.OPERATOR), Principal("vera", Role.VIEWER)


@pytest.fixture
async def staffed(services: Services, bridge: RunningBridge) -> RunningBridge:  # noqa: F811
    """The bridge of a clinic with an operator (Amal Saeed) and a viewer, and a customer on record."""
    await services.staff.add("amal", "operator", PASSWORD, "Amal Saeed")
    await services.staff.add("vera", "viewer", PASSWORD, "Vera")
    await services.customers.ensure(SARA, "Sara Khan")
    return bridge



def system_server(services: Services) -> MCPServer:
    """The system agent's tools over the app's own services, as `serve` builds them."""
    return build_system_server(services, services.batch, services.queries)


async def session_of(bridge: RunningBridge, username: str) -> dict[str, str]:
    """The cookie header of a fresh session of `username` (the client itself keeps no cookie)."""
    response = await bridge.http.post("/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    bridge.http.cookies.clear()
    return {"Cookie": f"calendar_session={response.cookies['calendar_session']}"}


async def answered(response: httpx2.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def audited(services: Services) -> list[tuple[str, str | None, str, str | None, str]]:
    """The audit log's lines of changes and refused tool calls, newest first."""
    return [(line.actor, line.role, line.action, line.target, line.outcome) for line in await services.audit.recent()
            if line.action.startswith(("batch ", "reservation ", "tool "))]


async def test_each_change_of_a_booking_is_listed_with_its_author(staffed: RunningBridge, services: Services,
                                                                  clock: FixedClock) -> None:
    amal = await session_of(staffed, "amal")
    made = await answered(await staffed.http.post("/batches/reserve", headers=amal, json={
        "requests": [{"wa_id": SARA, "date": SUNDAY, "time_slot": "11:00"}]}))
    reservation = made["items"][0]["reservation_id"]
    clock.now += timedelta(minutes=1)
    moved = await answered(await staffed.http.post("/batches/modify", headers=amal, json={
        "requests": [{"reservation_id": reservation, "new_time": "13:00"}]}))
    clock.now += timedelta(minutes=1)
    with acting_for(AMAL):
        async with Client(system_server(services)) as agent:
            by_agent = await agent.call_tool("system_batch_modify", {
                "requests": [{"reservation_id": reservation, "new_time": "15:00"}]})
    clock.now += timedelta(minutes=1)
    async with Client(build_customer_server(services, SARA)) as assistant:
        cancelled = await assistant.call_tool("cancel_reservation", {"reservation_id": reservation})
    assert not by_agent.is_error and not cancelled.is_error, (by_agent.content, cancelled.content)
    agents_batch = (by_agent.structured_content or {})["batch_id"]

    vera = await session_of(staffed, "vera")  # a viewer reads a booking's history
    history = await answered(await staffed.http.get(f"/reservations/{reservation}/history", headers=vera))
    assert [(e["action"], e["by"], e["author"], e["author_name"], e["time_slot"], e["batch_id"])
            for e in history["events"]] == [
        ("created", "operator", "amal", "Amal Saeed", "11:00", made["batch_id"]),
        ("moved", "operator", "amal", "Amal Saeed", "13:00", moved["batch_id"]),
        ("moved", "agent", "amal", "Amal Saeed", "15:00", agents_batch),
        ("cancelled", "customer", SARA, "Sara Khan", "15:00", None)]

    listed = await answered(await staffed.http.get("/batches", headers=vera))
    assert [(b["by"], b["author"], b["author_name"], b["tool"]) for b in listed["batches"]] == [
        ("agent", "amal", "Amal Saeed", "system_batch_modify"),
        ("operator", "amal", "Amal Saeed", "system_batch_modify"),
        ("operator", "amal", "Amal Saeed", "system_batch_reserve")]

    figures = await answered(await staffed.http.get("/dashboard", headers=vera, params={"start": "2026-12-01"}))
    assert [(p["by"], p["author_name"], p["batches"], p["changes"]) for p in figures["activity"]["people"]] == [
        ("operator", "Amal Saeed", {"system_batch_reserve": 1, "system_batch_modify": 1}, 0),
        ("agent", "Amal Saeed", {"system_batch_modify": 1}, 0),
        ("customer", None, {}, 1)]

    assert await audited(services) == [
        (f"customer:{SARA}", None, "reservation cancelled", str(reservation), "ok"),
        ("agent:amal", "operator", "batch system_batch_modify", agents_batch, "ok"),
        ("operator:amal", "operator", "batch system_batch_modify", moved["batch_id"], "ok"),
        ("operator:amal", "operator", "batch system_batch_reserve", made["batch_id"], "ok")]


async def test_a_booking_from_the_calendar_is_signed_by_the_operator_who_made_it(staffed: RunningBridge,
                                                                                 services: Services) -> None:
    amal = await session_of(staffed, "amal")
    booked = await answered(await staffed.http.post("/reservations", headers=amal, json={
        "wa_id": OMAR, "date": SUNDAY, "time_slot": "11:00", "customer_name": "Omar"}), 201)
    reservation = booked["reservation"]["id"]

    history = await answered(await staffed.http.get(f"/reservations/{reservation}/history", headers=amal))
    assert [(e["action"], e["by"], e["author_name"], e["batch_id"]) for e in history["events"]] == [
        ("created", "operator", "Amal Saeed", None)]
    assert await audited(services) == [("operator:amal", "operator", "reservation created", str(reservation), "ok")]
    missing = await staffed.http.get("/reservations/999999/history", headers=amal)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "reservation_not_found")


async def test_an_agent_call_its_person_may_not_make_is_refused_and_kept_in_the_audit_log(
        staffed: RunningBridge, services: Services) -> None:
    reservation = (await services.reservations.reserve(SARA, SUNDAY, "11:00")).reservation
    assert reservation is not None
    with acting_for(VERA):
        async with Client(system_server(services)) as agent:
            refused = await agent.call_tool("system_batch_cancel", {"requests": [{"reservation_id": reservation.id}]})

    assert refused.is_error
    assert ("agent:vera", "viewer", "tool system_batch_cancel", "system_batch_cancel", "refused") in \
        await audited(services)
    async with services.db.reading() as session:
        active = await session.scalar(select(func.count()).select_from(Reservation)
                                      .where(Reservation.status == "active"))
    assert active == 1
