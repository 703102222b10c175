"""Every message answered once, the way people really write: operators who add a line while the agent works
(or while it waits for their confirmation), customers who write in bursts, WhatsApp redelivering mid-burst.

The service is `calendar-agent serve`'s app over the test database, behind a scripted model whose `Hold` step
keeps a turn running until the test has written what arrives meanwhile. The clinic's clock is the tests' fixed
clock: a customer's quiet period passes only when the test moves it, so a burst is over, by construction, before
any turn could start.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from websockets.asyncio.client import ClientConnection

from calendar_agent.bootstrap.serve import build_service_app
from domain.workers.jobs import AgentJobs
from domain.services import Services
from tests.acceptance.support import AGENT, SUNDAY, TUESDAY, Clinic, fill, is_confirmation, roles
from tests.conftest import FixedClock
from tests.fakes.graph_api import FakeGraphApi, bridge_settings, inbound, signed
from tests.fakes.llm import Call, Hold, Reply, Respond, ScriptedLLM, SeenRequest
from tests.fakes.loopback import serve_on_loopback

CUSTOMER = "966501234567"
QUIET, MOST = 1.5, 6.0
SETTLE_SECONDS = 20.0  # a bound on the queue emptying, not a pause


@pytest.fixture
async def bursty(services: Services, graph_api: FakeGraphApi, llm: ScriptedLLM) -> AsyncIterator[Clinic]:
    """The service with the customers' quiet period as shipped (1.5 s, at most 6 s)."""
    settings = bridge_settings(graph_api, customer_quiet_seconds=QUIET, customer_quiet_max_seconds=MOST,
                               **llm.settings_overrides())
    app = build_service_app(settings, services=services)
    async with serve_on_loopback(app) as url, httpx2.AsyncClient(base_url=url, timeout=30) as http:
        yield Clinic(url, http, services, llm)


async def operator_says(clinic: Clinic, text: str) -> None:
    response = await clinic.http.post("/whatsapp/message", json={"wa_id": AGENT, "message": text})
    assert response.status_code == 202, response.text


async def customer_writes(clinic: Clinic, text: str, message_id: str) -> None:
    body, headers = signed(inbound(CUSTOMER, message_id, text=text))
    response = await clinic.http.post("/webhook", content=body, headers=headers)
    assert response.status_code == 200, response.text


async def settled(services: Services) -> None:
    """Until no agent turn is queued or running."""
    jobs = AgentJobs(services.db, services.clock)
    async with asyncio.timeout(SETTLE_SECONDS):
        while (depth := await jobs.depth()).queued + depth.running:
            await asyncio.sleep(0.02)


async def rows(clinic: Clinic, wa_id: str) -> list[dict[str, Any]]:
    response = await clinic.http.get(f"/conversations/{wa_id}", params={"limit": 500})
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


