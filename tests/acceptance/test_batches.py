"""Operator stories of batches found again: the agent lists the newest batches, each naming the operator's request
it served, and undoes the one the operator means, long after its id left the model's history."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from domain.storage.models import Notice
from tests.acceptance.support import (MONDAY, SUNDAY, SUNDAY_BOOKINGS, TUESDAY, TURN_SECONDS, Booking, Clinic, book,
                                      calendar, first_line, open_slots)
from tests.conftest import FixedClock
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.llm import Call, Reply, Respond, SeenRequest, more

COLUMNS = "batch_id|at|by|tool|what|ok|failed|notices|undo|asked for"
MOVE = f"Move Sunday's bookings to Tuesday {TUESDAY}, same times"


def listed(text: str) -> list[dict[str, str]]:
    """The rows of a batch listing, by column, as a model reads them."""
    lines = text.split("\n")
    assert lines[1] == COLUMNS, lines[:2]
    names = COLUMNS.split("|")
    return [dict(zip(names, line.split("|"))) for line in lines[2:] if line.count("|") == len(names) - 1]


def undo_the_one_asked(request: str) -> Callable[[SeenRequest], Reply]:
    """The model's step after a page of the listing: undo the batch made on `request`, or read the next page."""
    def decide(seen: SeenRequest) -> Reply:
        page = seen.last_result
        for batch in listed(page):
            if batch["asked for"] != "-" and json.loads(batch["asked for"]) == request:
                return Reply(calls=(Call("system_undo_batch", {"batch_id": batch["batch_id"]}),))
        [more] = [line for line in page.split("\n") if line.startswith("More: call again with offset=")]
        return Reply(calls=(Call("system_get_batch", {"offset": int(more.rsplit("=", 1)[1].rstrip("."))}),))
    return decide


async def test_thirty_turns_later_the_agent_finds_the_morning_move_by_its_request_and_undoes_it(
        clinic: Clinic, clock: FixedClock) -> None:
    await book(clinic.services, SUNDAY_BOOKINGS)
    before = {b.id: (b.date, b.time_slot) for b in await calendar(clinic.services)}
    clinic.llm.script(Reply(calls=(Call("system_batch_modify", {
        "filters": {"dates": [SUNDAY]}, "updates": {"new_date": TUESDAY}}),)), Reply("Moved the 3 bookings."))
    await clinic.ask(MOVE)
    moved_text = clinic.llm.seen[-1].last_result
    assert first_line(moved_text).startswith("Applied: 3 ok (moved 3)"), moved_text
    for n, (day, slot) in enumerate(open_slots(clinic.services, MONDAY, 28), start=1):  # 28 more turns, each a batch
        clinic.llm.script(Reply(calls=(Call("system_batch_reserve", {"requests": [{
            "wa_id": f"96650{n:07d}", "customer_name": f"Walk-in {n}", "date": day, "time_slot": slot}]}),)),
            Reply(f"Booked walk-in {n}."))
        clock.now += timedelta(minutes=1)  # the operator writes a minute apart: the listing orders by time
        await clinic.ask(f"Book walk-in {n} on {day} at {slot}", answer=True)

    clinic.llm.script(Reply(calls=(Call("system_get_batch", {}),)), Respond(undo_the_one_asked(MOVE)),
                      Respond(undo_the_one_asked(MOVE)), Reply("Undone: the three are back on Sunday."))
    exchange = await clinic.ask("Undo this morning's move of Sunday's bookings", answer=True)

    assert exchange.errors == []
    history = "\n".join(text for _, text in clinic.llm.seen[-4].texts)
    assert MOVE not in history  # the move's turn had left what the model is given: only the listing found it
    undone = clinic.llm.seen[-1].last_result
    assert first_line(undone).startswith("Applied: 3 ok"), undone
    after = {b.id: (b.date, b.time_slot) for b in await calendar(clinic.services) if b.id in before}
    assert after == before


