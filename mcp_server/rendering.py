"""Tool answers as a model reads them: the text content holds everything needed to act.

Rows are compact lines, one record a line, cells separated by "|" under a header naming the columns.
Measured in `bench/answer_bench.py` on the same values: about 40 tokens a reservation row, against 41
as compact JSON arrays, 43 with " | " between cells and 56 as JSON objects.
A cell that could be misread (a separator, a quote, a line break or another control character, or
padding spaces) is written as a JSON string with those characters escaped, so no value can forge a
row or a line of its own, and splitting a line at "|" gives its cells exactly. What customers wrote (their
names) is always such a JSON string, and the answer says so once (`customer_data`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date
from typing import Any

from domain.rules.identities import is_hidden
from domain.rules.schedule import hijri_date, slot_label
from mcp_server.customer_data import Written, json_text, note, quoted, written

TEXT_BUDGET = 5_000  # bytes of text in a default answer, like the structured content's budget
TEXT_CEILING = 16_000  # bytes of text in any listing page: within the agent loop's 20,000-character clip
SEPARATOR = "|"
_UNSAFE = ('"',)


def cell(value: Any) -> str:
    """One value as a table cell: plain when it cannot be misread, else a JSON string; a JSON string always when
    a customer wrote it."""
    if value is None:
        return "-"
    if isinstance(value, Written):
        return quoted(value)
    text = str(value)
    if text and text.strip() == text and not text.startswith(_UNSAFE) and "|" not in text and _printable(text):
        return text
    return quoted(text)


def _printable(text: str) -> bool:
    """No hidden character in `text`. `str.isprintable` (in C) is false for every hidden category and for a few
    harmless ones (non-ASCII spaces, private use), which the character-by-character check then clears."""
    return text.isprintable() or not any(is_hidden(c) for c in text)


def row(values: Iterable[Any]) -> str:
    return SEPARATOR.join(cell(v) for v in values)


@lru_cache(maxsize=4096)
def day_label(iso: str | None) -> str:
    """'2026-12-07' -> 'Mon 2026-12-07 (1448-06-27)': the weekday, the date and its Hijri date (Umm al-Qura)."""
    if not iso:
        return "-"
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day:%a} {iso} ({hijri_date(day)})"


@lru_cache(maxsize=1024)
def time_label(slot: str | None) -> str:
    """'13:00' -> '13:00 (1:00 PM)'."""
    if not slot:
        return "-"
    try:
        return f"{slot} ({slot_label(slot)})"
    except ValueError:
        return slot


@dataclass
class Text:
    """Lines of an answer within a byte budget; what does not fit is counted, never silently lost."""

    budget: int = TEXT_BUDGET
    lines: list[str] = field(default_factory=list)
    used: int = 0

    def add(self, line: str) -> None:
        """A line that must be shown whatever the budget (headlines, totals, next steps)."""
        self.lines.append(line)
        self.used += len(line.encode()) + 1

    def fits(self, line: str) -> bool:
        return self.used + len(line.encode()) + 1 <= self.budget

    def rows(self, lines: Sequence[str], reserve: int = 0) -> int:
        """As many of `lines` as fit, keeping `reserve` bytes free for what must follow; how many were added."""
        for count, line in enumerate(lines):
            if self.used + len(line.encode()) + 1 + reserve > self.budget:
                return count
            self.add(line)
        return len(lines)

    def __str__(self) -> str:
        return "\n".join(self.lines)


class Phrases:
    """The sentences of the answers, in English or Arabic (`ar`)."""

    EN = {
        "match": "{reservations} reservation(s) and {customers} customer(s) match.",
        "page": "This page: {parts}.",
        "timezone": "Dates and times are in {zone}.",
        "filters": "Filters: {filters}",
        "fuzzy": "Customers matching {query} ({count}; name|wa_id|similarity, then the name word matched when "
                 "it was in another script or spelling):",
        "fuzzy_none": "No customer matches {query}.",
        "reservations": "Reservations (#id|customer|wa_id|day|time|type|status|attendance):",
        "customers": "Customers (wa_id|name|matching reservations|next reservation|no-shows|late cancellations|flags):",
        "wa_ids": "wa_ids: {ids}",
        "none": "No row on this page.",
        "more": ("More rows exist: call {tool} again with the same filters and cursor set to the next_cursor below; "
                 "do not conclude from this page alone."),
        "cut": "{count} more {what} of this answer are not shown to keep it small.",
        "no_name": "(no name)",
        "favorite": "favorite",
        "blocked": "blocked",
    }
    AR = {
        "match": "عدد الحجوزات المطابقة: {reservations}، وعدد العملاء المطابقين: {customers}.",
        "page": "هذه الصفحة: {parts}.",
        "timezone": "التواريخ والأوقات بتوقيت {zone}.",
        "filters": "عوامل التصفية: {filters}",
        "fuzzy": "العملاء المطابقون لـ {query} ({count}؛ الاسم|wa_id|درجة التشابه، ثم الكلمة "
                 "المطابقة إن كانت بكتابة أو تهجئة أخرى):",
        "fuzzy_none": "لا يوجد عميل يطابق {query}.",
        "reservations": "الحجوزات (#id|العميل|wa_id|اليوم|الوقت|النوع|الحالة|الحضور):",
        "customers": ("العملاء (wa_id|الاسم|الحجوزات المطابقة|الحجز القادم|مرات عدم الحضور|مرات الإلغاء المتأخر|"
                      "ملاحظات):"),
        "wa_ids": "أرقام wa_id: {ids}",
        "none": "لا توجد صفوف في هذه الصفحة.",
        "more": ("توجد صفوف أخرى: استدعِ {tool} مرة أخرى بنفس عوامل التصفية مع cursor يساوي next_cursor أدناه؛ "
                 "لا تستنتج من هذه الصفحة وحدها."),
        "cut": "لم يُعرض {count} من {what} في هذه الإجابة لإبقائها قصيرة.",
        "no_name": "(بلا اسم)",
        "favorite": "مفضل",
        "blocked": "محظور",
    }

    def __init__(self, ar: bool = False) -> None:
        self.table = self.AR if ar else self.EN

    def __call__(self, key: str, **values: Any) -> str:
        return self.table[key].format(**values)


def row_lines(view: dict[str, Any], ar: bool = False) -> dict[str, list[str]]:
    """The lines of a page's fuzzy matches, reservations and customers, as `listing_text` writes them: a shorter
    page of the same read is its first lines (`listing_text(..., lines=)`), so they are written once."""
    say, lines = Phrases(ar), {}
    if matches := view["summary"].get("fuzzy_matches"):  # the same on every cut of a page
        lines["fuzzy"] = [match_row(m, say("no_name")) for m in matches]
    if "reservations" in view:
        lines["reservations"] = [_reservation_line(r, say) for r in view["reservations"]]
    if "customers" in view:
        lines["customers"] = [_customer_line(c, say) for c in view["customers"]]
    return lines


def listing_text(view: dict[str, Any], tool: str, ar: bool = False, lines: dict[str, list[str]] | None = None) -> str:
    """A reservations page: totals, the filters, fuzzy candidates, every row of the page, how to go on. `lines`:
    the rows' lines when `row_lines` wrote them already (of this page, or of a longer one of the same read)."""
    say, summary = Phrases(ar), view["summary"]
    written_lines = lines if lines is not None else row_lines(view, ar)
    text = Text(budget=1 << 30)  # the page itself is what is sized; every row of it is shown
    text.add(say("match", reservations=summary["total_reservations"], customers=summary["total_customers"]) + " "
             + say("page", parts=_page_parts(summary)) + " " + say("timezone", zone=summary["timezone"]))
    text.add(say("filters", filters=json_text(summary.get("filters", {}))))
    if (customers := note(view, ar)) is not None:
        text.add(customers)
    if "fuzzy_matches" in summary:
        _fuzzy(text, say, summary, written_lines.get("fuzzy", []))
    if "reservations" in view:
        text.add(say("reservations"))
        text.rows(written_lines["reservations"][:len(view["reservations"])] or [say("none")])
    if "customers" in view:
        text.add(say("customers"))
        text.rows(written_lines["customers"][:len(view["customers"])] or [say("none")])
    elif "wa_ids" in view:
        text.add(say("wa_ids", ids=", ".join(view["wa_ids"]) or "-"))
    for said in summary.get("notes", []):
        text.add(said)
    if view.get("next_cursor"):
        text.add(say("more", tool=tool))
        text.add(f"next_cursor: {view['next_cursor']}")
    return str(text)


