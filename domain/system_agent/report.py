"""What a batch did, item by item, and its compact and detailed shapes.

The answer's shape is declared (`BatchAnswerData` and its rows, summary and failure groups): TypedDicts, typed for
every writer here, with a JSON schema through pydantic's `TypeAdapter`, and plain dicts at run time (an answer may
list 100,000 items)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from itertools import islice
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, cast

from typing_extensions import NotRequired, TypedDict  # pydantic reads a TypedDict's schema from this one before 3.12

from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.rules.planning import Booking
from domain.system_agent.cards import Confirmation
from domain.views import ReservationView, reservation_view

SAMPLE_ROWS = 50
FAILURE_ITEMS = 200  # items an answer lists per failure reason; the count is always whole
Verbosity = Literal["summary", "detailed"]


class ItemError(TypedDict):
    """Why an item failed or was skipped: the stable code and its sentence."""

    code: str
    message: str


class ItemRow(TypedDict):
    """One item of an answer. Summary rows say where the booking was (`from_date`, `from_time`) and is (`date`,
    `time_slot`); detailed rows give the whole reservation before and after."""

    index: int
    status: Literal["ok", "failed", "skipped"]
    wa_id: str | None
    customer_name: str | None
    reservation_id: int | None
    action: str | None
    error: NotRequired[ItemError]
    placed: NotRequired[str]
    before: NotRequired[dict[str, Any] | None]
    after: NotRequired[dict[str, Any] | None]
    from_date: NotRequired[str]
    from_time: NotRequired[str]
    date: NotRequired[str]
    time_slot: NotRequired[str]


class ItemBrief(TypedDict):
    """An item as a failure group names it; `message` only where it differs from the group's."""

    index: int
    reservation_id: int | None
    wa_id: str | None
    customer_name: str | None
    date: str | None
    time_slot: str | None
    message: NotRequired[str]


class FailureGroup(TypedDict):
    """The failed or skipped items of one reason: its code, sentence, whole count and the first items."""

    code: str
    status: str
    message: str
    count: int
    items: list[ItemBrief]


class BatchSummary(TypedDict):
    """The counts of a batch: by status, by action, by error, by day changed; `placed` counts placements."""

    requested: int
    ok: int
    failed: int
    skipped: int
    by_action: dict[str, int]
    by_error: dict[str, int]
    days: dict[str, int]
    timezone: str
    placed: NotRequired[dict[str, int]]


class BatchAnswerData(TypedDict):
    """A batch's answer, as every caller reads it (the MCP tools, the bridge's endpoints, the stored record)."""

    batch_id: str | None
    tool: str
    status: str
    mode: str
    message: str
    summary: BatchSummary
    failures: list[FailureGroup]
    items: list[ItemRow]
    items_truncated: bool
    confirmation: dict[str, Any] | None
    undone_batch_id: NotRequired[str]
    matched_customers: NotRequired[list[dict[str, Any]]]
    notices: NotRequired[dict[str, Any]]
    hint: NotRequired[str]
    closures: NotRequired[list[dict[str, Any]]]


@dataclass(slots=True)
class ItemResult:
    """One item of a batch: ok, failed (with a code and sentence) or skipped."""

    index: int
    status: Literal["ok", "failed", "skipped"]
    wa_id: str | None = None
    reservation_id: int | None = None
    action: str | None = None
    before: Booking | None = None
    after: Booking | None = None
    error: DomainError | None = None
    placed: str | None = None  # why a placement put it elsewhere than asked (`domain.rules.placement`)
    requested: tuple[date, str] | None = None  # the day and time a failed booking asked for

    def row(self, report: BatchReport, detailed: bool) -> ItemRow:
        # Literals checked against their TypedDicts: calling a TypedDict costs four times a literal, per row.
        row: ItemRow = {"index": self.index, "status": self.status, "wa_id": self.wa_id,
                        "customer_name": report.names.get(self.wa_id or ""), "reservation_id": self.reservation_id,
                        "action": self.action}
        if self.error is not None:
            row["error"] = {"code": self.error.code, "message": self.error.message(report.ar)}
        if self.placed is not None:
            row["placed"] = self.placed
        if detailed:
            row["before"] = report.shown(self.before)
            row["after"] = report.shown(self.after)
            return row
        if self.before is not None and self.after is not None:
            row["from_date"], row["from_time"] = self.before.date.isoformat(), self.before.time_slot
        if (shown := self.after or self.before) is not None:
            row["date"], row["time_slot"] = shown.date.isoformat(), shown.time_slot
        elif self.requested is not None:
            row["date"], row["time_slot"] = self.requested[0].isoformat(), self.requested[1]
        return row

    def brief(self, report: BatchReport) -> ItemBrief:
        """The item as a failure list names it: which reservation, whose, and when it stands."""
        shown = self.after or self.before
        day, slot = (shown.date, shown.time_slot) if shown else self.requested or (None, None)
        brief: ItemBrief = {"index": self.index, "reservation_id": self.reservation_id, "wa_id": self.wa_id,
                            "customer_name": report.names.get(self.wa_id or ""),
                            "date": day.isoformat() if day else None, "time_slot": slot}
        return brief


