"""Freed places offered in waves, on SQLite and PostgreSQL: a cancellation opens one place whose first wave of three
is offered with notices in the outbox; a hold that ends or a wave that all declines moves to the next wave; nobody
left lapses the place; sweeps racing create one place."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta

import pytest

from sqlalchemy import select

from domain.config import ClinicConfig
from domain.notices.buttons import Press
from domain.notices.templates import NoticeConfig, TemplateError, notice_templates
from domain.services import Services, build_services
from domain.storage.database import Database
from domain.storage.models import Notice, WaitlistOffer, WaitlistPlace
from tests.conftest import PER_CALL, FixedClock

SUNDAY = date(2026, 12, 6)
FULL = [f"9665010000{n:02d}" for n in range(5)]  # the five booked in Sunday 11:00
WAITING = [f"9665020000{n:02d}" for n in range(5)]  # five on the waitlist, in this order


async def full_sunday_with_five_waiting(services: Services, clock: FixedClock) -> None:
    for wa_id in FULL:
        await services.reservations.reserve(wa_id, SUNDAY, "11:00")
    for n, wa_id in enumerate(WAITING):
        clock.now += timedelta(seconds=1)  # each waits a little less than the one before
        await services.customers.ensure(wa_id, f"Waiting {n}")
        await services.waitlist.join(wa_id, SUNDAY, SUNDAY, ["11:00"], author="customer")


async def offers(services: Services) -> list[WaitlistOffer]:
    async with services.db.reading() as session:
        return list(await session.scalars(select(WaitlistOffer).order_by(WaitlistOffer.id)))


async def places(services: Services) -> list[WaitlistPlace]:
    async with services.db.reading() as session:
        return list(await session.scalars(select(WaitlistPlace).order_by(WaitlistPlace.id)))


async def notices(services: Services) -> list[Notice]:
    async with services.db.reading() as session:
        return list(await session.scalars(select(Notice).order_by(Notice.id)))


async def freed_place(services: Services, clock: FixedClock) -> WaitlistPlace:
    await full_sunday_with_five_waiting(services, clock)
    assert await services.waitlist.days_changed({SUNDAY}) == 0  # full: nothing to offer
    await services.reservations.cancel(FULL[0])
    assert await services.waitlist.days_changed({SUNDAY}) == 1
    [place] = await places(services)
    return place


async def test_a_cancel_opens_one_place_offered_to_the_three_longest_waiting_with_notices(
        services: Services, clock: FixedClock) -> None:
    place = await freed_place(services, clock)
    assert (place.slot_date, place.slot_time, place.status, place.wave) == (SUNDAY, "11:00", "offering", 1)
    assert place.hold_until == clock.now + timedelta(minutes=15)
    wave = await offers(services)
    assert [(o.wa_id, o.wave, o.status) for o in wave] == [(w, 1, "open") for w in WAITING[:3]]
    told = {n.id: n for n in await notices(services)}
    assert sorted(told) == sorted(o.notice_id or 0 for o in wave)
    for offer in wave:
        notice = told[offer.notice_id or 0]
        assert (notice.wa_id, notice.purpose, notice.status, notice.template) == (
            offer.wa_id, "offer", "queued", "waitlist_offer")  # nobody wrote within 24 hours: the template
        assert notice.buttons == [{"id": f"w:{offer.id}:accept", "title": "قبول"},
                                  {"id": f"w:{offer.id}:decline", "title": "رفض"}]
        assert (notice.slot_date, notice.slot_time) == (SUNDAY, "11:00")
    assert await services.waitlist.days_changed({SUNDAY}) == 0  # one place per slot at a time
    assert await services.waitlist.sweep() == 0


async def test_a_customer_who_wrote_gets_the_offer_in_their_language_kept_with_its_template_for_the_sender(
        services: Services, clock: FixedClock) -> None:
    await full_sunday_with_five_waiting(services, clock)
    await services.conversations.append(WAITING[0], "user", "Hello, any place on Sunday?")
    await services.reservations.cancel(FULL[0])
    await services.waitlist.days_changed({SUNDAY})
    [first] = [n for n in await notices(services) if n.wa_id == WAITING[0]]
    # The sender picks the channel by the window as it stands when it sends (test_waitlist_presses): the template is
    # kept for when the window has closed by then.
    assert (first.template, first.language, first.parameters) == (
        "waitlist_offer", "en", ["Waiting 0", "the clinic", "Sunday", "2026-12-06", "11:00"])
    assert first.text.startswith("Hello Waiting 0, a place has opened at the clinic on Sunday 2026-12-06 at 11:00.")
    assert [b["title"] for b in first.buttons or []] == ["Accept", "Decline"]


async def test_a_hold_that_ends_tells_the_wave_it_has_gone_and_offers_the_next_wave(
        services: Services, clock: FixedClock) -> None:
    await freed_place(services, clock)
    clock.now += timedelta(minutes=14)
    assert await services.waitlist.expire_holds() == 0
    clock.now += timedelta(minutes=1)
    assert await services.waitlist.expire_holds() == 1
    [place] = await places(services)
    assert (place.status, place.wave, place.hold_until) == ("offering", 2, clock.now + timedelta(minutes=15))
    assert [(o.wa_id, o.wave, o.status) for o in await offers(services)] == [
        *((w, 1, "gone") for w in WAITING[:3]), *((w, 2, "open") for w in WAITING[3:])]
    gone = [n.wa_id for n in await notices(services) if n.purpose == "offer_gone"]
    assert gone == WAITING[:3]
    clock.now += timedelta(minutes=15)
    assert await services.waitlist.expire_holds() == 1
    [place] = await places(services)
    assert (place.status, place.hold_until) == ("lapsed", None)  # nobody left
    assert await services.waitlist.sweep() == 0  # everyone waiting was offered this slot already


async def test_a_wave_that_all_declines_starts_the_next_wave(services: Services, clock: FixedClock) -> None:
    await freed_place(services, clock)
    wave = await offers(services)
    for offer in wave[:2]:
        answer = await services.waitlist.answer_press(offer.wa_id, Press("w", offer.id, "decline"))
        assert answer.text == "شكراً لك؛ سيُعرض المكان على الشخص التالي. ما زلت في قائمة الانتظار."
    [place] = await places(services)
    assert place.wave == 1
    await services.waitlist.answer_press(wave[2].wa_id, Press("w", wave[2].id, "decline"))
    [place] = await places(services)
    assert (place.status, place.wave) == ("offering", 2)
    assert [(o.wa_id, o.status) for o in await offers(services)] == [
        *((w, "declined") for w in WAITING[:3]), *((w, "open") for w in WAITING[3:])]
    assert not [n for n in await notices(services) if n.purpose == "offer_gone"]  # decliners are not told


async def test_blocked_and_opted_out_customers_are_skipped(services: Services, clock: FixedClock) -> None:
    await full_sunday_with_five_waiting(services, clock)
    await services.customers.set_flags(WAITING[0], blocked=True)
    await services.customers.set_flags(WAITING[1], notices_opt_out=True)
    await services.reservations.cancel(FULL[0])
    await services.waitlist.days_changed({SUNDAY})
    assert [o.wa_id for o in await offers(services)] == WAITING[2:]


async def test_sweeps_racing_on_two_instances_open_one_place(db: Database, services: Services,
                                                             clock: FixedClock) -> None:
    await full_sunday_with_five_waiting(services, clock)
    await services.reservations.cancel(FULL[0])  # nobody told the waitlist: the sweep finds it
    other = build_services(services.config, db, clock, limits=PER_CALL)
    for _ in range(5):
        created = await asyncio.gather(services.waitlist.sweep(), other.waitlist.sweep(),
                                       services.waitlist.days_changed({SUNDAY}), other.waitlist.days_changed({SUNDAY}))
        assert sum(created) <= 1
    assert [(p.slot_date, p.slot_time, p.status) for p in await places(services)] == [(SUNDAY, "11:00", "offering")]
    assert len(await offers(services)) == 3


async def test_an_entry_whose_range_is_over_expires_at_the_sweep(services: Services, clock: FixedClock) -> None:
    await services.waitlist.join(WAITING[0], SUNDAY, SUNDAY, author="customer")
    clock.now += timedelta(days=6)
    await services.waitlist.sweep()
    listing = await services.waitlist.listing(status=None)
    assert [e.status for e in listing.entries] == ["expired"]


async def test_the_offers_buttons_carry_the_titles_the_clinic_set_in_its_templates(
        db: Database, config: ClinicConfig, clock: FixedClock) -> None:
    titles = {"en": {"accept": "Book it", "decline": "No thanks"}, "ar": {"accept": "احجزه لي", "decline": "لا شكراً"}}
    notices_config = NoticeConfig(templates=notice_templates(json.dumps({"offer": {"buttons": titles}})))
    services = build_services(config, db, clock, limits=PER_CALL, notices=notices_config)
    place = await freed_place(services, clock)
    [first, *_] = [n for n in await notices(services) if n.purpose == "offer"]
    offer = next(o for o in await offers(services) if o.notice_id == first.id)
    assert first.buttons == [{"id": f"w:{offer.id}:accept", "title": titles[first.language]["accept"]},
                             {"id": f"w:{offer.id}:decline", "title": titles[first.language]["decline"]}]
    assert place.status == "offering"


def test_offer_buttons_that_miss_an_action_or_pass_whatsapps_length_are_refused_when_read() -> None:
    with pytest.raises(TemplateError, match="give a title for each of accept, decline"):
        notice_templates(json.dumps({"offer": {"buttons": {"en": {"accept": "Yes"}}}}))
    with pytest.raises(TemplateError, match="1 to 20"):
        notice_templates(json.dumps({"offer": {"buttons": {"en": {"accept": "Yes" * 10, "decline": "No"}}}}))
