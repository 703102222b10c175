"""Quiet hours as the served app keeps them: at night a notice that can wait is held in the outbox until they end,
while the cancellation of a booking for today, and the assistant's answer to the customer's own message, go at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

import pytest

from domain.config import ClinicConfig
from domain.notices.quiet import QuietHours
from domain.services import Services, build_services
from domain.storage.database import Database
from tests.chat_bridge.test_notices import FATIMA, OMAR, RunningClock, notices, tool
from tests.chat_bridge.test_reminders import REMINDERS
from tests.chat_bridge.test_webhook import deliver
from tests.conftest import PER_CALL
from tests.fakes.graph_api import FakeGraphApi, graph_api, inbound, running_bridge  # noqa: F401

SATURDAY_NIGHT = datetime(2026, 12, 5, 18, 30, tzinfo=UTC)  # 21:30 in Riyadh: the 20:00 slot runs until 22:00
QUIET = replace(REMINDERS, reminder_time=None, quiet_hours=QuietHours(time(21), time(8)))
SUNDAY_MORNING = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)  # 08:00 in Riyadh, when these quiet hours end


@pytest.fixture
def services(db: Database, config: ClinicConfig) -> Services:
    return build_services(config, db, RunningClock(SATURDAY_NIGHT), notices=QUIET, limits=PER_CALL)


async def test_at_night_a_notice_that_can_wait_is_held_and_an_urgent_one_goes_at_once(
    services: Services, graph_api: FakeGraphApi  # noqa: F811
) -> None:
    for wa_id, name, day, slot in [(FATIMA, "فاطمة", "2026-12-05", "20:00"), (OMAR, "Omar", "2026-12-08", "11:00")]:
        await services.customers.ensure(wa_id, name)
        assert (await services.reservations.reserve(wa_id, day, slot)).reservation is not None
    graph_api.approve_defaults()
    async with running_bridge(services, graph_api) as bridge:
        _, cancelled = await tool(bridge, "system_batch_cancel", {"requests": [{"wa_id": FATIMA}, {"wa_id": OMAR}],
                                                                  "notify": True})
        assert cancelled["notices"]["queued"] == 2
        await graph_api.wait_for_sends(1)  # Fatima's booking was tonight's: told at once
        assert await deliver(bridge, inbound(OMAR, "wamid.N1", text="Is the clinic open tomorrow?")) == 200
        await graph_api.wait_for_sends(2)  # the answer to his own message is not held
    assert [(m.to, m.template) for m in graph_api.sent] == [(FATIMA, "appointment_cancelled"),
                                                            (OMAR, None)]
    assert graph_api.sent[1].text == "Noted: Is the clinic open tomorrow?"
    held = {n.wa_id: n for n in await notices(services) if n.purpose == "cancelled"}
    assert (held[OMAR].status, held[OMAR].available_at) == ("queued", SUNDAY_MORNING)
    assert held[FATIMA].status in ("sent", "delivered")