@dataclass
class BatchReport:
    """The outcome of one batch call."""

    tool: str
    mode: str
    config: ClinicConfig
    status: Literal["applied", "dry_run", "needs_confirmation", "replayed", "rolled_back", "declined",
                    "failed", "nothing_matched"] = "applied"
    items: list[ItemResult] = field(default_factory=list)
    batch_id: str | None = None
    confirmation: Confirmation | None = None
    names: dict[str, str | None] = field(default_factory=dict)
    ar: bool = False
    stored: dict[str, Any] | None = None  # a replayed batch's stored answer
    undone_batch_id: str | None = None
    matched: list[dict[str, Any]] | None = None  # the customers a fuzzy search_query chose as targets
    notices: dict[str, Any] | None = None  # with notify: who will be (or was) messaged, who left out, examples
    hint: str | None = None  # a next step the answer offers (undoing a batch that notified customers)
    closures: list[dict[str, Any]] | None = None  # closures the batch makes or removes, as `VacationView`s

    def view(self, booking: Booking) -> ReservationView:
        return reservation_view(self.config, booking, self.names.get(booking.wa_id))

    def shown(self, booking: Booking | None) -> dict[str, Any] | None:
        """A booking as an answer's row shows it."""
        return None if booking is None else self.view(booking).model_dump(mode="json")

    def counts(self) -> Counter[str]:
        return Counter(item.status for item in self.items)

    def changed_items(self) -> list[ItemResult]:
        return [i for i in self.items if i.status == "ok" and i.action not in (None, "unchanged")]

    def summary(self) -> BatchSummary:
        """The counts of the items by status, by action done and by error, and the changes on each day: one pass
        over the items."""
        counts, by_action, by_error, placed, days = Counter[str](), Counter[str](), Counter[str](), Counter[str](), Counter[date]()
        for item in self.items:
            counts[item.status] += 1
            if item.error is not None:
                by_error[item.error.code] += 1
            if item.placed:
                placed[item.placed.split(":")[0]] += 1
            if item.status != "ok" or not item.action:
                continue
            by_action[item.action] += 1
            if item.action == "unchanged":
                continue
            before, after = item.before, item.after
            if before is not None:
                days[before.date] += 1
            if after is not None and (before is None or after.date != before.date):
                days[after.date] += 1
        summary = BatchSummary(
            requested=len(self.items), ok=counts["ok"], failed=counts["failed"], skipped=counts["skipped"],
            by_action=dict(by_action), by_error=dict(by_error),
            days={day.isoformat(): n for day, n in sorted(days.items())}, timezone=self.config.timezone)
        if placed:
            summary["placed"] = dict(placed)
        return summary

    def message(self, summary: BatchSummary | None = None) -> str:
        counts = summary or self.summary()
        verb = {"applied": "Applied", "dry_run": "Dry run, nothing written", "replayed": "Already applied (replayed)",
                "needs_confirmation": "Needs confirmation, nothing written", "rolled_back": "Rolled back, nothing written",
                "declined": "Declined by the user, nothing written",
                "failed": "Every item failed, nothing written",
                "nothing_matched": "Nothing matched, nothing written"}[self.status]
        return f"{verb}: {counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped of {len(self.items)}."

    def failures(self, limit: int | None = FAILURE_ITEMS) -> list[FailureGroup]:
        """Failed and skipped items grouped by reason (code), each group with its sentence, its whole count and
        its first `limit` items (None: every one, as the batch record keeps them)."""
        groups: dict[str, FailureGroup] = {}
        for item in self.items:
            if item.error is None:
                continue
            group = groups.get(item.error.code)
            if group is None:
                group = groups[item.error.code] = {"code": item.error.code, "status": item.status,
                                                   "message": item.error.message(self.ar), "count": 0, "items": []}
            group["count"] += 1
            if limit is None or len(group["items"]) < limit:
                message, brief = item.error.message(self.ar), item.brief(self)
                if message != group["message"]:
                    brief["message"] = message
                group["items"].append(brief)
        return list(groups.values())

    def to_dict(self, verbosity: Verbosity = "summary", failure_items: int | None = FAILURE_ITEMS) -> BatchAnswerData:
        """The failures grouped by reason (`failure_items` of each, None: all), and the items: when summary, a
        sample of at most 50 items that did not apply, then at most 50 that did; every item in full when
        detailed."""
        if self.stored is not None:  # the answer as it was stored, a `BatchAnswerData` in JSON
            return cast(BatchAnswerData, dict(self.stored, status="replayed",
                                              message="Already applied (replayed): " + self.stored["message"]))
        detailed = verbosity == "detailed"
        summary = self.summary()
        rows = self.items if detailed else (
            list(islice((i for i in self.items if i.status != "ok"), SAMPLE_ROWS))
            + list(islice((i for i in self.items if i.status == "ok"), SAMPLE_ROWS)))
        answer = BatchAnswerData(
            batch_id=self.batch_id, tool=self.tool, status=self.status, mode=self.mode, message=self.message(summary),
            summary=summary, failures=self.failures(failure_items),
            items=[i.row(self, detailed) for i in rows], items_truncated=len(rows) < len(self.items),
            confirmation=self.confirmation.model_dump(mode="json") if self.confirmation else None)
        if self.undone_batch_id:
            answer["undone_batch_id"] = self.undone_batch_id
        if self.matched is not None:
            answer["matched_customers"] = self.matched
        if self.notices is not None:
            answer["notices"] = self.notices
        if self.hint:
            answer["hint"] = self.hint
        if self.closures:
            answer["closures"] = self.closures
        return answer

    def days_changed(self) -> set[date]:
        """Every day whose calendar the batch changed: where its changes came from and went, and the days of the
        closures it made or removed."""
        days = {b.date for i in self.changed_items() for b in (i.before, i.after) if b is not None}
        for closure in self.closures or []:
            first, last = date.fromisoformat(closure["start_date"]), date.fromisoformat(closure["end_date"])
            days |= {first + timedelta(days=n) for n in range((last - first).days + 1)}
        return days

    def changed(self) -> Iterator[tuple[str, ReservationView]]:
        """(action, reservation view) of every change, for the calendar's listeners, one at a time."""
        for item in self.items:
            if item.status == "ok" and item.action not in (None, "unchanged") and item.after is not None:
                yield item.action or "", self.view(item.after)
