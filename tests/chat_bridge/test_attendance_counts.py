"""Each customer's no-shows and late cancellations, as the served app shows them: in the console's customer search
(`GET /customers/search`) and in the system agent's `calendar://customer/{wa_id}` resource at /mcp (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from mcp import Client

from domain.services import Services
from domain.system_agent.batch import BatchOptions
from tests.conftest import FixedClock
from tests.fakes.graph_api import RunningBridge, bridge, graph_api  # noqa: F401

HIND, SAMI = "966503300001", "966503300002"
YES = BatchOptions(confirmed=True)


async def history(services: Services, clock: FixedClock) -> None:
    """Hind: two no-shows and a late cancellation; Sami: an early cancellation only."""
    first = await services.reservations.reserve(HIND, "2026-12-01", "11:00", customer_name="Hind Saleh")
    await services.reservations.reserve(SAMI, "2026-12-09", "11:00", customer_name="Sami Hind")
    await services.reservations.cancel(SAMI)  # a week ahead: not late
    assert first.reservation is not None
    clock.now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    await services.batch.mark_attendance("no_show", [first.reservation.id], options=YES)
    second = await services.reservations.reserve(HIND, "2026-12-02", "11:00")
    assert second.reservation is not None
    clock.now = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    await services.batch.mark_attendance("no_show", [second.reservation.id], options=YES)
    third = await services.reservations.reserve(HIND, "2026-12-03", "11:00")
    assert third.reservation is not None
    await services.reservations.cancel(HIND, third.reservation.id)  # 17 hours before: late


async def test_the_search_hits_carry_each_customers_counts(services: Services, clock: FixedClock,
                                                           bridge: RunningBridge) -> None:  # noqa: F811
    await history(services, clock)
    hits = (await bridge.http.get("/customers/search", params={"q": "Hind"})).json()
    assert {h["wa_id"]: (h["no_shows"], h["late_cancels"]) for h in hits} == {HIND: (2, 1), SAMI: (0, 0)}


async def test_the_customer_resource_carries_the_counts(services: Services, clock: FixedClock,
                                                        bridge: RunningBridge) -> None:  # noqa: F811
    await history(services, clock)
    async with Client(f"{bridge.url}/mcp") as client:
        hind = json.loads((await client.read_resource(f"calendar://customer/{HIND}")).contents[0].text)  # type: ignore[union-attr]
        sami = json.loads((await client.read_resource(f"calendar://customer/{SAMI}")).contents[0].text)  # type: ignore[union-attr]
    assert (hind["no_shows"], hind["late_cancels"], hind["cancellations"], hind["visits"]) == (2, 1, 1, 0)
    assert (sami["no_shows"], sami["late_cancels"], sami["cancellations"]) == (0, 0, 1)
