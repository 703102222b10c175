"""A batch report as a tool answer: structured totals and a sample table for programs, and a text a model
can act on: the outcome, counts by action and day, every failure grouped by reason, the changes."""

from __future__ import annotations

from typing import Any, Literal

from mcp_types import CallToolResult
from pydantic import BaseModel, ConfigDict

from domain.system_agent.batch import BatchReport
from domain.system_agent.cards import Confirmation
from mcp_server.budget import fit
from mcp_server.confirmation import why_asked
from mcp_server.customer_data import MARK, marked, note, quoted, written
from mcp_server.rendering import SEPARATOR, TEXT_BUDGET, Text, cell, day_label, match_row, row, time_label
from mcp_server.toolkit import answer

UNBOUNDED = 1 << 30  # verbosity "detailed": every item, in the text too

Verbosity = Literal["summary", "detailed"]
COLUMNS = ["index", "status", "reservation_id", "wa_id", "action", "date", "time_slot", "error"]


class BatchAnswer(BaseModel):
    """The fields every batch answer has: `status`, `message`, and also `batch_id` (once applied), `summary`.
    Also, when they apply: `failures` (the failed or skipped items grouped by reason: code, sentence, whole
    count, the first 200 items of each), `sample` (a table of items) or `items` (detailed), `confirmation`
    and `next_step` (needs_confirmation), `matched_customers`, `notices`, `hint`, tool, mode, errors,
    items_truncated, undone_batch_id, truncated, `customer_written` (the fields holding what customers wrote).
    The output schema lists only the first two, to keep tools/list small."""

    model_config = ConfigDict(extra="allow")

    status: str
    message: str


def batch_answer(report: BatchReport, verbosity: Verbosity, tool: str | None = None) -> CallToolResult:
    """The text a model acts on, and the structured answer: every item when detailed, else a compact
    sample within the size budget."""
    data: dict[str, Any] = dict(report.to_dict(verbosity))  # the renderers below read it as JSON
    if tool is not None:
        data = with_next_step(data, tool)
    data = marked(data)
    budget = TEXT_BUDGET if verbosity == "summary" else UNBOUNDED
    return answer(batch_text(data, report.ar, budget), structured(data, verbosity))


def structured(data: dict[str, Any], verbosity: Verbosity) -> dict[str, Any]:
    """Detailed: as it is. Summary: the sample rows as a table, the errors' sentences once, within budget, marked
    anew (the sample's columns hold no names)."""
    if verbosity == "detailed":
        return data
    data = dict(data)
    data.pop(MARK, None)
    rows = data.pop("items")
    columns = COLUMNS + ["placed"] if any(r.get("placed") for r in rows) else COLUMNS  # only a placement has it
    data["sample"] = {"columns": columns, "rows": [_row(r, columns) for r in rows]}
    errors = {r["error"]["code"]: r["error"]["message"] for r in rows if r.get("error")}
    data["errors"] = errors or None
    return fit(marked(data))


def _row(item: dict[str, Any], columns: list[str]) -> list[Any]:
    error = item.get("error")
    values = {**item, "error": error["code"] if error else None}
    return [values.get(column) for column in columns]


def with_next_step(data: dict[str, Any], tool: str) -> dict[str, Any]:
    """A needs_confirmation answer tells the model exactly what to do next."""
    token = (data.get("confirmation") or {}).get("token")
    if data["status"] == "needs_confirmation" and token:
        data["next_step"] = (
            "Nothing was written. Show this preview to the user and wait for their answer. Only if they confirm, "
            f"call {tool} again with exactly the same arguments plus confirmation_token={token}.")
    return data


def declined_answer(tool: str, mode: str, ar: bool) -> dict[str, Any]:
    """The user said no (or dismissed the question): nothing changed, and no token is handed out."""
    message = "رفض المستخدم العملية؛ لم يتغير شيء." if ar else "Declined by the user; nothing was changed."
    return {"batch_id": None, "tool": tool, "status": "declined", "mode": mode, "message": message,
            "summary": {}, "confirmation": None}


