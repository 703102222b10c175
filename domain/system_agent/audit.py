"""The record an applied batch keeps of each item's before and after, written as JSON text directly."""

from __future__ import annotations

import json
from datetime import date

from domain.planning import Booking
from domain.system_agent.planners import Plan


def audit_text(plan: Plan) -> str:
    """Each item's before and after, as the JSON text the record keeps: written row by row, since a
    batch of 100,000 held as dicts would weigh more than the rest of the batch together."""
    writer = _AuditText()
    rows = [writer.change(i.index, i.action or "", i.before, i.after)
            for i in plan.report.changed_items() if i.action != "customer"]
    rows += [json.dumps({"index": e.index, "action": "customer", "wa_id": e.wa_id, "new_wa_id": e.new_wa_id,
                         "old_name": e.old_name, "new_name": e.new_name}, ensure_ascii=False) for e in plan.edits]
    return "[" + ", ".join(rows) + "]"


class _AuditText:
    """Writes the record's rows as JSON text; values that repeat across a batch (dates, times, statuses,
    actions) are encoded once."""

    def __init__(self) -> None:
        self.quoted: dict[object, str] = {}

    def change(self, index: int, action: str, before: Booking | None, after: Booking | None) -> str:
        return (f'{{"index": {int(index)}, "action": {self.text(action)}, "before": {self.booking(before)}, '
                f'"after": {self.booking(after)}}}')

    def booking(self, booking: Booking | None) -> str:
        if booking is None:
            return "null"
        wa_id = booking.wa_id
        number = f'"{wa_id}"' if wa_id.isascii() and wa_id.isdigit() else json.dumps(wa_id)
        return (f'{{"id": {int(booking.id)}, "wa_id": {number}, "date": {self.text(booking.date)}, '
                f'"time_slot": {self.text(booking.time_slot)}, "type": {int(booking.type)}, '
                f'"status": {self.text(booking.status)}}}')

    def text(self, value: str | date) -> str:
        quoted = self.quoted.get(value)
        if quoted is None:
            quoted = self.quoted[value] = json.dumps(value.isoformat() if isinstance(value, date) else value)
        return quoted
