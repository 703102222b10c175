"""Operator stories of a batch above the confirmation threshold (20): the tool asks, the operator answers.

The question reaches the sidebar as a `confirmation_request` event and a stored row; the operator answers
with `POST /confirmations/{id}`, as the console's buttons do.
"""

from __future__ import annotations

from tests.acceptance.support import SUNDAY, TUESDAY, Clinic, calendar, fill, first_line, ids, is_confirmation, roles
from tests.fakes.llm import Call, Reply

CANCEL_RANGE = Call("system_batch_cancel", {"filters": {"start_date": SUNDAY, "end_date": TUESDAY}})
REQUEST = f"Cancel every reservation from {SUNDAY} to {TUESDAY}: the doctor is away"


async def test_a_large_cancellation_the_operator_confirms_cancels_every_reservation(clinic: Clinic) -> None:
    await fill(clinic.services, SUNDAY, 25)
    clinic.llm.script(Reply(calls=(CANCEL_RANGE,)), Reply("Cancelled the 25 reservations from Sunday to Tuesday."))

    exchange = await clinic.ask(REQUEST, answer=True)

    assert {b.status for b in await calendar(clinic.services)} == {"cancelled"}
    assert len(await calendar(clinic.services)) == 25
    text = clinic.llm.seen[1].last_result
    assert first_line(text).startswith("Applied:") and "batch_id=" in text, first_line(text)
    [request] = exchange.of_type("confirmation_request")
    assert "25" in request["message"]
    [resolved] = exchange.of_type("confirmation_resolved")
    assert resolved["confirmation_id"] == request["confirmation_id"] and resolved["state"] == "accepted"
    rows = await clinic.conversation()
    assert roles(rows) == ["secretary", "assistant", "tool", "assistant"]
    assert is_confirmation(rows[1]) and rows[1]["meta"]["state"] == "accepted"
    assert ids(exchange.messages) == ids(rows)
    assert rows[2]["meta"]["result"] == text
    assert exchange.reply == "Cancelled the 25 reservations from Sunday to Tuesday."


async def test_a_large_cancellation_the_operator_declines_changes_nothing(clinic: Clinic) -> None:
    await fill(clinic.services, SUNDAY, 25)
    before = await calendar(clinic.services)
    clinic.llm.script(Reply(calls=(CANCEL_RANGE,)), Reply("Understood: nothing was cancelled."))

    exchange = await clinic.ask(REQUEST, answer=False)

    assert await calendar(clinic.services) == before
    text = clinic.llm.seen[1].last_result
    assert "nothing was changed" in text, text
    assert "batch_id=" not in text
    [resolved] = exchange.of_type("confirmation_resolved")
    assert resolved["state"] == "declined"
    rows = await clinic.conversation()
    assert roles(rows) == ["secretary", "assistant", "tool", "assistant"]
    assert is_confirmation(rows[1]) and rows[1]["meta"]["state"] == "declined"
    assert ids(exchange.messages) == ids(rows)
    assert rows[2]["meta"]["result"] == text
    assert exchange.reply == "Understood: nothing was cancelled."
