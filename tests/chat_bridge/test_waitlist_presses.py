"""The waitlist's buttons as the served app takes them, on SQLite and PostgreSQL: a cancel frees a place, the wave's
offers go out as templates with Accept and Decline, and five customers pressing Accept at once through the signed
webhook (template quick replies, as WhatsApp delivers them) leave exactly one booked and the others told the place
has gone; a press on another customer's offer changes nothing. Offers made in quiet hours wait for the morning, and
their hold starts then."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from domain.config import ClinicConfig
from domain.services import Services, build_services
from domain.storage.database import Database
from domain.storage.models import Notice, Reservation, WaitlistEntry, WaitlistOffer, WaitlistPlace
from domain.waitlist.answers import ANSWERS
from domain.waitlist.rules import WaitlistConfig
from tests.chat_bridge.test_webhook import deliver
from tests.conftest import PER_CALL, FixedClock
from tests.fakes.graph_api import FakeGraphApi, RunningBridge, button_press, graph_api, running_bridge  # noqa: F401

SUNDAY = date(2026, 12, 6)
FULL = [f"9665010000{n:02d}" for n in range(5)]
WAITING = [f"9665020000{n:02d}" for n in range(5)]


@pytest.fixture
def services(db: Database, config: ClinicConfig, clock: FixedClock) -> Services:
    """A wave of five, so that all five waiting customers are offered the place at once."""
    return build_services(config, db, clock, limits=PER_CALL, waitlist=WaitlistConfig(wave_size=5))


@pytest.fixture
async def bridge(services: Services, graph_api: FakeGraphApi) -> AsyncIterator[RunningBridge]:  # noqa: F811
    graph_api.approve_defaults()
    async with running_bridge(services, graph_api) as running:
        yield running


async def full_sunday_with_five_waiting(services: Services, clock: FixedClock) -> list[int]:
    """Sunday 11:00 full with an agent's five; five customers waiting for it, the first the longest."""
    ids = []
    for wa_id in FULL:
        result = await services.reservations.reserve(wa_id, SUNDAY, "11:00")
        assert result.reservation is not None
        ids.append(result.reservation.id)
    for n, wa_id in enumerate(WAITING):
        clock.now += timedelta(seconds=1)
        await services.customers.ensure(wa_id, f"Waiting {n}")
        await services.waitlist.join(wa_id, SUNDAY, SUNDAY, ["11:00"], author="customer")
    return ids


async def offer_ids(services: Services) -> dict[str, int]:
    async with services.db.reading() as session:
        return {w: i for i, w in (await session.execute(select(WaitlistOffer.id, WaitlistOffer.wa_id))).all()}


async def texts_to(bridge: RunningBridge, wa_id: str) -> list[str]:
    return [m.text for m in bridge.graph.sent if m.to == wa_id and m.kind == "text"]


async def until_told(bridge: RunningBridge, wanted: dict[str, str]) -> None:
    """Until each customer has been sent the text wanted for them (a deadline, not a pause)."""
    async with asyncio.timeout(20), bridge.graph.changed:
        await bridge.graph.changed.wait_for(lambda: all(
            text in [m.text for m in bridge.graph.sent if m.to == wa_id] for wa_id, text in wanted.items()))


async def offered_by_template(bridge: RunningBridge, clock: FixedClock) -> dict[str, int]:
    """The console cancels one of the five; the wave's five offers go out; each customer's offer id."""
    ids = await full_sunday_with_five_waiting(bridge.services, clock)
    cancelled = await bridge.http.post("/batches/cancel", json={"requests": [{"reservation_id": ids[0]}]})
    assert cancelled.json()["status"] == "applied"
    await bridge.graph.wait_for_sends(5, timeout=20)
    offers = await offer_ids(bridge.services)
    assert sorted(offers) == WAITING
    for sent in bridge.graph.sent:
        assert (sent.kind, sent.template) == ("template", "waitlist_offer")
        assert sent.buttons == (f"w:{offers[sent.to]}:accept", f"w:{offers[sent.to]}:decline")
    return offers


