"""The record an applied batch keeps of each item's before and after.

Written as JSON text directly, one compact row per reservation change, `[index, action, before, after]`
with each booking `[id, wa_id, date, time_slot, type, status]` or null: a batch of 100,000 held as
dicts, or written with keys, would weigh more than the rest of the batch together. Consecutive changes that
take their rows from one place to one other (a slot moved, cancelled) are one run,
`{"run": [action, [date, time_slot, type, status], [...]], "rows": [[index, id, wa_id], ...]}`: a day moved is
a run per slot. Customer edits, closures and every row of records written before these forms are objects;
`recorded_changes` reads them all as objects, in order.
"""

from __future__ import annotations

import json
from itertools import islice
from datetime import date
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from domain.calendar.attendance import AttendanceEdit
from domain.calendar.closures import ClosureEdit
from domain.rules.planning import Booking
from domain.system_agent.report import BatchReport, ItemResult
from domain.system_agent.undo import CustomerEdit

_FIELDS = ("id", "wa_id", "date", "time_slot", "type", "status")
BLOCK = 2_000  # rows joined at a time


def audit_text(report: BatchReport, edits: Sequence[CustomerEdit], closures: Sequence[ClosureEdit],
               marks: Sequence[AttendanceEdit] = ()) -> str:
    """Every change a batch made (its report's changed items, customer edits, closures and attendance marks), as the
    JSON text the record keeps."""
    marked: dict[tuple[int, int | None], AttendanceEdit] = {(m.index, m.reservation_id): m for m in marks}
    values = _AuditText().values(i for i in report.changed_items()
                                 if i.action != "customer" and (i.index, i.reservation_id) not in marked)
    # Joined a block of values at a time: the rows of 100,000 changes held at once, then joined, weighed three
    # times the text (the batch's peak memory was here).
    blocks = []
    while block := list(islice(values, BLOCK)):
        blocks.append(",".join(block))
    blocks += [json.dumps({"index": e.index, "action": "customer", "wa_id": e.wa_id, "new_wa_id": e.new_wa_id,
                           "old_name": e.old_name, "new_name": e.new_name}, ensure_ascii=False) for e in edits]
    blocks += [json.dumps(c.record(), ensure_ascii=False) for c in closures]
    blocks += [json.dumps(_mark(i, marked[(i.index, i.reservation_id)]), ensure_ascii=False)
               for i in report.changed_items() if (i.index, i.reservation_id) in marked]
    if not blocks:
        return "[]"
    blocks[0] = "[" + blocks[0]  # the brackets on a block, not around the joined text: one copy of the text
    blocks[-1] = blocks[-1] + "]"
    return ",".join(blocks)


def _mark(item: ItemResult, edit: AttendanceEdit) -> dict[str, Any]:
    """An attendance mark as the record keeps it: the booking before and after (its status), and the attendance
    before and after (an undo reads it back, `undo.revert_mark`)."""
    assert item.before is not None and item.after is not None
    return {"index": item.index, "action": item.action, "before": _booking(item.before),
            "after": _booking(item.after), "attendance": [edit.before, edit.attendance]}


def _booking(booking: Booking) -> dict[str, Any]:
    return dict(zip(_FIELDS, (booking.id, booking.wa_id, booking.date.isoformat(), booking.time_slot, booking.type,
                              str(booking.status)), strict=True))


def recorded_changes(changes: list[Any]) -> list[dict[str, Any]]:
    """A record's changes as objects: {index, action, before, after}, a customer edit or a closure."""
    rows: list[dict[str, Any]] = []
    for row in changes:
        if isinstance(row, dict) and "run" in row:
            action, before, after = row["run"]
            rows += [_expanded([index, action, [number, wa_id, *before], [number, wa_id, *after]])
                     for index, number, wa_id in row["rows"]]
        else:
            rows.append(row if isinstance(row, dict) else _expanded(row))
    return rows


def changes_of(changes: list[Any], reservation_id: int) -> list[dict[str, Any]]:
    """The changes of one reservation in a record's changes, as `recorded_changes` reads them, in order; a run's
    other rows are passed over without being read into objects (a day moved is a run of thousands)."""
    rows: list[dict[str, Any]] = []
    for row in changes:
        if isinstance(row, dict) and "run" in row:
            action, before, after = row["run"]
            rows += [_expanded([index, action, [number, wa_id, *before], [number, wa_id, *after]])
                     for index, number, wa_id in row["rows"] if number == reservation_id]
        elif isinstance(row, dict):
            if reservation_id in ((row.get("before") or {}).get("id"), (row.get("after") or {}).get("id")):
                rows.append(row)
        elif reservation_id in ((row[2] or [None])[0], (row[3] or [None])[0]):
            rows.append(_expanded(row))
    return rows


def _expanded(row: list[Any]) -> dict[str, Any]:
    index, action, before, after = row
    return {"index": index, "action": action, "before": dict(zip(_FIELDS, before, strict=True)) if before else None,
            "after": dict(zip(_FIELDS, after, strict=True)) if after else None}


class _AuditText:
    """Writes the record's rows; values that repeat across a batch (dates, times, statuses, actions) are
    encoded once."""

    def __init__(self) -> None:
        self.quoted: dict[object, str] = {}
        self.places: dict[tuple[date, str, int, str], str] = {}  # a booking's row after its number

    def values(self, items: Iterable[ItemResult]) -> Iterator[str]:
        """The changes as JSON values, in order: a run for consecutive moves or cancels between the same two
        places (at most `BLOCK` rows a run), a row for any other change."""
        run: tuple[str, str, str] | None = None
        rows: list[str] = []
        for item in items:
            action, before, after = item.action or "", item.before, item.after
            if before is not None and after is not None and before.id == after.id and before.wa_id == after.wa_id:
                key = (action, self._place(before), self._place(after))
                if key != run or len(rows) == BLOCK:
                    if rows:
                        yield self._run(run, rows)
                    run, rows = key, []
                rows.append(f"[{int(item.index)},{self._row(before)}]")
                continue
            if rows:
                yield self._run(run, rows)
                run, rows = None, []
            yield f"[{int(item.index)},{self.text(action)},{self.booking(before)},{self.booking(after)}]"
        if rows:
            yield self._run(run, rows)

    def _run(self, run: tuple[str, str, str] | None, rows: list[str]) -> str:
        assert run is not None
        action, before, after = run
        return f'{{"run":[{self.text(action)},[{before},[{after}],"rows":[{",".join(rows)}]}}'

    def booking(self, booking: Booking | None) -> str:
        return "null" if booking is None else f"[{self._row(booking)},{self._place(booking)}"

    def _row(self, booking: Booking) -> str:
        """`id,"wa_id"` of a booking's row."""
        wa_id = booking.wa_id
        number = f'"{wa_id}"' if wa_id.isascii() and wa_id.isdigit() else json.dumps(wa_id)
        return f"{int(booking.id)},{number}"

    def _place(self, booking: Booking) -> str:
        """`"date","time",type,"status"]` of a booking's row, written once per distinct place."""
        key = (booking.date, booking.time_slot, booking.type, booking.status)
        place = self.places.get(key)
        if place is None:
            place = self.places[key] = (f"{self.text(booking.date)},{self.text(booking.time_slot)},"
                                        f"{int(booking.type)},{self.text(booking.status)}]")
        return place

    def text(self, value: str | date) -> str:
        quoted = self.quoted.get(value)
        if quoted is None:
            quoted = self.quoted[value] = json.dumps(value.isoformat() if isinstance(value, date) else value)
        return quoted
