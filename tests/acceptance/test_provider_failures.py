"""Operator stories of a model provider failing in the middle of a turn, after a tool already ran.

The provider's SDK retries a server error (LLM_MAX_RETRIES, 2 by default: 3 attempts, backoff with
jitter, honouring Retry-After) and never a 400.
"""

from __future__ import annotations

from tests.acceptance.support import MONDAY, MONDAY_BOOKINGS, Clinic, book, calendar, ids, roles
from tests.fakes.llm import Call, Failure, Reply

LIST_MONDAY = Call("system_get_reservations", {"dates": [MONDAY]})
REQUEST = "Who is booked on Monday?"


async def test_a_request_the_provider_rejects_keeps_the_operators_message_and_the_tool_row(clinic: Clinic) -> None:
    await book(clinic.services, MONDAY_BOOKINGS)
    before = await calendar(clinic.services)
    clinic.llm.script(Reply(calls=(LIST_MONDAY,)), Failure(400))

    exchange = await clinic.ask(REQUEST)

    assert await calendar(clinic.services) == before
    assert len(clinic.llm.seen) == 2  # a 400 is not tried again
    assert "Omar Haddad" in clinic.llm.seen[1].last_result
    [error] = exchange.errors
    assert f"The language model ({clinic.llm.name}" in error and "rejected the request (HTTP 400)" in error, error
    rows = await clinic.conversation()
    assert roles(rows) == ["secretary", "tool"]
    assert rows[0]["text"] == REQUEST and rows[1]["meta"]["tool"] == "system_get_reservations"
    assert ids(exchange.messages) == ids(rows)


async def test_a_provider_failing_on_every_retry_keeps_the_operators_message_and_the_tool_row(clinic: Clinic) -> None:
    await book(clinic.services, MONDAY_BOOKINGS)
    before = await calendar(clinic.services)
    clinic.llm.script(Reply(calls=(LIST_MONDAY,)), Failure(500), Failure(500), Failure(500))

    exchange = await clinic.ask(REQUEST)

    assert await calendar(clinic.services) == before
    assert len(clinic.llm.seen) == 4 and clinic.llm.seen[3].last_result == clinic.llm.seen[1].last_result
    [error] = exchange.errors
    assert f"The language model ({clinic.llm.name}" in error and "server error (HTTP 500)" in error, error
    assert "tried 3 times" in error and "The message is kept" in error, error
    rows = await clinic.conversation()
    assert roles(rows) == ["secretary", "tool"]
    assert rows[0]["text"] == REQUEST and rows[1]["meta"]["tool"] == "system_get_reservations"
    assert ids(exchange.messages) == ids(rows)