async def test_five_customers_accepting_one_place_at_once_leave_exactly_one_booked(
        bridge: RunningBridge, clock: FixedClock) -> None:
    offers = await offered_by_template(bridge, clock)
    presses = [button_press(wa_id, f"wamid.accept{n}", f"w:{offers[wa_id]}:accept", "قبول", template=True)
               for n, wa_id in enumerate(WAITING)]
    assert await asyncio.gather(*(deliver(bridge, press) for press in presses)) == [200] * 5

    async with bridge.services.db.reading() as session:
        booked = list(await session.scalars(select(Reservation.wa_id).where(
            Reservation.wa_id.in_(WAITING), Reservation.status == "active")))
        [place] = list(await session.scalars(select(WaitlistPlace)))
        states = dict((await session.execute(select(WaitlistOffer.wa_id, WaitlistOffer.status))).all())
        entries = dict((await session.execute(select(WaitlistEntry.wa_id, WaitlistEntry.status))).all())
        in_slot = await session.scalar(select(func.count()).select_from(Reservation).where(
            Reservation.date == SUNDAY, Reservation.time_slot == "11:00", Reservation.status == "active"))
    [winner] = booked
    assert (place.status, place.offer_id) == ("taken", offers[winner])
    assert states == {w: "accepted" if w == winner else "gone" for w in WAITING}
    assert entries == {w: "booked" if w == winner else "waiting" for w in WAITING}
    assert in_slot == 5
    losers = [w for w in WAITING if w != winner]
    await until_told(bridge, {w: ANSWERS["gone"][1] for w in losers})
    told_winner = await texts_to(bridge, winner)
    assert len(told_winner) == 1 and told_winner[0].startswith("تم الحجز: ")
    for wa_id in losers:
        assert not any(text.startswith("تم الحجز") for text in await texts_to(bridge, wa_id))


async def test_a_press_on_another_customers_offer_changes_nothing_and_is_answered_politely(
        bridge: RunningBridge, clock: FixedClock) -> None:
    offers = await offered_by_template(bridge, clock)
    intruder, victim = WAITING[4], WAITING[0]
    forged = button_press(intruder, "wamid.forged", f"w:{offers[victim]}:accept", "قبول", template=True)
    assert await deliver(bridge, forged) == 200
    await until_told(bridge, {intruder: ANSWERS["not_current"][1]})
    async with bridge.services.db.reading() as session:
        states = set((await session.scalars(select(WaitlistOffer.status))).all())
        [place] = list(await session.scalars(select(WaitlistPlace)))
        booked = await session.scalar(select(func.count()).select_from(Reservation).where(
            Reservation.wa_id.in_(WAITING)))
    assert (states, place.status, booked) == ({"open"}, "offering", 0)


async def test_offers_made_in_quiet_hours_go_out_in_the_morning_and_are_held_from_then(
        services: Services, clock: FixedClock) -> None:
    await full_sunday_with_five_waiting(services, clock)
    clock.now = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # 23:00 in Riyadh: quiet until 08:00
    await services.reservations.cancel(FULL[0])
    assert await services.waitlist.days_changed({SUNDAY}) == 1
    morning = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
    async with services.db.reading() as session:
        [place] = list(await session.scalars(select(WaitlistPlace)))
        times = set((await session.scalars(select(Notice.available_at).where(Notice.purpose == "offer"))).all())
    assert times == {morning}
    assert place.hold_until == morning + timedelta(minutes=15)


async def test_an_offer_goes_interactive_to_a_customer_who_wrote_today_and_as_the_template_to_the_others(
        bridge: RunningBridge, clock: FixedClock) -> None:
    ids = await full_sunday_with_five_waiting(bridge.services, clock)
    await bridge.services.conversations.append(WAITING[0], "user", "Any place on Sunday?")
    cancelled = await bridge.http.post("/batches/cancel", json={"requests": [{"reservation_id": ids[0]}]})
    assert cancelled.json()["status"] == "applied"
    await bridge.graph.wait_for_sends(5, timeout=20)
    offers = await offer_ids(bridge.services)
    kinds = {sent.to: (sent.kind, sent.buttons) for sent in bridge.graph.sent}
    assert kinds == {wa_id: ("interactive" if wa_id == WAITING[0] else "template",
                             (f"w:{offers[wa_id]}:accept", f"w:{offers[wa_id]}:decline")) for wa_id in WAITING}
