"""The realtime hub: fan-out to every socket, slow or closed sockets never hold up the others."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.types import Message

from chat_bridge.events import (GOING_AWAY, TRY_AGAIN_LATER, Hub, relayed, reservation_event,
                                 system_agent_error_event, typing_event)
from domain.events import CalendarEvents
from domain.views import ReservationView


def reservation(reservation_id: int, day: str = "2026-12-03") -> ReservationView:
    return ReservationView(id=reservation_id, wa_id="966501234567", customer_name=None, date=day,
                           hijri_date="1448-06-13", weekday="Thursday", time_slot="11:00", time_label="11:00 AM",
                           type=0, type_name="Check-Up", status="active", timezone="Asia/Riyadh")


class FakeSocket:
    """A WebSocket as the hub sees it; `stall` never finishes a send, `broken` fails every send."""

    def __init__(self, stall: bool = False, broken: bool = False) -> None:
        self.stall, self.broken = stall, broken
        self.frames: list[dict[str, Any]] = []
        self.texts: list[str] = []
        self.incoming: asyncio.Queue[Message] = asyncio.Queue()
        self.accepted = asyncio.Event()
        self.closed_with: int | None = None
        self.changed = asyncio.Condition()

    async def accept(self) -> None:
        self.accepted.set()

    async def send_text(self, data: str) -> None:
        if self.broken:
            raise RuntimeError("socket is closed")
        if self.stall:
            await asyncio.Event().wait()
        async with self.changed:
            self.texts.append(data)
            self.frames.append(json.loads(data))
            self.changed.notify_all()

    async def receive(self) -> Message:
        return await self.incoming.get()

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed_with = code

    def leave(self) -> None:
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": 1000})

    async def wait_for_frames(self, count: int) -> None:
        async with asyncio.timeout(10), self.changed:
            await self.changed.wait_for(lambda: len(self.frames) >= count)


async def connect(hub: Hub, socket: FakeSocket) -> asyncio.Task[None]:
    task = asyncio.create_task(hub.serve(socket))
    await socket.accepted.wait()
    return task


async def test_every_socket_receives_every_event_in_order() -> None:
    hub, first, second = Hub(), FakeSocket(), FakeSocket()
    tasks = [await connect(hub, first), await connect(hub, second)]
    for n in range(5):
        await hub.publish(typing_event(str(n), True))
    for socket in (first, second):
        await socket.wait_for_frames(5)
        assert [frame["wa_id"] for frame in socket.frames] == ["0", "1", "2", "3", "4"]
        socket.leave()
    await asyncio.gather(*tasks)
    assert len(hub) == 0


async def test_a_stalled_socket_is_dropped_and_the_others_get_everything() -> None:
    hub, fast, stalled = Hub(buffer=10), FakeSocket(), FakeSocket(stall=True)
    tasks = [await connect(hub, fast), await connect(hub, stalled)]
    for n in range(100):
        await hub.publish(typing_event(str(n), True))
        await fast.wait_for_frames(n + 1)
    await tasks[1]
    assert stalled.closed_with == TRY_AGAIN_LATER
    assert [frame["wa_id"] for frame in fast.frames] == [str(n) for n in range(100)]
    assert len(hub) == 1
    fast.leave()
    await tasks[0]


async def test_a_broken_socket_does_not_stop_the_others() -> None:
    hub, broken, healthy = Hub(), FakeSocket(broken=True), FakeSocket()
    tasks = [await connect(hub, broken), await connect(hub, healthy)]
    await hub.publish(system_agent_error_event("1", "x"))
    await tasks[0]
    await hub.publish(system_agent_error_event("1", "y"))
    await healthy.wait_for_frames(2)
    assert len(hub) == 1
    healthy.leave()
    await tasks[1]


async def test_closing_the_hub_closes_every_socket_as_going_away() -> None:
    hub, socket = Hub(), FakeSocket()
    task = await connect(hub, socket)
    await hub.close()
    await task
    assert socket.closed_with == GOING_AWAY


async def test_arabic_text_is_sent_as_is() -> None:
    hub, socket = Hub(), FakeSocket()
    task = await connect(hub, socket)
    await hub.publish(system_agent_error_event("1", "مرحبا"))
    await socket.wait_for_frames(1)
    assert '"مرحبا"' in socket.texts[0]
    assert socket.frames == [{"type": "system_agent_error", "wa_id": "1", "error": "مرحبا"}]
    socket.leave()
    await task


@pytest.mark.parametrize(("action", "event_type"), [
    ("created", "reservation_created"), ("moved", "reservation_updated"), ("modified", "reservation_updated"),
    ("cancelled", "reservation_cancelled"), ("reinstated", "reservation_reinstated"),
    ("restored", "reservation_reinstated"),
])
def test_calendar_actions_map_to_the_sidebar_events(action: str, event_type: str) -> None:
    shown = reservation(1)
    assert reservation_event(action, shown).model_dump(mode="json") == {
        "type": event_type, "action": action, "reservation": shown.model_dump(mode="json")}


def test_a_relayed_event_reaches_the_sidebars_only_as_a_declared_shape() -> None:
    sent = reservation_event("moved", reservation(7))
    assert relayed(sent.model_dump(mode="json")) == sent
    for forged in ({"type": "conversation_typing", "wa_id": "1"}, {"type": "reload_page", "url": "http://x"},
                   {"type": "system_agent_error", "wa_id": "1", "error": "x", "html": "<script>"}, {}):
        assert relayed(forged) is None


async def test_calendar_changes_reach_the_sockets() -> None:
    hub, socket, calendar = Hub(), FakeSocket(), CalendarEvents()
    calendar.listeners.append(hub.on_calendar_change)
    task = await connect(hub, socket)
    await calendar.publish("moved", reservation(7))
    await socket.wait_for_frames(1)
    assert socket.frames == [{"type": "reservation_updated", "action": "moved",
                              "reservation": reservation(7).model_dump(mode="json")}]
    socket.leave()
    await task
