"""Operator stories that move reservations: find a customer then move them, move a day into a fuller one,
undo a move, ask in Arabic.

The scripted model reads its tool results (`Respond`) the way a model would: a reservation id, a number or
a batch_id taken from the text, never from the test's own knowledge of the database.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.acceptance.support import (
    FATIMA, MONDAY, MONDAY_BOOKINGS, OMAR, SLOT_FULL, SUNDAY, SUNDAY_BOOKINGS, TUESDAY, Booking, Clinic, active_on,
    batch_id, book, calendar, first_line, ids, is_arabic, line_naming, reservation_id_of, reservation_lines, roles,
    wa_id_on,
)
from tests.fakes.llm import Call, Reply, Respond, SeenRequest

MOVE_SUNDAY_TO_MONDAY = Call("system_batch_modify", {"filters": {"dates": [SUNDAY]}, "updates": {"new_date": MONDAY}})
MOVE_SUNDAY_TO_TUESDAY = Call("system_batch_modify", {"filters": {"dates": [SUNDAY]}, "updates": {"new_date": TUESDAY}})


def move_reservation_of(name: str, day: str, slot: str) -> Callable[[SeenRequest], Reply]:
    """The model finds `name`'s reservation line in the search result and moves that reservation by its id."""
    def decide(seen: SeenRequest) -> Reply:
        reservation_id = reservation_id_of(seen.last_result, name)
        request = {"reservation_id": reservation_id, "new_date": day, "new_time": slot}
        return Reply(calls=(Call("system_batch_modify", {"requests": [request]}),))
    return decide


def move_customer_named(name: str, day: str, slot: str) -> Callable[[SeenRequest], Reply]:
    """The model reads `name`'s WhatsApp number in the search result and moves their next reservation."""
    def decide(seen: SeenRequest) -> Reply:
        request = {"wa_id": wa_id_on(line_naming(seen.last_result, name)), "new_date": day, "new_time": slot}
        return Reply(calls=(Call("system_batch_modify", {"requests": [request]}),))
    return decide


def tell_the_batch_id(seen: SeenRequest) -> Reply:
    """The model's answer names the batch it applied, read from the tool's answer."""
    applied = batch_id(seen.last_result)
    return Reply(f"Moved Sunday's 3 reservations to Tuesday {TUESDAY}, same times (batch_id={applied}).")


def undo_the_batch_in_the_chat(seen: SeenRequest) -> Reply:
    """The model finds the batch_id in its own earlier answer (tool results of past turns are not resent)."""
    said = "\n".join(text for role, text in seen.texts if role == "assistant")
    return Reply(calls=(Call("system_undo_batch", {"batch_id": batch_id(said)}),))


async def test_a_customer_found_by_a_misspelt_arabic_name_is_moved_by_the_reservation_id_the_model_read(
        clinic: Clinic) -> None:
    booked = await book(clinic.services, MONDAY_BOOKINGS)
    clinic.llm.script(Reply(calls=(Call("system_get_reservations", {"search_query": "فاطمه"}),)),
                      Respond(move_reservation_of(FATIMA.name, TUESDAY, "13:00")),
                      Reply("تم نقل موعد فاطمة الزهراني إلى الثلاثاء 2026-12-08 الساعة 1:00 PM."))

    exchange = await clinic.ask("انقل موعد فاطمه إلى يوم الثلاثاء 2026-12-08 الساعة 1 الظهر")

    assert exchange.reply.startswith("تم نقل"), exchange.reply
    moved = {b.id: b for b in await calendar(clinic.services)}[booked[FATIMA]]
    assert moved == Booking(booked[FATIMA], FATIMA.wa_id, TUESDAY, "13:00", "active")
    assert len(await active_on(clinic.services, MONDAY)) == 9
    found, applied = clinic.llm.seen[1].last_result, clinic.llm.seen[2].last_result
    assert FATIMA.wa_id in line_naming(found, FATIMA.name)
    assert first_line(applied).startswith("Applied:"), first_line(applied)
    rows = await clinic.conversation()
    assert roles(rows) == ["secretary", "tool", "tool", "assistant"]
    assert ids(exchange.messages) == ids(rows)
    assert rows[2]["meta"]["arguments"]["requests"] == [
        {"reservation_id": booked[FATIMA], "new_date": TUESDAY, "new_time": "13:00"}]


