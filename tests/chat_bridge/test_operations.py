"""`/health`, `/ready` and `/metrics` of the service as `serve` builds it."""

import asyncio
import threading
from typing import Any

import pytest
from mcp import Client
from sqlalchemy import text

import domain.search.service as search_service
from domain.search.index import CustomerSearchIndex
from domain.services import Services
from tests.fakes.graph_api import (FakeGraphApi, RunningBridge, bridge_settings, graph_api,  # noqa: F401
                                   running_bridge, until_ready)

AGENT = "12125550123"


async def test_a_running_service_is_ready(services: Services, graph_api: FakeGraphApi) -> None:  # noqa: F811
    async with running_bridge(services, graph_api) as bridge:
        ready = await until_ready(bridge)
    shared = {"broadcast": True} if not services.db.is_sqlite else {}  # PostgreSQL: the channel between instances
    assert ready.json() == {"status": "ready", "checks": {"database": True, "migrations": True, "search": True,
                                                          **shared, "workers": True, "notices": True}}


async def test_until_its_search_index_is_built_the_service_is_not_ready_and_loses_nothing_written_meanwhile(
    services: Services, graph_api: FakeGraphApi, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    building, release = threading.Event(), threading.Event()
    def held_back(rows: Any) -> CustomerSearchIndex:
        building.set()
        release.wait(10)
        return CustomerSearchIndex(rows)

    monkeypatch.setattr(search_service, "CustomerSearchIndex", held_back)
    await services.customers.ensure("966501112233", "Omar Haddad")
    async with running_bridge(services, graph_api) as bridge:
        assert await asyncio.to_thread(building.wait, 10)
        not_yet, alive = await bridge.http.get("/ready"), await bridge.http.get("/health")
        await services.customers.ensure("966504445566", "Zainab Qureshi")  # committed while the index builds
        asking = asyncio.create_task(bridge.http.get("/customers/search", params={"q": "Zainab"}))
        release.set()
        await until_ready(bridge)
        found = (await asking).json()
        again = (await bridge.http.get("/customers/search", params={"q": "Omar"})).json()
    assert (not_yet.status_code, not_yet.json()["checks"]["search"], not_yet.json()["checks"]["database"]) == (
        503, False, True)
    assert alive.status_code == 200
    assert [hit["wa_id"] for hit in found] == ["966504445566"]
    assert [hit["wa_id"] for hit in again] == ["966501112233"]


async def test_a_database_behind_the_migrations_is_not_ready(services: Services,
                                                            graph_api: FakeGraphApi) -> None:  # noqa: F811
    async with services.db.unit_of_work() as session:
        current = await session.scalar(text("SELECT version_num FROM alembic_version"))
        await session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        async with running_bridge(services, graph_api) as bridge, asyncio.timeout(10):
            while not (ready := await bridge.http.get("/ready")).json()["checks"]["search"]:
                await asyncio.sleep(0.02)  # the index builds as the service starts: every other check is settled
    finally:
        async with services.db.unit_of_work() as session:
            await session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
    assert ready.status_code == 503
    shared = {"broadcast": True} if not services.db.is_sqlite else {}
    assert ready.json()["checks"] == {"database": True, "migrations": False, "search": True, **shared,
                                         "workers": True, "notices": True}


async def scrape_until(bridge: RunningBridge, line: str) -> str:
    """The metrics once they show `line` (a turn is counted just after its reply is stored)."""
    async with asyncio.timeout(10):
        while line not in (body := (await bridge.http.get("/metrics")).text):
            await asyncio.sleep(0.02)
    return body


async def test_metrics_count_requests_turns_batches_and_the_queue(services: Services,
                                                                  graph_api: FakeGraphApi) -> None:  # noqa: F811
    async with running_bridge(services, graph_api) as bridge:
        sent = await bridge.http.post("/whatsapp/message", json={"wa_id": AGENT, "message": "what is on Sunday?"})
        await bridge.http.patch("/customers/966500000001", json={"blocked": True})
        await bridge.http.request("PROPFIND", "/no/such/path/invented-segment")
        async with Client(f"{bridge.url}/mcp") as client:
            await client.call_tool("system_batch_reserve", {"requests": [
                {"wa_id": "966501234567", "date": "2026-12-06", "time_slot": "11:00"},
                {"wa_id": "966507654321", "date": "2026-12-06", "time_slot": "13:00"}]})
        body = await scrape_until(bridge, 'calendar_agent_turns_total{kind="system",outcome="answered"} 1.0')
    assert sent.status_code == 202
    assert 'calendar_http_requests_total{method="POST",route="/whatsapp/message",status="202"} 1.0' in body
    assert 'calendar_http_requests_total{method="PATCH",route="/customers/{wa_id}",status="404"} 1.0' in body
    assert 'calendar_agent_turn_seconds_count{kind="system"} 1.0' in body
    assert "PROPFIND" not in body and "invented-segment" not in body  # neither invented methods nor paths become labels
    assert 'calendar_batch_items_count{tool="system_batch_reserve"} 1.0' in body
    assert 'calendar_batch_items_sum{tool="system_batch_reserve"} 2.0' in body
    assert 'calendar_queue_jobs{state="queued"} 0.0' in body and "calendar_queue_oldest_job_seconds 0.0" in body


async def test_metrics_need_the_operator_token_and_readiness_does_not(services: Services,
                                                                     graph_api: FakeGraphApi) -> None:  # noqa: F811
    settings = bridge_settings(graph_api, operator_token="t", mcp_auth_token="m")
    async with running_bridge(services, graph_api, settings=settings, public=True) as bridge:
        anonymous = await bridge.http.get("/metrics")
        signed = await bridge.http.get("/metrics", headers={"Authorization": "Bearer t"})
        ready = await bridge.http.get("/ready")
    assert (anonymous.status_code, signed.status_code, ready.status_code) == (401, 200, 200)
    assert signed.headers["content-type"].startswith("text/plain")