EN = {
    "applied": "Applied: {ok} ok{actions}, {failed} failed, {skipped} skipped of {requested} item(s).",
    "dry_run": "Dry run, nothing written: {ok} would be ok{actions}, {failed} would fail, {skipped} skipped "
               "of {requested} item(s).",
    "needs_confirmation": "Needs confirmation, nothing written: {ok} would be ok{actions}, {failed} would "
                          "fail of {requested} item(s).",
    "rolled_back": "Rolled back (atomic), nothing written: {failed} failed, so the other {skipped} item(s) were "
                   "not applied either, of {requested}.",
    "replayed": "Already applied earlier (replayed, nothing written now): {ok} ok{actions}, {failed} "
                "failed, {skipped} skipped of {requested} item(s).",
    "failed": "Every item failed, nothing written: {failed} failed, {skipped} skipped of {requested} item(s).",
    "nothing_matched": "Nothing matched, nothing written and no batch recorded: no upcoming reservation or customer "
                       "fits the request.",
    "batch_id": "batch_id={batch_id} (undo it with system_undo_batch).",
    "undone": "This undoes batch {batch_id}.",
    "days": "Days: {days}. Times are {zone}.",
    "failures": "Not applied, by reason (#id|customer|wa_id|day|time):",
    "group": "{code}: {message} ({count} {status})",
    "changes": "Changed (#id|customer|wa_id|action|from|to):",
    "placed": "placed {why}",
    "placements": "Placed at another time than asked: {placed}.",
    "more": "Not listed here: {what} ({count} item(s)).",
    "rest_applied": "The full list: system_get_batch with batch_id={batch_id}.",
    "rest_preview": "The full list: repeat this call with dry_run true and verbosity \"detailed\" (writes nothing).",
    "no_name": "(no name)",
    "recorded": "Recorded at {created_at}.",
    "matched": "The targets were found by search_query: {count} customer(s) matched (name|wa_id|similarity, "
               "then the name word matched when it was in another script or spelling):",
    "matched_what": "matched customers",
    "more_days": "and {count} more day(s) up to {last}",
    "undone_at": "Undone at {undone_at}.",
    "page": "Items {first}-{last} of {total} (failures first, then changes).",
    "next_page": "More items: call system_get_batch again with offset={offset}.",
    "notices_queued": "WhatsApp notices queued: {count} customer(s) ({purposes}); they go out at the clinic's "
                      "sending rate (ask system_get_notices for their delivery).",
    "notices_planned": "WhatsApp notices this would send: {count} customer(s) ({purposes}).",
    "left_out": "Left out of the notices: {left_out}.",
    "example": "Example notice ({language}): {text}",
    "closed": "Closed for {title}: {start_date} to {end_date}{hours} ({start_hijri} to {end_hijri} AH), closure id "
              "{id}; every booking there is now refused.",
    "to_close": "Would close for {title}: {start_date} to {end_date}{hours} ({start_hijri} to {end_hijri} AH).",
    "reopened": "Reopened (closure {id}, {title}): {start_date} to {end_date}{hours} can be booked again.",
    "to_reopen": "Would reopen closure {id} ({title}): {start_date} to {end_date}{hours}.",
}
AR = {
    "applied": "تم التنفيذ: نجح {ok}{actions}، وفشل {failed}، وتخطي {skipped} من أصل {requested}.",
    "dry_run": "تجربة دون كتابة: سينجح {ok}{actions}، وسيفشل {failed}، وتخطي {skipped} من أصل {requested}.",
    "needs_confirmation": "يلزم التأكيد، لم يُكتب شيء: سينجح {ok}{actions}، وسيفشل {failed} من أصل {requested}.",
    "rolled_back": "أُلغيت العملية كلها (ذرية)، لم يُكتب شيء: فشل {failed}، فلم يُطبق {skipped} غيرها، من أصل {requested}.",
    "replayed": "نُفذت سابقًا (إعادة، لم يُكتب شيء الآن): نجح {ok}{actions}، وفشل {failed}، وتخطي {skipped} "
                "من أصل {requested}.",
    "failed": "فشلت كل العناصر، لم يُكتب شيء: فشل {failed}، وتخطي {skipped} من أصل {requested}.",
    "nothing_matched": "لم يطابق شيء، لم يُكتب شيء ولم تُسجَّل دفعة: لا حجز قادم ولا عميل يوافق الطلب.",
    "batch_id": "batch_id={batch_id} (للتراجع استخدم system_undo_batch).",
    "undone": "هذه العملية تتراجع عن الدفعة {batch_id}.",
    "days": "الأيام: {days}. الأوقات بتوقيت {zone}.",
    "failures": "ما لم يُطبق، حسب السبب (#id|العميل|wa_id|اليوم|الوقت):",
    "group": "{code}: {message} ({count} {status})",
    "changes": "ما تغيّر (#id|العميل|wa_id|الإجراء|من|إلى):",
    "placed": "وُضع {why}",
    "placements": "وُضع في وقت غير المطلوب: {placed}.",
    "more": "غير معروض هنا: {what} ({count} عنصرًا).",
    "rest_applied": "القائمة الكاملة: system_get_batch مع batch_id={batch_id}.",
    "rest_preview": "القائمة الكاملة: أعد هذا الاستدعاء مع dry_run true و verbosity \"detailed\" (دون كتابة).",
    "no_name": "(بلا اسم)",
    "recorded": "سُجلت في {created_at}.",
    "matched": "حُددت الأهداف بالبحث search_query: طابق {count} عميلًا (الاسم|wa_id|درجة التشابه، ثم الكلمة المطابقة إن كانت بكتابة أو تهجئة "
               "أخرى):",
    "matched_what": "العملاء المطابقين",
    "more_days": "و{count} يومًا آخر حتى {last}",
    "undone_at": "تم التراجع عنها في {undone_at}.",
    "page": "العناصر {first}-{last} من {total} (ما فشل أولًا ثم ما تغيّر).",
    "next_page": "عناصر أخرى: استدعِ system_get_batch مرة أخرى مع offset={offset}.",
    "notices_queued": "إشعارات واتساب في الطابور: {count} عميلًا ({purposes})؛ تُرسل بمعدل الإرسال المضبوط "
                      "(اسأل system_get_notices عن وصولها).",
    "notices_planned": "إشعارات واتساب التي ستُرسل: {count} عميلًا ({purposes}).",
    "left_out": "مستثنون من الإشعارات: {left_out}.",
    "example": "مثال على الإشعار ({language}): {text}",
    "closed": "أُغلقت العيادة بسبب {title}: من {start_date} إلى {end_date}{hours} ({start_hijri} إلى {end_hijri} هـ)، "
              "معرّف الإغلاق {id}؛ يُرفض الآن كل حجز فيها.",
    "to_close": "سيُغلق بسبب {title}: من {start_date} إلى {end_date}{hours} ({start_hijri} إلى {end_hijri} هـ).",
    "reopened": "أُعيد الفتح (الإغلاق {id}، {title}): يمكن الحجز من {start_date} إلى {end_date}{hours} مجددًا.",
    "to_reopen": "سيُعاد فتح الإغلاق {id} ({title}): من {start_date} إلى {end_date}{hours}.",
}