async def test_each_kind_of_batch_is_undone_from_the_listing_through_the_chat(clinic: Clinic,
                                                                              clock: FixedClock) -> None:
    ids = await book(clinic.services, SUNDAY_BOOKINGS)
    yousef = next(person for person in ids if person.name == "Yousef Al-Amri")
    stories = [
        ("Book Reem Al-Dosari on Monday at 13:00",
         Call("system_batch_reserve", {"requests": [{"wa_id": "966501110009", "customer_name": "Reem Al-Dosari",
                                                     "date": MONDAY, "time_slot": "13:00"}]})),
        ("Move Yousef to Monday at 15:00",
         Call("system_batch_modify", {"requests": [{"reservation_id": ids[yousef], "new_date": MONDAY,
                                                    "new_time": "15:00"}]})),
        ("Cancel everything on Sunday", Call("system_batch_cancel", {"filters": {"dates": [SUNDAY]}})),
        ("Close the clinic on Monday for a staff meeting",
         more("system_close_days", {"start_date": MONDAY, "end_date": MONDAY, "title": "Staff meeting"})),
    ]
    for request, call in stories:
        clock.now += timedelta(minutes=1)
        before = await calendar(clinic.services)
        closures_before = await clinic.services.vacations.list()
        clinic.llm.script(Reply(calls=(call,)), Reply("Done."))
        await clinic.ask(request, answer=True)
        assert "batch_id=" in clinic.llm.seen[-1].last_result, clinic.llm.seen[-1].last_result

        clinic.llm.script(Reply(calls=(Call("system_get_batch", {}),)), Respond(undo_the_one_asked(request)),
                          Reply("Undone."))
        clock.now += timedelta(minutes=1)
        exchange = await clinic.ask(f"Undo that: {request.lower()}", answer=True)

        assert exchange.errors == [], exchange.errors
        listing = clinic.llm.seen[-2].last_result
        newest = listed(listing)[0]
        tool = call.arguments["tool"] if call.name == "more_tools" and isinstance(call.arguments, dict) else call.name
        assert (newest["tool"], newest["by"], json.loads(newest["asked for"])) == (tool, "agent", request)
        undone = clinic.llm.seen[-1].last_result
        assert f"This undoes batch {newest['batch_id']}." in undone, undone
        assert await calendar(clinic.services) == _restored(before, await calendar(clinic.services))
        assert await clinic.services.vacations.list() == closures_before, tool


def _restored(before: list[Booking], after: list[Booking]) -> list[Booking]:
    """The calendar after an undo: every reservation as it was; one the batch made (and the undo cancelled) stays
    on record, cancelled, after them."""
    return before + [b for b in after[len(before):] if b.status == "cancelled"]


async def test_a_message_batch_undone_through_the_chat_withdraws_exactly_what_was_not_sent(
        clinic: Clinic, graph_api: FakeGraphApi) -> None:
    """Whether the sender or the undo reaches a notice first is a race; whoever wins, the undo's answer, the
    outbox and what WhatsApp received agree on each customer."""
    graph_api.approve_defaults()
    people = [person for person, _, _ in SUNDAY_BOOKINGS]
    await book(clinic.services, SUNDAY_BOOKINGS)
    request = "Tell Sunday's patients that the clinic opens at noon"
    clinic.llm.script(Reply(calls=(more("system_message_customers", {
        "text": "The clinic opens at noon on Sunday.", "wa_ids": [p.wa_id for p in people]}),)), Reply("Sent."))
    await clinic.ask(request, answer=True)
    clinic.llm.script(Reply(calls=(Call("system_get_batch", {}),)), Respond(undo_the_one_asked(request)),
                      Reply("Withdrawn what was not sent."))

    exchange = await clinic.ask("Undo that message", answer=True)

    assert exchange.errors == []
    undone = clinic.llm.seen[-1].last_result
    statuses = await _settled_notices(clinic)
    withdrawn = {p.wa_id for p in people if statuses[p.wa_id] == "skipped"}
    delivered = {p.wa_id for p in people if statuses[p.wa_id] == "sent"}
    assert withdrawn | delivered == {p.wa_id for p in people}, statuses
    assert {m.to for m in graph_api.sent} == delivered and len(graph_api.sent) == len(delivered)
    head = first_line(undone)
    if withdrawn:
        assert f"{len(withdrawn)} ok (withdrawn {len(withdrawn)})" in head, undone
    assert f"{len(delivered)} failed" in head, undone
    for wa_id in delivered:
        assert f"|{wa_id}|" in undone and "it cannot be taken back" in undone, undone


async def _settled_notices(clinic: Clinic) -> dict[str, str]:
    """Each notice's status once none is queued or being sent (a deadline, not a pause)."""
    async with asyncio.timeout(TURN_SECONDS):
        while True:
            async with clinic.services.db.reading() as session:
                statuses = dict((await session.execute(select(Notice.wa_id, Notice.status))).all())
            if not {"queued", "sending"} & set(statuses.values()):
                return statuses
            await asyncio.sleep(0.05)
