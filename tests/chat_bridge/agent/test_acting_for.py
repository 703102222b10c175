"""The system agent acts for the staff member who asked, with their role as it is when the turn runs: through
`calendar-agent serve` with staff accounts, each person signed in with their own session cookie, the fake model on
loopback and the real database (SQLite, then PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from calendar_agent.bootstrap.serve import build_service_app
from chat_bridge.principals import SESSION_COOKIE
from domain.services import Services
from domain.storage.models import BatchRecord, Reservation
from tests.fakes.graph_api import FakeGraphApi, bridge_settings, graph_api  # noqa: F401 (fixture)
from tests.fakes.llm import Call, Hold, Reply, ScriptedLLM
from tests.fakes.loopback import serve_on_loopback

AGENT = "12125550123"  # the operators' chat with the system agent
PASSWORD = "a passphrase long enough"
CUSTOMER = "966501110011"
SUNDAY = "2026-12-06"
# The core tools that change the calendar: listed to an operator, never to a viewer.
WRITES = frozenset({"system_batch_reserve", "system_batch_modify", "system_batch_cancel", "system_undo_batch",
                    "system_mark_attendance"})
TURN_SECONDS = 20.0  # a bound on one turn, not a pause


@dataclass
class Person:
    """A staff member signed in to the console: their session cookie on every request and on the sidebar."""

    username: str
    http: httpx2.AsyncClient
    cookie: str
    ws_url: str

    async def say(self, text: str) -> int:
        """Write to the system agent as the console does: the stored message's id."""
        response = await self.http.post("/whatsapp/message", json={"wa_id": AGENT, "message": text})
        assert response.status_code == 202, response.text
        return int(response.json()["message"]["id"])

    @contextlib.asynccontextmanager
    async def sidebar(self) -> AsyncIterator[ClientConnection]:
        async with connect(self.ws_url, additional_headers={"Cookie": self.cookie}) as socket:
            yield socket


@dataclass
class Clinic:
    url: str
    services: Services
    llm: ScriptedLLM
    stack: contextlib.AsyncExitStack

    async def person(self, username: str, role: str) -> Person:
        """A new account of `role`, signed in: its session's cookie, as the sign-in endpoint sets it."""
        await self.services.staff.add(username, role, PASSWORD)
        secret = await self.services.sessions.begin(await self.services.staff.sign_in(username, PASSWORD, None))
        cookie = f"{SESSION_COOKIE}={secret}"
        http = await self.stack.enter_async_context(
            httpx2.AsyncClient(base_url=self.url, timeout=30, headers={"Cookie": cookie}))
        return Person(username, http, cookie, "ws" + self.url.removeprefix("http") + "/ws")


@pytest.fixture
async def clinic(services: Services, graph_api: FakeGraphApi, llm: ScriptedLLM) -> AsyncIterator[Clinic]:  # noqa: F811
    """`build_service_app` as `calendar-agent serve` runs it, with the real system MCP tools inside."""
    app = build_service_app(bridge_settings(graph_api, **llm.settings_overrides()), services=services)
    async with serve_on_loopback(app) as url, contextlib.AsyncExitStack() as stack:
        yield Clinic(url, services, llm, stack)