def batch_text(data: dict[str, Any], ar: bool = False, budget: int = TEXT_BUDGET,
               paging: str | None = None) -> str:
    """The whole outcome for a model: headline with counts, batch id, days, every failure grouped by reason
    (as many as the budget holds, then how many more and where to get them), the changes, the next step."""
    say = AR if ar else EN
    if data["status"] == "declined":
        return str(data["message"])
    text = Text(budget)
    text.add(_headline(data, say))
    if data.get("next_step"):
        text.add(data["next_step"])
    asks = data["status"] == "needs_confirmation" and data.get("confirmation")
    if asks and (why := why_asked(Confirmation.model_validate(data["confirmation"]), ar)):
        text.add(why)
    if (customers := note(data, ar)) is not None:
        text.add(customers)
    summary = data.get("summary") or {}
    if summary.get("days"):
        text.add(say["days"].format(days=_days(summary["days"], say), zone=summary.get("timezone", "")))
    if summary.get("placed"):
        text.add(say["placements"].format(placed=", ".join(f"{rule} {n}" for rule, n in summary["placed"].items())))
    for closure in data.get("closures") or []:
        done = data["status"] in ("applied", "replayed")
        key = closure["action"] if done else {"closed": "to_close", "reopened": "to_reopen"}[closure["action"]]
        hours = f", {closure['from_time']}-{closure['to_time']}" if closure.get("from_time") else ""
        text.add(say[key].format_map({**closure, "hours": hours}))
    if data.get("matched_customers") is not None:
        _matched(text, data["matched_customers"], say)
    if data.get("notices") is not None:
        _notices(text, data["notices"], "queued" in data["notices"], say)
    if data.get("hint"):
        text.add(data["hint"])
    reserve = 600  # room for the changes' header and the closing lines
    hidden = _failures(text, data.get("failures") or [], say, reserve)
    hidden += _changes(text, data, say)
    if paging is not None:
        text.add(paging)
    elif hidden:
        more = ", ".join(f"{n} {what}" for what, n in hidden)
        text.add(say["more"].format(count=sum(n for _, n in hidden), what=more))
        rest = "rest_applied" if data.get("batch_id") else "rest_preview"
        text.add(say[rest].format(batch_id=data.get("batch_id")))
    return str(text)


