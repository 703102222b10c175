"""Operator stories that only read the calendar: a day's list, an ambiguous name, a request in Arabic.

Each story checks the database afterwards, what the model was sent, and what the operator sees.
"""

from __future__ import annotations

from tests.acceptance.support import (
    MOHAMMED_ALI, MOHAMMED_SALEH, MONDAY, MONDAY_BOOKINGS, OMAR, SARA, TIME_LABELS, Clinic, book, calendar,
    first_line, ids, is_arabic, reservation_lines, roles, totals,
)
from tests.fakes.llm import Call, Reply

LIST_MONDAY = Call("system_get_reservations", {"dates": [MONDAY]})


async def test_listing_a_day_shows_the_model_every_booked_customer_with_time_and_reservation_id(clinic: Clinic) -> None:
    booked = await book(clinic.services, MONDAY_BOOKINGS)
    before = await calendar(clinic.services)
    clinic.llm.script(Reply(calls=(LIST_MONDAY,)), Reply("Monday 2026-12-07 has 10 reservations."))

    exchange = await clinic.ask("Who is booked on Monday 2026-12-07?")

    assert await calendar(clinic.services) == before
    text = clinic.llm.seen[1].last_result
    assert totals(text) == (10, 10)
    lines = reservation_lines(text)
    assert set(lines) == set(booked.values())
    for person, _, slot in MONDAY_BOOKINGS:
        line = lines[booked[person]]
        assert person.name in line and person.wa_id in line, line
        assert "Mon 2026-12-07" in line and TIME_LABELS[slot] in line and "active" in line, line
    rows = await clinic.conversation()
    assert roles(rows) == ["secretary", "tool", "assistant"]
    assert rows[1]["meta"]["tool"] == "system_get_reservations" and rows[1]["meta"]["arguments"] == {"dates": [MONDAY]}
    assert rows[1]["meta"]["result"] == text and rows[1]["meta"]["is_error"] is False
    assert ids(exchange.messages) == ids(rows)
    assert exchange.reply == "Monday 2026-12-07 has 10 reservations."


async def test_an_ambiguous_name_shows_the_model_every_candidate_with_their_number(clinic: Clinic) -> None:
    await book(clinic.services, [(MOHAMMED_ALI, MONDAY, "11:00"), (MOHAMMED_SALEH, MONDAY, "13:00"),
                                 (OMAR, MONDAY, "15:00"), (SARA, MONDAY, "15:00")])
    before = await calendar(clinic.services)
    clinic.llm.script(Reply(calls=(Call("system_get_reservations", {"search_query": "Mohammed"}),)),
                      Reply("Two customers are called Mohammed: Mohammed Ali and Mohammed Saleh. Which one?"))

    exchange = await clinic.ask("Move Mohammed to Tuesday")

    assert await calendar(clinic.services) == before
    text = clinic.llm.seen[1].last_result
    for candidate in (MOHAMMED_ALI, MOHAMMED_SALEH):
        assert any(candidate.name in line and candidate.wa_id in line for line in text.splitlines()), candidate
    rows = await clinic.conversation()
    assert roles(rows) == ["secretary", "tool", "assistant"]
    assert MOHAMMED_ALI.wa_id in rows[1]["meta"]["result"] and MOHAMMED_SALEH.wa_id in rows[1]["meta"]["result"]
    assert ids(exchange.messages) == ids(rows)
    assert exchange.reply.endswith("Which one?")


async def test_a_listing_asked_in_arabic_opens_with_an_arabic_line(clinic: Clinic) -> None:
    await book(clinic.services, MONDAY_BOOKINGS)
    before = await calendar(clinic.services)
    clinic.llm.script(Reply(calls=(Call("system_get_reservations", {"dates": [MONDAY], "ar": True}),)),
                      Reply("يوم الاثنين 2026-12-07 فيه 10 حجوزات."))

    exchange = await clinic.ask("من المحجوز يوم الاثنين 2026-12-07؟")

    assert await calendar(clinic.services) == before
    text = clinic.llm.seen[1].last_result
    assert is_arabic(first_line(text)), first_line(text)
    assert len(reservation_lines(text)) == 10
    rows = await clinic.conversation()
    assert roles(rows) == ["secretary", "tool", "assistant"] and ids(exchange.messages) == ids(rows)
    assert rows[1]["meta"]["arguments"] == {"dates": [MONDAY], "ar": True} and rows[1]["meta"]["result"] == text
    assert exchange.reply.startswith("يوم الاثنين")
