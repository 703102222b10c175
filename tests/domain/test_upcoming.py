""""Upcoming" is one rule: the query condition selects exactly what `is_upcoming` calls upcoming."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from domain.storage.models import Reservation
from domain.rules.schedule import is_upcoming, slots_for
from domain.services import Services
from domain.storage.store import upcoming
from tests.mcp_server.mcp_scenario import wa_id

DAYS = [date(2026, 12, 1) + timedelta(days=n) for n in range(3)]


async def test_the_query_condition_and_the_booking_rule_agree_at_every_moment(services: Services) -> None:
    n = 0
    for day in DAYS:
        for slot in slots_for(services.config, day):
            await services.reservations.reserve(wa_id(n), day, slot)
            n += 1
    async with services.db.reading() as session:
        rows = (await session.execute(select(Reservation.id, Reservation.date, Reservation.time_slot))).all()
        moment = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
        checked = 0
        while moment < datetime(2026, 12, 4, tzinfo=UTC):
            selected = set(await session.scalars(select(Reservation.id).where(upcoming(services.config, moment))))
            expected = {r.id for r in rows if is_upcoming(services.config, r.date, r.time_slot, moment)}
            assert selected == expected, moment
            moment += timedelta(minutes=7, seconds=30)  # lands on, just before and just after slot ends
            checked += 1
    assert n > 6 and checked > 500