def recorded_answer(data: dict[str, Any], offset: int, limit: int, ar: bool = False) -> CallToolResult:
    """An applied batch as recorded, its items (failures grouped by reason, then the changes) from `offset`."""
    say = AR if ar else EN
    flat = [(g, item) for g in data.get("failures") or [] for item in g["items"]]
    flat += [(None, change) for change in data["changes"]]
    window = flat[offset:offset + limit]
    groups: dict[str, dict[str, Any]] = {}
    for group, item in window:
        if group is not None:
            groups.setdefault(group["code"], {**group, "items": []})["items"].append(item)
    shown = marked(dict(data, failures=list(groups.values()),
                        items=[item for group, item in window if group is None]))
    paging = [say["recorded"].format(created_at=data["created_at"])]
    if data.get("undone_at"):
        paging.append(say["undone_at"].format(undone_at=data["undone_at"]))
    paging.append(say["page"].format(first=offset + 1 if window else 0, last=offset + len(window), total=len(flat)))
    if offset + len(window) < len(flat):
        paging.append(say["next_page"].format(offset=offset + len(window)))
    structured = dict(shown, offset=offset, total_items=len(flat))
    return answer(batch_text(shown, ar, UNBOUNDED, " ".join(paging)), structured)


DAYS_ROOM = 800  # bytes of the days line; the rest of a long span is counted


def _days(days: dict[str, int], say: dict[str, str]) -> str:
    """'Sun 2026-12-06 (1448-06-26): 8, Mon 2026-12-07 (1448-06-27): 8', cut to DAYS_ROOM with the days left out
    counted."""
    shown: list[str] = []
    for day, count in days.items():
        part = f"{day_label(day)}: {count}"
        if sum(len(p) + 2 for p in shown) + len(part) > DAYS_ROOM:
            return ", ".join(shown) + " " + say["more_days"].format(count=len(days) - len(shown),
                                                                     last=day_label(list(days)[-1]))
        shown.append(part)
    return ", ".join(shown)


def _headline(data: dict[str, Any], say: dict[str, str]) -> str:
    summary = data.get("summary") or {}
    actions = ", ".join(f"{action} {n}" for action, n in (summary.get("by_action") or {}).items())
    counts = {k: summary.get(k, 0) for k in ("failed", "skipped", "requested")}
    line = say[data["status"]].format(ok=summary.get("ok", 0), actions=f" ({actions})" if actions else "",
                                      **counts)
    if data.get("batch_id"):
        line += " " + say["batch_id"].format(batch_id=data["batch_id"])
    if data.get("undone_batch_id"):
        line += " " + say["undone"].format(batch_id=data["undone_batch_id"])
    return line