async def test_a_customer_found_by_a_misspelt_english_name_is_moved_by_the_number_the_model_read(
        clinic: Clinic) -> None:
    booked = await book(clinic.services, MONDAY_BOOKINGS)
    clinic.llm.script(Reply(calls=(Call("system_get_reservations", {"search_query": "Omer Hadad"}),)),
                      Respond(move_customer_named(OMAR.name, TUESDAY, "15:00")),
                      Reply("Omar Haddad now comes on Tuesday 2026-12-08 at 3:00 PM."))

    exchange = await clinic.ask("Move Omer Hadad to Tuesday at 3pm")

    assert exchange.reply.startswith("Omar Haddad now comes"), exchange.reply
    moved = {b.id: b for b in await calendar(clinic.services)}[booked[OMAR]]
    assert moved == Booking(booked[OMAR], OMAR.wa_id, TUESDAY, "15:00", "active")
    assert first_line(clinic.llm.seen[2].last_result).startswith("Applied:")
    [_, move] = exchange.tool_rows()
    assert move["meta"]["arguments"]["requests"] == [{"wa_id": OMAR.wa_id, "new_date": TUESDAY, "new_time": "15:00"}]
    rows = await clinic.conversation()
    assert roles(rows) == ["secretary", "tool", "tool", "assistant"] and ids(exchange.messages) == ids(rows)


async def test_moving_a_day_into_a_full_slot_reports_the_one_that_stayed_to_the_model_and_the_operator(
        clinic: Clinic) -> None:
    await book(clinic.services, MONDAY_BOOKINGS + SUNDAY_BOOKINGS)
    clinic.llm.script(Reply(calls=(MOVE_SUNDAY_TO_MONDAY,)),
                      Reply("Moved 2 of Sunday's 3 reservations; one could not move: Monday 11:00 is full."))

    exchange = await clinic.ask(f"Move everyone from Sunday {SUNDAY} to Monday {MONDAY}")

    stayed = await active_on(clinic.services, SUNDAY)
    assert list(stayed.values()) == ["11:00"]
    [failed] = [person for person, _, _ in SUNDAY_BOOKINGS if person.wa_id in stayed]
    failed_id = next(b.id for b in await calendar(clinic.services) if b.wa_id == failed.wa_id)
    assert list((await active_on(clinic.services, MONDAY)).values()).count("11:00") == 5
    text = clinic.llm.seen[1].last_result
    assert first_line(text).startswith("Applied:"), first_line(text)
    assert "slot_full" in text and SLOT_FULL in text, text
    failure = reservation_lines(text)[failed_id]
    assert failed.name in failure and failed.wa_id in failure, failure
    [tool] = exchange.tool_rows()
    assert tool["meta"]["result"] == text and tool["meta"]["is_error"] is False
    rows = await clinic.conversation()
    assert roles(rows) == ["secretary", "tool", "assistant"] and rows[1]["meta"]["result"] == text
    assert ids(exchange.messages) == ids(rows)


async def test_a_moved_day_is_put_back_by_undoing_the_batch_the_model_was_told(clinic: Clinic) -> None:
    await book(clinic.services, SUNDAY_BOOKINGS)
    before = await calendar(clinic.services)
    clinic.llm.script(Reply(calls=(MOVE_SUNDAY_TO_TUESDAY,)), Respond(tell_the_batch_id),
                      Respond(undo_the_batch_in_the_chat), Reply("Undone: Sunday's 3 reservations are back."))

    moved = await clinic.ask(f"Move everyone from Sunday {SUNDAY} to Tuesday {TUESDAY}")
    assert len(await active_on(clinic.services, TUESDAY)) == 3, moved.reply
    undone = await clinic.ask("Undo that, please")

    assert undone.reply == "Undone: Sunday's 3 reservations are back."
    assert await calendar(clinic.services) == before
    applied_id = batch_id(clinic.llm.seen[1].last_result)
    assert first_line(clinic.llm.seen[3].last_result).startswith("Applied:")
    rows = await clinic.conversation()
    assert roles(rows) == ["secretary", "tool", "assistant", "secretary", "tool", "assistant"]
    assert ids(moved.messages + undone.messages) == ids(rows)
    assert rows[4]["meta"]["tool"] == "system_undo_batch" and rows[4]["meta"]["arguments"] == {"batch_id": applied_id}


async def test_a_day_moved_in_arabic_is_reported_in_arabic(clinic: Clinic) -> None:
    await book(clinic.services, SUNDAY_BOOKINGS)
    arabic_move = Call("system_batch_modify", {"filters": {"dates": [SUNDAY]}, "updates": {"new_date": TUESDAY},
                                               "ar": True})
    clinic.llm.script(Reply(calls=(arabic_move,)), Reply("تم نقل حجوزات الأحد الثلاثة إلى الثلاثاء."))

    exchange = await clinic.ask("انقل جميع حجوزات الأحد 2026-12-06 إلى الثلاثاء 2026-12-08")

    assert exchange.reply.startswith("تم نقل")
    assert len(await active_on(clinic.services, TUESDAY)) == 3 and await active_on(clinic.services, SUNDAY) == {}
    text = clinic.llm.seen[1].last_result
    assert is_arabic(first_line(text)), first_line(text)
    assert "batch_id=" in text
    rows = await clinic.conversation()
    assert roles(rows) == ["secretary", "tool", "assistant"] and ids(exchange.messages) == ids(rows)
    assert rows[1]["meta"]["arguments"]["ar"] is True and rows[1]["meta"]["result"] == text
