"""Two `serve` instances told of each other through Redis pub/sub (`REDIS_URL`) instead of PostgreSQL's
LISTEN/NOTIFY: events reach the other console, customers the other search, and a lost Redis connection is
opened again."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis
from websockets.asyncio.client import connect

from domain.workers.broadcast import RedisBroadcast
from domain.services import Services
from tests.chat_bridge.test_instances import AGENT, CUSTOMER, eventually, two_services  # noqa: F401 (fixture)
from tests.fakes.graph_api import (FakeGraphApi, bridge_settings, graph_api, next_event,  # noqa: F401
                                   running_bridge, until_ready)

pytestmark = pytest.mark.postgres
REDIS_URL = os.environ.get("REDIS_URL_TEST", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as error:  # noqa: BLE001 - any failure to reach the server means the same thing here
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} is not reachable: {error}")
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {error}")
    finally:
        await client.aclose()
    yield REDIS_URL


async def test_with_redis_an_event_and_a_customer_on_one_instance_reach_the_other(
    two_services: list[Services], graph_api: FakeGraphApi, redis_url: str  # noqa: F811 (fixture)
) -> None:
    a, b = two_services
    settings = bridge_settings(graph_api, redis_url=redis_url)
    async with running_bridge(a, graph_api, settings=settings) as first, \
            running_bridge(b, graph_api, settings=settings) as second:
        ready = (await until_ready(second)).json()
        async with connect(second.ws_url) as sidebar:
            await first.http.post("/whatsapp/message", json={"wa_id": AGENT, "message": "hello over Redis"})
            stored = await next_event(sidebar, "conversation_new_message")

        async def found_on_b() -> list[dict[str, Any]]:
            hits: list[dict[str, Any]] = (await second.http.get("/customers/search", params={"q": "Zubaida"})).json()
            return [h for h in hits if h["wa_id"] == CUSTOMER]

        await a.customers.ensure(CUSTOMER, "Zubaida Haddad")
        found = await eventually(found_on_b, 1)
    assert ready["checks"]["broadcast"] is True and ready["status"] == "ready"
    assert stored["message"]["text"] == "hello over Redis"
    assert found[0]["name"] == "Zubaida Haddad"


async def test_a_lost_redis_connection_is_opened_again_and_messages_flow_again(redis_url: str) -> None:
    channel = f"calendar_agent_test_{uuid.uuid4().hex[:8]}"
    sender, listener = RedisBroadcast(redis_url, channel), RedisBroadcast(redis_url, channel, max_backoff=0.2)
    heard: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive(kind: str, body: dict[str, Any]) -> None:
        await heard.put(body)

    listener.receivers.append(receive)
    await sender.start()
    await listener.start()
    admin = redis.Redis.from_url(redis_url)
    try:
        await sender.send("event", {"n": 1})
        assert await asyncio.wait_for(heard.get(), 5) == {"n": 1}
        killed = await admin.client_kill_filter(_type="pubsub", skipme=True)
        assert killed >= 1

        async def delivered() -> bool:
            await sender.send("event", {"n": 2})
            try:
                return await asyncio.wait_for(heard.get(), 0.3) == {"n": 2}
            except TimeoutError:
                return False

        assert await eventually(delivered, 10)
        assert await listener.is_connected()
    finally:
        await admin.aclose()
        await sender.close()
        await listener.close()