async def answer_to(sidebar: ClientConnection, message_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The agent's reply answering the message `message_id`, as the sidebar receives it, and the operators' chat
    rows that came before it."""
    rows: list[dict[str, Any]] = []
    async with asyncio.timeout(TURN_SECONDS):
        while True:
            event = json.loads(await sidebar.recv())
            if event["type"] != "conversation_new_message" or event["wa_id"] != AGENT:
                continue
            message = event["message"]
            if message["role"] == "assistant" and message_id in (message["meta"] or {}).get("answers", []):
                return message, rows
            rows.append(message)


async def booked(services: Services) -> int:
    await services.customers.ensure(CUSTOMER, "Yousef Al-Amri")
    result = await services.reservations.reserve(CUSTOMER, SUNDAY, "11:00")
    assert result.reservation is not None
    return result.reservation.id


def cancel(reservation_id: int) -> Call:
    return Call("system_batch_cancel", {"requests": [{"reservation_id": reservation_id}]})


async def status_of(services: Services, reservation_id: int) -> str:
    async with services.db.reading() as session:
        return str(await session.scalar(select(Reservation.status).where(Reservation.id == reservation_id)))


async def batch_actors(services: Services) -> list[str]:
    async with services.db.reading() as session:
        return list(await session.scalars(select(BatchRecord.actor)))


async def test_an_operators_request_is_carried_out_and_signed_by_the_agent_for_them(clinic: Clinic) -> None:
    booking = await booked(clinic.services)
    amal = await clinic.person("amal", "operator")
    clinic.llm.script(Reply(calls=(cancel(booking),)), Reply("Cancelled Yousef's Sunday booking."))

    async with amal.sidebar() as sidebar:
        reply, _ = await answer_to(sidebar, await amal.say("Cancel Yousef's booking on Sunday"))

    assert reply["text"] == "Cancelled Yousef's Sunday booking."
    assert await status_of(clinic.services, booking) == "cancelled"
    assert await batch_actors(clinic.services) == ["agent:amal"]
    assert "system_batch_cancel" in clinic.llm.seen[0].tools
    assert clinic.llm.seen[0].system.endswith("\nYou act for amal, an operator.")


async def test_a_viewers_agent_is_given_no_write_tool_and_its_cancel_is_refused_naming_the_role(
        clinic: Clinic) -> None:
    booking = await booked(clinic.services)
    huda = await clinic.person("huda", "viewer")
    clinic.llm.script(Reply(calls=(cancel(booking),)), Reply("As a viewer you can read the calendar, not change it."))

    async with huda.sidebar() as sidebar:
        reply, rows = await answer_to(sidebar, await huda.say("Cancel Yousef's booking on Sunday"))

    listed = clinic.llm.seen[0].tools
    assert "system_get_reservations" in listed and not WRITES & set(listed)
    refused = clinic.llm.seen[1].last_result
    assert "huda, a viewer, who reads the calendar but does not change it" in refused
    [tool_row] = [row for row in rows if row["role"] == "tool"]
    assert tool_row["meta"]["is_error"] is True and tool_row["meta"]["result"] in refused
    assert reply["text"] == "As a viewer you can read the calendar, not change it."
    assert await status_of(clinic.services, booking) == "active"
    assert await batch_actors(clinic.services) == []


async def test_the_console_names_who_wrote_each_message_to_the_agent(clinic: Clinic) -> None:
    amal = await clinic.person("amal", "operator")
    clinic.llm.script(Reply("Hello."))

    async with amal.sidebar() as sidebar:
        await answer_to(sidebar, await amal.say("Hello"))
    page = (await amal.http.get(f"/conversations/{AGENT}")).json()["messages"]

    assert page[0]["meta"]["author"] == {"username": "amal", "via": "staff"}


async def held_turn(clinic: Clinic, person: Person) -> Hold:
    """A turn of the agent that `person` started and the model holds: what is written meanwhile waits for the
    next turn, which answers all of it at once."""
    hold = Hold(Reply("Hello."))
    clinic.llm.script(hold)
    await person.say("Hello")
    await hold.wait_until_asked()
    return hold


async def test_a_burst_of_a_viewer_and_an_operator_acts_for_the_viewer_even_when_the_operator_wrote_last(
        clinic: Clinic) -> None:
    booking = await booked(clinic.services)
    amal, huda = await clinic.person("amal", "operator"), await clinic.person("huda", "viewer")
    hold = await held_turn(clinic, amal)
    await huda.say("Cancel Yousef's booking on Sunday")
    last = await amal.say("And what is on Monday?")
    clinic.llm.script(Reply(calls=(cancel(booking),)), Reply("Nothing was cancelled; Monday is free."))

    async with amal.sidebar() as sidebar:
        hold.release.set()
        reply, _ = await answer_to(sidebar, last)

    burst = clinic.llm.seen[1]
    assert not WRITES & set(burst.tools) and burst.system.endswith("You act for huda, a viewer: they read the "
                                                                    "calendar but may not change it.")
    assert "huda, a viewer" in clinic.llm.seen[2].last_result
    assert reply["text"] == "Nothing was cancelled; Monday is free."
    assert await status_of(clinic.services, booking) == "active"
    assert await batch_actors(clinic.services) == []


async def test_a_queued_message_of_an_account_disabled_meanwhile_is_answered_with_a_refusal_and_nothing_runs(
        clinic: Clinic) -> None:
    booking = await booked(clinic.services)
    sami, amal = await clinic.person("sami", "admin"), await clinic.person("amal", "operator")
    hold = await held_turn(clinic, sami)
    waiting = await amal.say("Cancel Yousef's booking on Sunday")
    await clinic.services.staff.disable("amal")

    async with sami.sidebar() as sidebar:
        hold.release.set()
        reply, rows = await answer_to(sidebar, waiting)

    assert reply["text"].startswith("I did nothing: amal no longer has an enabled staff account")
    assert len(clinic.llm.bodies) == 1  # the held turn's request only: the refused turn asked no model
    assert [row for row in rows if row["role"] == "tool"] == []
    assert await status_of(clinic.services, booking) == "active"


async def test_a_role_lowered_while_the_message_waits_is_the_role_the_turn_acts_with(clinic: Clinic) -> None:
    booking = await booked(clinic.services)
    sami, amal = await clinic.person("sami", "admin"), await clinic.person("amal", "operator")
    hold = await held_turn(clinic, sami)
    waiting = await amal.say("Cancel Yousef's booking on Sunday")
    await clinic.services.staff.set_role("amal", "viewer")
    clinic.llm.script(Reply(calls=(cancel(booking),)), Reply("You may only read the calendar now."))

    async with sami.sidebar() as sidebar:
        hold.release.set()
        await answer_to(sidebar, waiting)

    assert "amal, a viewer" in clinic.llm.seen[2].last_result
    assert await status_of(clinic.services, booking) == "active"
