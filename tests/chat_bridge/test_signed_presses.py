"""A customer's presses of a reminder's buttons are their own changes, as the served app takes them (signed webhook
deliveries, on SQLite and PostgreSQL): Confirm and Cancel are signed by the customer in the booking's history and
in the audit log."""

from __future__ import annotations

from domain.services import Services
from tests.chat_bridge.test_button_replies import answers, booking, bridge, press, reminder_of, services  # noqa: F401
from tests.chat_bridge.test_notices import FATIMA, OMAR
from tests.fakes.graph_api import RunningBridge, graph_api  # noqa: F401


async def test_a_customers_confirm_and_cancel_are_signed_by_the_customer(bridge: RunningBridge,  # noqa: F811
                                                                          services: Services) -> None:  # noqa: F811
    await press(bridge, OMAR, "wamid.P1", f"r:{await reminder_of(services, OMAR)}:confirm", "Confirm")
    await press(bridge, FATIMA, "wamid.P2", f"r:{await reminder_of(services, FATIMA)}:cancel", "إلغاء الموعد",
                template=True)
    await answers(bridge, OMAR, 1)
    await answers(bridge, FATIMA, 1)

    omars, fatimas = await booking(services, OMAR), await booking(services, FATIMA)
    confirmed = await bridge.http.get(f"/reservations/{omars.id}/history")
    cancelled = await bridge.http.get(f"/reservations/{fatimas.id}/history")
    assert [(e["action"], e["by"], e["author"]) for e in confirmed.json()["events"]][-1] == (
        "confirmed", "customer", OMAR)
    assert [(e["action"], e["by"], e["author"]) for e in cancelled.json()["events"]][-1] == (
        "cancelled", "customer", FATIMA)
    lines = {(line.actor, line.action, line.target) for line in await services.audit.recent()}
    assert {(f"customer:{OMAR}", "reservation confirmed", str(omars.id)),
            (f"customer:{FATIMA}", "reservation cancelled", str(fatimas.id))} <= lines
