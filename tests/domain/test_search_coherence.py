"""The search index follows every customer write of this process as it commits (whichever service made
it), never a rolled-back one, and notices other processes' new customers by recounting."""

import pytest
from sqlalchemy import insert

from domain.services import Services
from domain.search import service as phone_search
from domain.errors import DomainError
from domain.storage.models import Customer
from domain.storage.store import ensure_customers
from domain.system_agent.batch import BatchOptions

CONFIRMED = BatchOptions(confirmed=True)


async def found(services: Services, query: str) -> list[str]:
    return [hit.wa_id for hit in await services.search.search(query)]


async def test_batch_bookings_renames_and_new_numbers_are_found_at_once(services: Services) -> None:
    await services.customers.ensure("966501110001", "Omar Haddad")
    assert await found(services, "Omar") == ["966501110001"]  # the index is built
    await services.batch.reserve([{"wa_id": "966501110002", "date": "2026-12-06", "time_slot": "11:00",
                                   "customer_name": "Layla Hassan"}], CONFIRMED)
    assert await found(services, "Layla") == ["966501110002"]
    await services.batch.modify([{"wa_id": "966501110001", "new_name": "Karim Saleh",
                                  "new_wa_id": "966501110003"}], options=CONFIRMED)
    assert await found(services, "Omar") == []
    assert await found(services, "Karim") == ["966501110003"]
    assert await found(services, "966501110001") == []


async def test_a_rolled_back_customer_never_reaches_the_index(services: Services) -> None:
    assert await found(services, "Nobody") == []
    with pytest.raises(DomainError):
        async with services.db.unit_of_work() as session:
            await ensure_customers(session, {"966501110009": "Ghost Person"})
            raise DomainError("customer_not_found")
    assert await found(services, "Ghost") == []


async def test_a_customer_another_process_created_is_found_after_the_recount(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await found(services, "Nobody") == []
    async with services.db.unit_of_work() as session:  # as another process would: no change noted
        await session.execute(insert(Customer), [{"wa_id": "966501110007", "name": "Samira Nassar"}])
    monkeypatch.setattr(phone_search, "RECOUNT_SECONDS", 0.0)
    assert await found(services, "Samira") == ["966501110007"]
