"""A live calendar at the served app's /mcp: a client subscribed to `calendar://day/{date}` hears when that day
changes, whoever changed it (another MCP client, the customer assistant, an operator), on both eras of the
protocol; and `completion/complete` suggests dates, times, numbers and names."""

from __future__ import annotations

import asyncio
import json
import warnings
from typing import Any

from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.shared.subscriptions import ResourceUpdated
from mcp_types import PromptReference, ResourceTemplateReference, ResourceUpdatedNotification

from domain.services import Services
from mcp_server.customer_server import build_customer_server
from tests.fakes.graph_api import RunningBridge, bridge, graph_api  # noqa: F401

SUNDAY, MONDAY = "2026-12-06", "2026-12-07"
OMAR, SARA = "966501110002", "966501110003"
DAY = "calendar://day/{}".format


async def subscribe(client: Client, uri: str) -> None:
    """`resources/subscribe`, as a 2025-era client sends it (the SDK warns that 2026-07-28 removed it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await client.session.subscribe_resource(uri)


async def omar_on_sunday(services: Services) -> int:
    await services.customers.ensure(OMAR, "Omar Haddad")
    await services.customers.ensure(SARA, "Sara Khan")
    result = await services.reservations.reserve(OMAR, SUNDAY, "11:00")
    assert result.reservation is not None
    return result.reservation.id


async def test_a_listening_client_hears_when_another_client_moves_a_reservation_off_its_day(
        services: Services, bridge: RunningBridge) -> None:  # noqa: F811
    reservation_id = await omar_on_sunday(services)
    async with Client(f"{bridge.url}/mcp") as watcher, Client(f"{bridge.url}/mcp") as mover:
        async with watcher.listen(resource_subscriptions=[DAY(SUNDAY)]) as events:
            assert events.honored.resource_subscriptions == [DAY(SUNDAY)]
            moved = await mover.call_tool("system_batch_modify", {"requests": [
                {"reservation_id": reservation_id, "new_date": MONDAY}]})
            assert moved.is_error is False
            async with asyncio.timeout(10):
                event = await anext(aiter(events))
        day = await watcher.read_resource(DAY(SUNDAY))
    assert event == ResourceUpdated(DAY(SUNDAY))
    assert "Omar Haddad" not in day.contents[0].text  # type: ignore[union-attr]


async def test_the_customer_assistant_and_the_operator_api_are_heard_too(services: Services,
                                                                         bridge: RunningBridge) -> None:  # noqa: F811
    await omar_on_sunday(services)
    heard: list[Any] = []
    async with Client(f"{bridge.url}/mcp") as watcher:
        async with watcher.listen(resource_subscriptions=[DAY(MONDAY)]) as events:
            async with Client(build_customer_server(services, SARA), mode="legacy") as customer:
                booked = await customer.call_tool("reserve_time_slot", {"date": MONDAY, "time_slot": "13:00"})
            assert booked.is_error is False
            async with asyncio.timeout(10):
                heard.append(await anext(aiter(events)))
            operator = await bridge.http.post("/reservations", json={"wa_id": OMAR, "date": MONDAY,
                                                                     "time_slot": "15:00"})
            assert operator.status_code == 201
            async with asyncio.timeout(10):
                heard.append(await anext(aiter(events)))
        day = json.loads((await watcher.read_resource(DAY(MONDAY))).contents[0].text)  # type: ignore[union-attr]
    assert heard == [ResourceUpdated(DAY(MONDAY))] * 2
    names = {r["customer_name"] for slot in day["slots"] for r in slot["reservations"]}
    assert names == {"Sara Khan", "Omar Haddad"}


async def test_a_2025_session_subscribes_with_resources_subscribe_and_gets_the_update(
        services: Services, bridge: RunningBridge) -> None:  # noqa: F811
    reservation_id = await omar_on_sunday(services)
    updates: asyncio.Queue[str] = asyncio.Queue()

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            await updates.put(message.params.uri)

    async with Client(f"{bridge.url}/mcp", mode="legacy", message_handler=on_message) as watcher, \
            Client(f"{bridge.url}/mcp") as canceller:
        assert watcher.server_capabilities.resources is not None and watcher.server_capabilities.resources.subscribe
        await subscribe(watcher, DAY(SUNDAY))
        await subscribe(watcher, DAY(MONDAY))
        cancelled = await canceller.call_tool("system_batch_cancel", {"requests": [{"reservation_id": reservation_id}]})
        assert cancelled.is_error is False
        async with asyncio.timeout(10):
            uri = await updates.get()
    assert uri == DAY(SUNDAY) and updates.empty()


async def test_a_subscription_to_something_else_is_refused_with_a_sentence(services: Services,
                                                                           bridge: RunningBridge) -> None:  # noqa: F811
    async with Client(f"{bridge.url}/mcp", mode="legacy") as client:
        try:
            await subscribe(client, "file:///etc/passwd")
        except Exception as error:
            message = str(error)
        else:
            raise AssertionError("the subscription was accepted")
    assert "subscribe to calendar://day/YYYY-MM-DD" in message


async def test_completions_offer_open_days_the_days_slots_numbers_and_names(services: Services,
                                                                            bridge: RunningBridge) -> None:  # noqa: F811
    await omar_on_sunday(services)
    await services.vacations.add("2026-12-08", "2026-12-08", "Staff training")
    day = ResourceTemplateReference(uri="calendar://day/{date}")
    move = PromptReference(name="move_day")
    book = PromptReference(name="book_customer")
    async with Client(f"{bridge.url}/mcp") as client:
        dates = await client.complete(day, {"name": "date", "value": "2026-12-0"})
        targets = await client.complete(move, {"name": "to_date", "value": ""})
        saturday = await client.complete(book, {"name": "time_slot", "value": "8"}, {"date": "2026-12-05"})
        sunday = await client.complete(book, {"name": "time_slot", "value": "1"}, {"date": SUNDAY})
        numbers = await client.complete(ResourceTemplateReference(uri="calendar://customer/{wa_id}"),
                                        {"name": "wa_id", "value": "0111"})
        omar = json.loads((await client.read_resource(f"calendar://customer/{OMAR}")).contents[0].text)  # type: ignore[union-attr]
        names = await client.complete(book, {"name": "customer", "value": "Omar"})
    # Today is Tuesday 2026-12-01: Friday the 4th is closed, the 8th is a vacation.
    assert dates.completion.values == ["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-05", "2026-12-06",
                                       "2026-12-07", "2026-12-09"]
    assert targets.completion.values[:3] == ["2026-12-01", "2026-12-02", "2026-12-03"]
    assert saturday.completion.values == ["20:00"]  # 8:00 PM
    assert sunday.completion.values == ["11:00", "13:00", "15:00"]
    assert sorted(numbers.completion.values) == [OMAR, SARA]
    assert omar == {"wa_id": OMAR, "name": "Omar Haddad", "last_visit": None, "last_visit_hijri": None, "visits": 0,
                    "cancellations": 0, "next_booking": SUNDAY, "no_shows": 0, "late_cancels": 0,
                    "customer_written": ["name"]}
    assert names.completion.values == ["Omar Haddad"]
