"""Two service verbs in one caller's transaction (`Database.together`): what they write commits together or not at
all, and their listeners hear of it only once it is committed. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from domain.errors import DomainError
from domain.services import Services
from domain.system_agent.batch import BatchOptions
from domain.views import ReservationView

OMAR, SARA = "966501110001", "966501110002"
SUNDAY, MONDAY = "2026-12-06", "2026-12-07"


def heard(services: Services) -> list[str]:
    """What the calendar's listeners are told, as 'action wa_id'."""
    told: list[str] = []

    async def listen(action: str, view: ReservationView) -> None:
        told.append(f"{action} {view.wa_id}")
    services.events.listeners.append(listen)
    return told


async def active(services: Services, wa_id: str) -> list[str]:
    return [r.date for r in await services.reservations.customer_reservations(wa_id)]


async def test_two_verbs_in_one_transaction_commit_together_and_are_told_after_the_commit(
        services: Services) -> None:
    told = heard(services)
    async with services.db.together():
        await services.reservations.reserve(OMAR, SUNDAY, "11:00")
        await services.batch.reserve([{"wa_id": SARA, "date": MONDAY, "time_slot": "13:00"}])
        assert told == []  # nothing is committed yet, so nobody is told
    assert told == [f"created {OMAR}", f"created {SARA}"]
    assert (await active(services, OMAR), await active(services, SARA)) == ([SUNDAY], [MONDAY])


async def test_a_refused_second_verb_takes_the_first_ones_write_back_and_nobody_is_told(
        services: Services) -> None:
    told = heard(services)
    with pytest.raises(DomainError) as error:
        async with services.db.together():
            await services.reservations.reserve(OMAR, SUNDAY, "11:00")
            await services.reservations.reserve(SARA, "2026-12-04", "11:00")  # a Friday: the clinic is closed
    assert error.value.code == "clinic_closed"
    assert told == [] and await active(services, OMAR) == []


async def test_outside_a_joint_transaction_each_verb_commits_and_is_told_at_once(services: Services) -> None:
    told = heard(services)
    await services.reservations.reserve(OMAR, SUNDAY, "11:00")
    assert told == [f"created {OMAR}"]
    report = await services.batch.cancel([{"wa_id": OMAR}], options=BatchOptions())
    assert report.status == "applied" and told == [f"created {OMAR}", f"cancelled {OMAR}"]


async def test_a_unit_of_work_opened_inside_another_is_refused_at_once_on_sqlite(services: Services) -> None:
    """On SQLite the inner one would wait for the outer one's write lock until the busy timeout; on PostgreSQL it
    is a transaction of its own."""
    db = services.db
    async with db.unit_of_work():
        if db.is_sqlite:
            with pytest.raises(RuntimeError, match="together"):
                async with db.unit_of_work():
                    pass
        else:
            async with db.unit_of_work() as inner:
                await services.customers.ensure(OMAR)
                assert inner is not None
    assert db.is_sqlite or await services.customers.get(OMAR) is not None
