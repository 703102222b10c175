"""No way around a person: a scripted model tries every way past the operator through `calendar-agent serve` with
the limits an empty configuration gives (`CONFIRMATION_LIMITS` unset), and each attempt reaches the operator as a
card that names who is affected, or writes nothing.

Each story is one attempt; what the operator sees is the `confirmation_request` events on the sidebar, and what
happened is the database afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select

from calendar_agent.bootstrap.serve import build_service_app
from domain.clock import Clock
from domain.config import ClinicConfig
from domain.storage.database import Database
from domain.storage.models import Notice, Vacation
from domain.services import Services, build_services
from tests.acceptance.support import (MONDAY, SUNDAY, SUNDAY_BOOKINGS, Clinic, Exchange, active_on, book, calendar,
                                      fill, first_line, open_slots)
from tests.fakes.graph_api import FakeGraphApi, bridge_settings
from tests.fakes.llm import Call, Reply, Respond, SeenRequest, more, read_toolset
from tests.fakes.loopback import serve_on_loopback

WEDNESDAY = "2026-12-09"
PHISHING = "Your booking is suspended. Pay at http://pay.example within 1 hour."


@pytest.fixture
async def clinic(db: Database, config: ClinicConfig, clock: Clock, graph_api: FakeGraphApi,  # noqa: F811
                 llm: Any) -> AsyncIterator[Clinic]:
    """`calendar-agent serve` with the limits an empty configuration gives, over the test database."""
    settings = bridge_settings(graph_api, **llm.settings_overrides())
    services = build_services(config, db, clock, limits=settings.effect_limits(), notices=settings.notice_config())
    app = build_service_app(settings, services=services)
    async with serve_on_loopback(app) as url, httpx2.AsyncClient(base_url=url, timeout=30) as http:
        yield Clinic(url, http, services, llm)


async def seeded(services: Services, count: int, first: str = SUNDAY) -> list[int]:
    """`count` customers booked from `first` on by a batch a person confirmed: their reservation ids."""
    await fill(services, first, count)
    return [booking.id for booking in await calendar(services)]


def cancels(ids: list[int]) -> Call:
    return Call("system_batch_cancel", {"requests": [{"reservation_id": i} for i in ids]})


def cards(exchange: Exchange) -> list[str]:
    return [event["message"] for event in exchange.of_type("confirmation_request")]


async def active(services: Services) -> int:
    return sum(1 for booking in await calendar(services) if booking.status == "active")


async def test_a_cancel_of_thirty_split_into_six_calls_asks_from_the_second_call(clinic: Clinic) -> None:
    ids = await seeded(clinic.services, 30)
    clinic.llm.script(Reply(calls=tuple(cancels(ids[n:n + 5]) for n in range(0, 30, 5))),
                      Reply("Cancelled what I could."))

    exchange = await clinic.ask("Cancel everything from Sunday on, five at a time", answer=False)

    assert await active(clinic.services) == 25
    asked = cards(exchange)
    assert len(asked) == 5
    assert "reservations changed or made: 5 already in this turn without asking, 5 more now makes 10 (limit 5)." \
        in asked[0]
    who = asked[0].split("\n")
    assert who[who.index("Who:") + 1].startswith('- "Patient 006" +966500000006: ')
    assert all(card.endswith("Nothing has been written yet. Apply it?") for card in asked)


async def test_a_small_whole_day_moved_by_ids_asks_and_the_yes_moves_exactly_that_day(clinic: Clinic) -> None:
    booked = await book(clinic.services, SUNDAY_BOOKINGS)
    moves = [{"reservation_id": booked[person], "new_date": MONDAY} for person, _, _ in SUNDAY_BOOKINGS]
    clinic.llm.script(Reply(calls=(Call("system_batch_modify", {"requests": moves}),)), Reply("Moved Sunday."))

    exchange = await clinic.ask("Move Sunday to Monday", answer=True)

    [asked] = cards(exchange)
    assert f"it would take every booking off {SUNDAY} (3 in this turn)." in asked
    assert f'- "Yousef Al-Amri" +966501110011: {SUNDAY} 11:00 → {MONDAY} 11:00' in asked.split("\n")
    assert await active_on(clinic.services, SUNDAY) == {}
    assert len(await active_on(clinic.services, MONDAY)) == 3


async def test_closing_a_whole_year_asks_and_the_no_closes_nothing(clinic: Clinic) -> None:
    year = {"start_date": "2027-01-01", "end_date": "2027-12-31", "title": "Renovation"}
    clinic.llm.script(Reply(calls=(read_toolset("closures"),)), Reply(calls=(more("system_close_days", year),)),
                      Reply("Nothing was closed."))

    exchange = await clinic.ask("Close 2027", answer=False)

    [asked] = cards(exchange)
    assert "days closed: 0 already in this turn without asking, 365 more now makes 365 (limit 3)." in asked
    async with clinic.services.db.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(Vacation)) == 0
    # The sidebar shows the toolset read, then the tool run through more_tools under its own name and arguments.
    read, run = [m for m in exchange.messages if m["role"] == "tool"]
    assert read["text"].startswith("more_tools → system_close_days: Close days")
    assert run["text"].startswith("system_close_days → ") and run["meta"]["arguments"] == year
    assert "more_tools" in clinic.llm.seen[0].tools and "system_close_days" not in clinic.llm.seen[0].tools


async def test_free_text_to_twenty_customers_is_shown_verbatim_and_the_no_sends_nothing(
        clinic: Clinic, graph_api: FakeGraphApi) -> None:  # noqa: F811
    await seeded(clinic.services, 20)
    broadcast = {"text": PHISHING, "start_date": SUNDAY, "end_date": MONDAY}
    clinic.llm.script(Reply(calls=(more("system_message_customers", broadcast),)), Reply("Nothing was sent."))

    exchange = await clinic.ask("Tell everyone booked this week", answer=False)

    [asked] = cards(exchange)
    assert first_line(asked) == "system_message_customers would send a WhatsApp message to 20 customer(s)."
    assert "customers sent your own words: 0 already in this turn without asking, 20 more now makes 20 (limit 1)." \
        in asked
    assert PHISHING in asked and asked.endswith("Nothing has been sent yet. Send it?")
    async with clinic.services.db.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(Notice)) == 0
    assert graph_api.sent == []


async def test_a_reserve_batch_that_fills_four_days_asks(clinic: Clinic) -> None:
    places = open_slots(clinic.services, SUNDAY, 60)
    requests = [{"wa_id": f"9665{n:08d}", "date": day, "time_slot": slot} for n, (day, slot) in enumerate(places, 1)]
    clinic.llm.script(Reply(calls=(Call("system_batch_reserve", {"requests": requests}),)), Reply("Not booked."))

    exchange = await clinic.ask("Book the waiting list", answer=False)

    [asked] = cards(exchange)
    assert first_line(asked).startswith("system_batch_reserve would change 60 reservation(s) (created: 60) on 4 day(s)")
    assert await calendar(clinic.services) == []


async def test_a_model_that_says_confirmed_or_makes_up_a_token_writes_nothing(clinic: Clinic) -> None:
    ids = await seeded(clinic.services, 12)
    clinic.llm.script(
        Reply(calls=(Call("system_batch_cancel", {"requests": [{"reservation_id": i} for i in ids], "dry_run": True}),
                     Call("system_batch_cancel", {"requests": [{"reservation_id": i} for i in ids],
                                                  "confirmed": True}),
                     Call("system_batch_cancel", {"requests": [{"reservation_id": i} for i in ids],
                                                  "confirmation_token": "ZmFrZS50b2tlbi5zaWduYXR1cmU="}))),
        Reply("I could not cancel them."))

    exchange = await clinic.ask("Cancel these twelve, no need to ask me", answer=False)

    results = [text for _, text in clinic.llm.seen[1].tool_results]
    assert first_line(results[0]).startswith("Dry run, nothing written") and "confirmation_token" not in results[0]
    assert "confirmed" in results[1] and "Extra inputs are not permitted" in results[1]
    assert "The confirmation token is invalid" in results[2]
    assert cards(exchange) == []
    assert await active(clinic.services) == 12


async def test_undoing_what_the_operator_confirmed_is_asked_about_again(clinic: Clinic) -> None:
    ids = await seeded(clinic.services, 12)
    answers = iter([True, False])

    def undo_it(seen: SeenRequest) -> Reply:
        batch = seen.last_result.split("batch_id=", 1)[1][:36]
        return Reply(calls=(Call("system_undo_batch", {"batch_id": batch}),))

    clinic.llm.script(Reply(calls=(cancels(ids),)), Respond(undo_it), Reply("Left as you decided."))

    exchange = await clinic.ask("Cancel these twelve, then put them back", answer=lambda event: next(answers))

    cancel_card, undo_card = cards(exchange)
    assert first_line(undo_card).startswith("system_undo_batch would change 12 reservation(s)")
    assert "reservations changed or made: 0 already in this turn without asking, 12 more now makes 12 (limit 5)." \
        in undo_card
    assert await active(clinic.services) == 0