def _page_parts(summary: dict[str, Any]) -> str:
    parts = []
    for section, count in summary["returned"].items():
        first = summary["offset"][section] + 1
        parts.append(f"{section} {first}-{first + count - 1}" if count else f"{section} 0")
    return ", ".join(parts)


def _fuzzy(text: Text, say: Phrases, summary: dict[str, Any], lines: list[str]) -> None:
    query, matches = quoted(summary["filters"].get("search_query", "")), summary["fuzzy_matches"]
    if not matches:
        text.add(say("fuzzy_none", query=query))
        return
    text.add(say("fuzzy", query=query, count=len(matches)))
    text.rows(lines)


def match_row(match: dict[str, Any], no_name: str) -> str:
    """A customer a fuzzy query found: name|wa_id|similarity, and the name word it matched when that was in
    another script or spelling ("Fahad" finding "فهد")."""
    matched = [written(match["matched"], "-")] if match.get("matched") else []
    return row([written(match.get("name"), no_name), match["wa_id"], match.get("similarity"), *matched])


def _reservation_line(reservation: dict[str, Any], say: Phrases) -> str:
    kind = f"{reservation['type']} {reservation.get('type_name', '')}".strip()
    return row([
        f"#{reservation['id']}", written(reservation.get("customer_name"), say("no_name")), reservation["wa_id"],
        day_label(reservation["date"]),
        time_label(reservation["time_slot"]), kind, reservation["status"], reservation["attendance"]])


def _customer_line(customer: dict[str, Any], say: Phrases) -> str:
    upcoming = customer.get("next_reservation")
    when = f"{day_label(upcoming['date'])} {time_label(upcoming['time_slot'])}" if upcoming else "-"
    flags = [say(flag) for flag in ("favorite", "blocked") if customer.get(f"is_{flag}")]
    return row([customer["wa_id"], written(customer.get("name"), say("no_name")), customer.get("reservation_count", 0),
                when, customer.get("no_shows", 0), customer.get("late_cancels", 0), ", ".join(flags) or "-"])


def record_text(headline: str, data: dict[str, Any], ar: bool = False) -> str:
    """A record-like answer (nested statistics, a day's slots): the headline, then the data as compact JSON,
    which for nested shapes with few repeated rows costs little more than lines and cannot be misread."""
    cut = data.get("truncated") or {}
    lines = [headline]
    if cut:
        lines.append("Cut to keep this answer small: " + ", ".join(f"{path} (of {n})" for path, n in cut.items())
                     + '. For everything, call again with verbosity "detailed" or a shorter range.')
    if (customers := note(data, ar)) is not None:
        lines.append(customers)
    return "\n".join([*lines, json_text(data)])
