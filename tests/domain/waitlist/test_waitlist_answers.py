"""A customer's Accept or Decline, on SQLite and PostgreSQL: of five customers accepting one place at once (on one
instance, and on two instances with their own engines) exactly one is booked and the other four are told it has
gone; a refused booking lapses the place; a forged, another customer's, outdated or garbled press changes nothing."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from domain.notices.buttons import Press
from domain.services import Services, build_services
from domain.storage.database import Database, create_database
from domain.storage.models import Notice, Reservation, WaitlistEntry, WaitlistOffer, WaitlistPlace
from domain.waitlist.rules import WaitlistConfig
from tests.conftest import PER_CALL, FixedClock
from tests.domain.waitlist.test_waitlist_places import FULL, SUNDAY, WAITING, freed_place, notices, offers, places

WIDE = WaitlistConfig(wave_size=5)  # the whole line offered at once: five accept together
ROUNDS = 20


def wide(db: Database, services: Services, clock: FixedClock) -> Services:
    return build_services(services.config, db, clock, limits=PER_CALL, waitlist=WIDE)


async def snapshot(services: Services) -> list[Any]:
    """Every row the waitlist or a booking could change."""
    async with services.db.reading() as session:
        found: list[Any] = []
        for model in (Reservation, WaitlistEntry, WaitlistPlace, WaitlistOffer, Notice):
            found.append([tuple(getattr(r, c.key) for c in model.__table__.columns)
                          for r in await session.scalars(select(model).order_by(model.id))])
        return found


async def line_up(services: Services, clock: FixedClock, count: int) -> list[str]:
    """`count` customers waiting for Sunday 11:00, which five others fill."""
    for wa_id in FULL:
        await services.reservations.reserve(wa_id, SUNDAY, "11:00")
    waiting = [f"9665030{n:05d}" for n in range(count)]
    for wa_id in waiting:
        clock.now += timedelta(milliseconds=1)
        await services.waitlist.join(wa_id, SUNDAY, SUNDAY, ["11:00"], author="customer")
    return waiting


async def race(instances: list[Services], round_offers: list[WaitlistOffer]) -> list[str]:
    presses = [instances[n % len(instances)].waitlist.answer_press(o.wa_id, Press("w", o.id, "accept"))
               for n, o in enumerate(round_offers)]
    return [a.text for a in await asyncio.gather(*presses)]


async def play_rounds(services: Services, instances: list[Services], clock: FixedClock) -> None:
    """Each round frees the place again (the last winner cancels) and five new customers accept it at once."""
    await line_up(services, clock, 5 * ROUNDS)
    leaving = FULL[0]
    for round_ in range(ROUNDS):
        await services.reservations.cancel(leaving)
        assert await services.waitlist.days_changed({SUNDAY}) == 1
        [place] = [p for p in await places(services) if p.status == "offering"]
        wave = [o for o in await offers(services) if o.place_id == place.id]
        assert len(wave) == 5
        answers = await race(instances, wave)
        booked = [t for t in answers if t.startswith("تم الحجز")]
        assert len(booked) == 1, (round_, answers)
        assert sorted(answers).count("عذراً، لم يعد هذا المكان متاحاً. ما زلت في قائمة الانتظار.") == 4
        settled = {o.id: o for o in await offers(services) if o.place_id == place.id}
        winners = [o for o in settled.values() if o.status == "accepted"]
        assert len(winners) == 1 and sorted(o.status for o in settled.values()) == ["accepted"] + ["gone"] * 4
        [place] = [p for p in await places(services) if p.id == place.id]
        assert (place.status, place.offer_id) == ("taken", winners[0].id)
        async with services.db.reading() as session:
            active = list(await session.scalars(select(Reservation.wa_id).where(
                Reservation.date == SUNDAY, Reservation.time_slot == "11:00", Reservation.status == "active")))
            entry = await session.get(WaitlistEntry, winners[0].entry_id)
        assert len(active) == 5 and winners[0].wa_id in active
        assert entry is not None and entry.status == "booked"
        gone = {n.wa_id for n in await notices(services) if n.purpose == "offer_gone"
                and n.dedupe_key in {f"offer_gone:{o.id}" for o in settled.values()}}
        assert gone == {o.wa_id for o in settled.values() if o.status == "gone"}
        leaving = winners[0].wa_id


async def test_five_accepting_one_place_at_once_book_exactly_one(db: Database, services: Services,
                                                                 clock: FixedClock) -> None:
    one = wide(db, services, clock)
    await play_rounds(one, [one], clock)


async def test_five_accepting_on_two_instances_with_their_own_engines_book_exactly_one(
        db: Database, services: Services, clock: FixedClock) -> None:
    other_db = create_database(db.engine.url.render_as_string(hide_password=False))
    try:
        first, second = wide(db, services, clock), wide(other_db, services, clock)
        await play_rounds(first, [first, second], clock)
    finally:
        await other_db.dispose()


async def test_accepting_books_the_customer_and_moves_their_upcoming_booking(
        services: Services, clock: FixedClock) -> None:
    await services.reservations.reserve(WAITING[0], SUNDAY + timedelta(days=1), "13:00")  # Monday
    await freed_place(services, clock)
    [offer, *_] = await offers(services)
    answer = await services.waitlist.answer_press(offer.wa_id, Press("w", offer.id, "accept"))
    assert answer.text == "تم: نُقل موعدك إلى الأحد 2026-12-06 الساعة 11:00 (11:00 AM)."
    [booking] = await services.reservations.customer_reservations(WAITING[0])
    assert (booking.date, booking.time_slot) == ("2026-12-06", "11:00")


async def test_a_booking_the_rules_refuse_lapses_the_place_and_tells_the_others(
        services: Services, clock: FixedClock) -> None:
    await freed_place(services, clock)
    await services.reservations.reserve("966509999999", SUNDAY, "11:00")  # someone booked the place meanwhile
    [first, second, third] = await offers(services)
    answer = await services.waitlist.answer_press(first.wa_id, Press("w", first.id, "accept"))
    assert answer.text == "عذراً، تعذر حجز المكان: هذا الموعد محجوز بالكامل. ما زلت في قائمة الانتظار."
    assert [o.status for o in await offers(services)] == ["failed", "gone", "gone"]
    [place] = await places(services)
    assert place.status == "lapsed"
    assert {n.wa_id for n in await notices(services) if n.purpose == "offer_gone"} == {second.wa_id, third.wa_id}
    assert not await services.reservations.customer_reservations(first.wa_id)


async def test_a_forged_another_customers_outdated_or_garbled_press_changes_nothing(
        services: Services, clock: FixedClock) -> None:
    await freed_place(services, clock)
    [first, second, _] = await offers(services)
    await services.waitlist.answer_press(second.wa_id, Press("w", second.id, "decline"))
    before = await snapshot(services)
    not_current = "هذا العرض لم يعد قائماً؛ لم يتغير شيء."
    unknown = "عذراً، تعذرت قراءة هذا الرد؛ لم يتغير شيء."
    cases = [(WAITING[4], Press("w", first.id, "accept"), not_current),  # another customer's offer
             (first.wa_id, Press("w", 999_999, "accept"), not_current),  # no such offer
             (second.wa_id, Press("w", second.id, "accept"), not_current),  # declined already
             (first.wa_id, Press("w", first.id, "delete"), unknown),  # no such action
             (first.wa_id, Press("r", first.id, "accept"), unknown),  # not a waitlist button
             ("not a number", Press("w", first.id, "accept"), "Sorry, that answer could not be read; nothing was "
                                                              "changed.")]
    for wa_id, press, said in cases:
        assert (await services.waitlist.answer_press(wa_id, press)).text == said
    assert await snapshot(services) == before
    clock.now += timedelta(minutes=15)  # the hold is over, not yet expired by the worker: the place has gone
    answer = await services.waitlist.answer_press(first.wa_id, Press("w", first.id, "accept"))
    assert answer.text == "عذراً، لم يعد هذا المكان متاحاً. ما زلت في قائمة الانتظار."
    assert await snapshot(services) == before


async def test_an_english_speaker_is_answered_in_english(services: Services, clock: FixedClock) -> None:
    await freed_place(services, clock)
    [first, *_] = await offers(services)
    await services.conversations.append(first.wa_id, "user", "Yes please")
    answer = await services.waitlist.answer_press(first.wa_id, Press("w", first.id, "accept"))
    assert answer.text == "Booked: Sunday 2026-12-06 at 11:00 (11:00 AM). See you then."
    assert answer.start_turn is False
    assert date.fromisoformat((await services.reservations.customer_reservations(first.wa_id))[0].date) == SUNDAY