def _matched(text: Text, matched: list[dict[str, Any]], say: dict[str, str]) -> None:
    """The customers a fuzzy search_query chose: the person confirming must see whom it reaches."""
    text.add(say["matched"].format(count=len(matched)))
    shown = text.rows([match_row(m, say["no_name"]) for m in matched],
                      1_500)
    if shown < len(matched):
        text.add(say["more"].format(what=say["matched_what"], count=len(matched) - shown))


def _notices(text: Text, notices: dict[str, Any], queued: bool, say: dict[str, str]) -> None:
    """Whom the batch messages (or would), who is left out and why, and what one customer per language reads."""
    purposes = ", ".join(f"{purpose} {n}" for purpose, n in (notices.get("by_purpose") or {}).items()) or "-"
    count = notices["queued"] if queued else notices.get("customers", 0)
    text.add(say["notices_queued" if queued else "notices_planned"].format(count=count, purposes=purposes))
    if notices.get("left_out"):
        text.add(say["left_out"].format(left_out=", ".join(f"{why} {n}" for why, n in notices["left_out"].items())))
    for language, example in (notices.get("examples") or {}).items():
        text.add(say["example"].format(language=language, text=quoted(example)))


def _failures(text: Text, groups: list[dict[str, Any]], say: dict[str, str], reserve: int) -> list[tuple[str, int]]:
    """Each reason with its sentence, then its items while they fit; (what, how many) of those left out."""
    if not groups:
        return []
    text.add(say["failures"])
    hidden = []
    for group in groups:
        text.add(say["group"].format(code=group["code"], message=group["message"], count=group["count"],
                                     status=group["status"]))
        lines = [_failure_line(item, say) for item in group["items"]]
        shown = text.rows(lines, reserve)
        if shown < group["count"]:
            hidden.append((group["code"], group["count"] - shown))
    return hidden


def _failure_line(item: dict[str, Any], say: dict[str, str]) -> str:
    line = _who(item, say) + SEPARATOR + row([day_label(item.get("date")), time_label(item.get("time_slot"))])
    return line + (SEPARATOR + cell(item["message"]) if item.get("message") else "")


def _who(item: dict[str, Any], say: dict[str, str]) -> str:
    ident = f"#{item['reservation_id']}" if item.get("reservation_id") is not None else f"item {item.get('index')}"
    return row([ident, written(item.get("customer_name"), say["no_name"]), item.get("wa_id")])


def _changes(text: Text, data: dict[str, Any], say: dict[str, str]) -> list[tuple[str, int]]:
    changed = [item for item in data.get("items") or [] if item.get("status") == "ok"]
    total = (data.get("summary") or {}).get("ok", len(changed))
    if not total:
        return []
    text.add(say["changes"])
    shown = text.rows([_change_line(item, say) for item in changed], 300)
    return [("changed", total - shown)] if shown < total else []


def _change_line(item: dict[str, Any], say: dict[str, str]) -> str:
    before, after = item.get("before"), item.get("after")
    if isinstance(after, dict) or isinstance(before, dict):  # detailed: full reservation views
        start = _when((before or {}).get("date"), (before or {}).get("time_slot"))
        end = _when((after or {}).get("date"), (after or {}).get("time_slot"))
    else:
        start, end = _when(item.get("from_date"), item.get("from_time")), _when(item.get("date"), item.get("time_slot"))
    cells = [item.get("action"), start, end] + ([say["placed"].format(why=item["placed"])] if item.get("placed") else [])
    return _who(item, say) + SEPARATOR + row(cells)


def _when(day: str | None, slot: str | None) -> str:
    return f"{day_label(day)} {time_label(slot)}" if day else "-"
