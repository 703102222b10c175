"""What a person is shown before a batch that needs their yes: a card they can decide on.

Who is affected (names and numbers, the first `SHOWN` and how many more), what each change does, the exact
text customers would get, who is left out of it and why, which items would fail and why, whose bookings a
search chose, what the caller already applied without asking and which limit this call would pass. Facts only:
nothing in a card is addressed to a model.
"""

from __future__ import annotations

from typing import Any

from domain.system_agent.effects import EffectLimits, Effects, Overrun, Spent
from domain.system_agent.report import BatchReport, ItemResult

SHOWN = 10  # people a card names; the rest are counted


def card(report: BatchReport, effects: Effects, spent: Spent, over: list[Overrun], limits: EffectLimits,
         notified_before: int) -> dict[str, Any]:
    """The preview of a batch that asks (`confirmation.preview`)."""
    summary = report.summary()
    changed = report.changed_items() if report.tool != "system_message_customers" else []
    failing = [i for i in report.items if i.status == "failed"]
    shaped: dict[str, Any] = {
        "reservations": effects.bookings, "days": summary["days"], "actions": summary["by_action"],
        "failed": summary["failed"], "failures": summary["by_error"],
        "affected": [_person(report, item) for item in changed[:SHOWN]],
        "affected_more": max(0, len(changed) - SHOWN),
        "failing": [dict(_person(report, item), error=item.error.code if item.error else None,
                         reason=item.error.message(report.ar) if item.error else None) for item in failing[:SHOWN]],
        "failing_more": max(0, len(failing) - SHOWN),
        "effects": effects.to_json(), "so_far": spent.to_json(),
        "asks_because": [o.to_json() for o in over], "window_minutes": int(limits.window.total_seconds() // 60),
    }
    if report.notices is not None:
        shaped["notices"] = report.notices
    if report.matched is not None:
        shaped["matched_customers"] = report.matched
    if notified_before:
        shaped["notified_before"] = notified_before
    if report.closures:
        shaped["closures"] = report.closures
    return shaped


def _person(report: BatchReport, item: ItemResult) -> dict[str, Any]:
    """One affected customer: who, and what happens to their booking (from and to, as day and time)."""
    before, after = item.before, item.after
    moved_from = f"{before.date.isoformat()} {before.time_slot}" if before is not None else None
    moved_to = f"{after.date.isoformat()} {after.time_slot}" if after is not None and after.status == "active" else None
    return {"index": item.index, "wa_id": item.wa_id, "name": report.names.get(item.wa_id or ""), "action": item.action,
            "reservation_id": item.reservation_id, "from": moved_from, "to": moved_to}


__all__ = ["SHOWN", "card"]