async def until(clinic: Clinic, wa_id: str, holds: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    """The conversation once `holds` is true of it (a bound, not a pause)."""
    async with asyncio.timeout(SETTLE_SECONDS):
        while not holds(chat := await rows(clinic, wa_id)):
            await asyncio.sleep(0.02)
    return chat


def answers(row: dict[str, Any]) -> list[int]:
    found: list[int] = (row.get("meta") or {}).get("answers", [])
    return found


def saw_last(*texts: tuple[str, str]) -> Respond:
    """A model that answers only when the conversation it was sent ends with `texts`."""
    def decide(seen: SeenRequest) -> Reply:
        assert seen.texts[-len(texts):] == list(texts), seen.texts
        return Reply(f"Answered: {texts[-1][1]}")
    return Respond(decide)


async def test_an_operator_line_written_while_the_agent_works_is_answered_next_after_its_reply(
    clinic: Clinic,
) -> None:
    hold = Hold(Reply("Tomorrow has 3 bookings."))
    clinic.llm.script(hold, saw_last(("user", "What is booked tomorrow?"), ("assistant", "Tomorrow has 3 bookings."),
                                     ("user", "Also cancel Fahad's booking.")))

    await operator_says(clinic, "What is booked tomorrow?")
    await hold.wait_until_asked()
    await operator_says(clinic, "Also cancel Fahad's booking.")
    hold.release.set()
    await settled(clinic.services)

    chat = await rows(clinic, AGENT)
    assert roles(chat) == ["secretary", "secretary", "assistant", "assistant"], chat
    assert [row["text"] for row in chat[2:]] == ["Tomorrow has 3 bookings.", "Answered: Also cancel Fahad's booking."]
    assert answers(chat[2]) == [chat[0]["id"]] and answers(chat[3]) == [chat[1]["id"]]
    assert len(clinic.llm.bodies) == 2 and clinic.llm.mistakes == []


async def test_an_operator_line_written_while_a_confirmation_waits_is_answered_after_the_batch(
    clinic: Clinic,
) -> None:
    await fill(clinic.services, SUNDAY, 25)
    cancel = Call("system_batch_cancel", {"filters": {"start_date": SUNDAY, "end_date": TUESDAY}})
    clinic.llm.script(Reply(calls=(cancel,)), Reply("Cancelled the 25 reservations."),
                      saw_last(("assistant", "Cancelled the 25 reservations."), ("user", "How many are left Monday?")))

    async with clinic.sidebar() as sidebar:
        await operator_says(clinic, f"Cancel everything from {SUNDAY} to {TUESDAY}")
        question = await next_of(sidebar, "confirmation_request")
        await operator_says(clinic, "How many are left Monday?")
        accepted = await clinic.http.post(f"/confirmations/{question['confirmation_id']}", json={"accept": True})
        assert accepted.status_code == 200, accepted.text
    await settled(clinic.services)

    chat = [row for row in await rows(clinic, AGENT) if row["role"] != "tool" and not is_confirmation(row)]
    assert [(row["role"], row["text"]) for row in chat] == [
        ("secretary", f"Cancel everything from {SUNDAY} to {TUESDAY}"), ("secretary", "How many are left Monday?"),
        ("assistant", "Cancelled the 25 reservations."), ("assistant", "Answered: How many are left Monday?")]
    assert answers(chat[2]) == [chat[0]["id"]] and answers(chat[3]) == [chat[1]["id"]]
    assert len(clinic.llm.bodies) == 3 and clinic.llm.mistakes == []


async def next_of(sidebar: ClientConnection, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(SETTLE_SECONDS):
        while (event := json.loads(await sidebar.recv()))["type"] != kind:
            pass
    found: dict[str, Any] = event
    return found


async def test_a_customer_line_written_while_their_assistant_works_is_answered_once_next(
    clinic: Clinic, graph_api: FakeGraphApi
) -> None:
    hold = Hold(Reply("Hello! How can I help?"))
    clinic.llm.script(hold, saw_last(("user", "hi"), ("assistant", "Hello! How can I help?"),
                                     ("user", "I want to book tomorrow")))

    await customer_writes(clinic, "hi", "wamid.hi")
    await hold.wait_until_asked()
    await customer_writes(clinic, "I want to book tomorrow", "wamid.book")
    hold.release.set()
    await settled(clinic.services)
    await graph_api.wait_for_sends(2)  # the replies go through the durable outbox's sender

    assert graph_api.texts_to(CUSTOMER) == ["Hello! How can I help?", "Answered: I want to book tomorrow"]
    chat = await until(clinic, CUSTOMER, lambda chat: {row["delivery_status"] for row in chat[2:]} == {"sent"})
    assert roles(chat) == ["user", "user", "assistant", "assistant"]
    assert answers(chat[2]) == [chat[0]["id"]] and answers(chat[3]) == [chat[1]["id"]]
    assert clinic.llm.mistakes == []


async def test_a_burst_of_twenty_with_a_redelivery_is_one_turn_once_the_customer_is_quiet(
    bursty: Clinic, graph_api: FakeGraphApi, clock: FixedClock
) -> None:
    texts = [f"part {n} of my request" for n in range(20)]
    bursty.llm.script(saw_last(("user", "\n\n".join(texts))))

    for n, text in enumerate(texts):  # 20 messages in 2 s on the clinic's clock
        await customer_writes(bursty, text, f"wamid.burst.{n}")
        if n == 10:
            await customer_writes(bursty, texts[5], "wamid.burst.5")  # WhatsApp delivers one again mid-burst
        clock.now += timedelta(seconds=0.1)
    clock.now += timedelta(seconds=QUIET)
    await settled(bursty.services)
    await graph_api.wait_for_sends(1)

    assert graph_api.texts_to(CUSTOMER) == ["Answered: " + "\n\n".join(texts)]
    chat = await rows(bursty, CUSTOMER)
    assert roles(chat) == ["user"] * 20 + ["assistant"]
    assert answers(chat[-1]) == [row["id"] for row in chat[:20]]
    assert len(bursty.llm.bodies) == 1 and bursty.llm.mistakes == []


async def test_a_customer_who_never_pauses_is_answered_once_the_longest_wait_has_passed(
    bursty: Clinic, graph_api: FakeGraphApi, clock: FixedClock
) -> None:
    texts = [f"still writing {n}" for n in range(12)]
    bursty.llm.script(saw_last(("user", "\n\n".join(texts))))

    first = clock.now
    for n, text in enumerate(texts):  # a line every 0.5 s: never quiet for 1.5 s
        await customer_writes(bursty, text, f"wamid.long.{n}")
        clock.now += timedelta(seconds=0.5)
    clock.now = first + timedelta(seconds=MOST)  # 0.5 s after the last line: the first has waited 6 s
    await settled(bursty.services)
    await graph_api.wait_for_sends(1)

    assert len(graph_api.texts_to(CUSTOMER)) == 1
    chat = await rows(bursty, CUSTOMER)
    assert answers(chat[-1]) == [row["id"] for row in chat[:12]]
    assert bursty.llm.mistakes == []


async def test_forty_operator_lines_sent_at_once_are_each_stored_once_and_answered_once(clinic: Clinic) -> None:
    """Many operators (or tabs) at once: each line is accepted with its own stored message, and the agent's turns
    answer every one of them exactly once (lines stored together commit together)."""
    hold = Hold(Reply("On it."))
    clinic.llm.script(hold, Respond(lambda seen: Reply("And the rest.")))
    lines = [f"line {n}" for n in range(40)]
    responses = await asyncio.gather(*(clinic.http.post("/whatsapp/message", json={"wa_id": AGENT, "message": text})
                                       for text in lines))
    assert [r.status_code for r in responses] == [202] * 40
    accepted = {r.json()["message"]["text"]: r.json()["message"]["id"] for r in responses}
    assert set(accepted) == set(lines) and len(set(accepted.values())) == 40
    await hold.wait_until_asked()
    hold.release.set()
    await settled(clinic.services)

    chat = await rows(clinic, AGENT)
    stored = {row["text"]: row["id"] for row in chat if row["role"] == "secretary"}
    assert stored == accepted  # each once, with the id its 202 named
    replies = [row for row in chat if row["role"] == "assistant"]
    # One turn, or two when lines were still arriving as the first one read the conversation.
    assert [row["text"] for row in replies] in (["On it."], ["On it.", "And the rest."])
    answered = [message for row in replies for message in answers(row)]
    assert sorted(answered) == sorted(accepted.values())  # every line, none twice
    assert len(clinic.llm.bodies) == len(replies) and clinic.llm.mistakes == []
