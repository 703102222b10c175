"""One filter language: the same filters find the same reservations whether a listing reads them or a batch
acts on them, on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import DomainError
from domain.services import Services
from domain.system_agent.batch import BatchOptions

SUNDAY, MONDAY = "2026-12-06", "2026-12-07"
BOOKINGS = [("966500000001", "Layla Hassan", SUNDAY, "11:00", 1), ("966500000002", "Layla Omar", SUNDAY, "13:00", 0),
            ("966500000003", "Khalid Nasser", SUNDAY, "11:00", 1), ("966500000004", "Layla Hassan", MONDAY, "11:00", 1),
            ("٩٦٦٥٠٠٠٠٠٠٠٥", "ليلى حسن", SUNDAY, "15:00", 1)]
FILTERS: list[dict[str, Any]] = [
    {"dates": [SUNDAY]},
    {"dates": [SUNDAY], "reservation_types": [1]},
    {"start_date": SUNDAY, "end_date": MONDAY, "search_query": "Layla"},
    {"wa_ids": ["+966 50 000 0001", "966500000004"], "end_date": SUNDAY},
    {"search_query": "layla", "reservation_types": [1], "wa_ids": ["966500000004"]},
]


async def booked(services: Services) -> None:
    for wa_id, name, day, slot, kind in BOOKINGS:
        await services.reservations.reserve(wa_id, day, slot, kind, customer_name=name)


async def listed(services: Services, filters: dict[str, Any]) -> set[int]:
    page = await services.queries.reservation_page(**filters, include=["reservations"])
    return {r.id for r in page.view().reservations or []}


async def targeted(services: Services, filters: dict[str, Any]) -> set[int]:
    report = await services.batch.cancel(filters=filters, options=BatchOptions(dry_run=True))
    return {i.reservation_id for i in report.items if i.reservation_id is not None}


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(sorted(f)))
async def test_a_listing_and_a_batch_find_the_same_reservations_by_the_same_filters(
        services: Services, filters: dict[str, Any]) -> None:
    await booked(services)
    found = await listed(services, filters)
    assert found and found == await targeted(services, filters)


async def test_a_batch_filters_by_time_too_and_the_slot_is_parsed_as_a_listing_parses_dates(services: Services) -> None:
    await booked(services)
    morning = await targeted(services, {"dates": [SUNDAY], "time_slots": ["11:00 AM"]})
    assert len(morning) == 2 and morning <= await listed(services, {"dates": [SUNDAY]})
    with pytest.raises(DomainError) as error:
        await targeted(services, {"dates": [SUNDAY], "time_slots": ["25:00"]})
    assert error.value.code == "invalid_time"


async def test_a_reversed_range_is_refused_alike_by_a_listing_and_a_batch(services: Services) -> None:
    for find in (listed, targeted):
        with pytest.raises(DomainError) as error:
            await find(services, {"start_date": MONDAY, "end_date": SUNDAY})
        assert error.value.code == "invalid_range"
