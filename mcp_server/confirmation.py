"""Asking the user before a large destructive batch writes.

The batch service answers `needs_confirmation` (nothing written) with a one-time token bound to exactly
that change. Then, by what the client can do:
- elicitation over a back-channel (protocol up to 2025-11-25): ask now; on yes, redeem the token;
- elicitation on 2026-07-28 and later: return an `InputRequiredResult` whose sealed, request-bound
  state carries the token; the client asks the user and retries; on yes the token is redeemed, so
  exactly the previewed change is applied (a changed calendar needs a new answer);
- an MCP Apps host showing the batch preview (`mcp_server.views`): the token goes to the preview only, in the
  result's `_meta`, never to the model; the person's Confirm there calls the same tool with it;
- no elicitation: the preview and token go back to the model, told to ask the user first.
No tool argument can say "confirmed": only the user's answer or the token of this very change can.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from mcp.server.elicitation import render_elicitation_schema
from mcp.server.mcpserver import Context
from mcp.shared.message import ServerMessageMetadata
from mcp_types import ElicitRequest, ElicitRequestFormParams, ElicitResult, InputRequiredResult, RequestParamsMeta
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from domain.errors import DomainError
from domain.system_agent.batch import BatchOptions, BatchReport
from domain.system_agent.cards import CARD_META_KEY, Card, Confirmation
from mcp_server.customer_data import quoted

Run = Callable[[BatchOptions], Awaitable[BatchReport]]
QUESTION = "confirm_batch"
_INPUT_REQUIRED_VERSION = "2026-07-28"


class Confirm(BaseModel):
    """Only an explicit `confirm: true` is a yes: an empty or missing answer is not."""

    confirm: bool = Field(default=False, strict=True, description="Apply this change")


CONFIRM_SCHEMA = render_elicitation_schema(Confirm)


@dataclass(frozen=True)
class Declined:
    """The user said no, or dismissed the question: nothing was written."""


Outcome = BatchReport | InputRequiredResult | Declined


ASKS = 3  # how often the user is asked again when the calendar changes while they answer


async def run_confirmed(ctx: Context, run: Run, options: BatchOptions, ask: bool = True) -> Outcome:
    """Run the batch, asking the user first when the service says it needs confirmation. A yes redeems
    the token of the change the user saw, so exactly that change is applied; when the calendar changed
    meanwhile, the token no longer matches and the user is shown a fresh preview. Without `ask` (the person
    answers in the batch preview of an MCP Apps host: `mcp_server.views`) a needs_confirmation report is the
    outcome."""
    if (retry := _answer_to_our_question(ctx)) is not None:
        token, accepted = retry
        if not accepted:
            return Declined()
        report = await _redeemed(run, options, token)
        if report is not None:
            return report
    report = await run(options)
    for _ in range(ASKS):
        if report.status != "needs_confirmation" or not ask or not _can_elicit(ctx):
            return report
        if _asks_by_input_required(ctx):
            return _input_required(report, options.ar)
        if not await _elicit_now(ctx, _form(report, options.ar)):
            return Declined()
        assert report.confirmation is not None
        report = await _redeemed(run, options, report.confirmation.token) or await run(options)
    return report


async def _redeemed(run: Run, options: BatchOptions, token: str) -> BatchReport | None:
    """The batch run with the user's token; None when the token no longer fits (the calendar changed, or
    it expired), so a fresh preview must be asked for."""
    try:
        return await run(options.model_copy(update={"confirmation_token": token}))
    except DomainError as error:
        if error.code != "confirmation_invalid":
            raise
        return None


def _can_elicit(ctx: Context) -> bool:
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        return False
    return _asks_by_input_required(ctx) or bool(ctx.session.can_send_request)


def _asks_by_input_required(ctx: Context) -> bool:
    version = ctx.protocol_version
    return version is not None and is_version_at_least(version, _INPUT_REQUIRED_VERSION)


def _form(report: BatchReport, ar: bool) -> ElicitRequestFormParams:
    """The yes/no question, the card in its `_meta` (`CARD_META_KEY`) for a client that shows one; a client
    that does not shows the question's text, which names the people and the change."""
    assert report.confirmation is not None
    # An open map (PEP 728's extra items), which mypy does not read yet: hence the cast.
    meta = cast(RequestParamsMeta, {CARD_META_KEY: report.confirmation.preview.model_dump(mode="json")})
    return ElicitRequestFormParams(message=question(report, ar), requested_schema=CONFIRM_SCHEMA, _meta=meta)


async def _elicit_now(ctx: Context, form: ElicitRequestFormParams) -> bool:
    """Ask over the back-channel (what `ctx.elicit` does, with the card in `_meta`); only `confirm: true` is yes."""
    answer = await ctx.session.send_request(ElicitRequest(params=form), ElicitResult,
                                            metadata=ServerMessageMetadata(related_request_id=ctx.request_id))
    return answer.action == "accept" and _says_yes(answer.content)


def _input_required(report: BatchReport, ar: bool) -> InputRequiredResult:
    assert report.confirmation is not None
    state = json.dumps({"question": QUESTION, "token": report.confirmation.token})
    return InputRequiredResult(input_requests={QUESTION: ElicitRequest(params=_form(report, ar))}, request_state=state)


def _answer_to_our_question(ctx: Context) -> tuple[str, bool] | None:
    """(token, accepted) when this call retries our question; the sealed state proves we asked it."""
    if not _asks_by_input_required(ctx) or not ctx.request_state:
        return None
    try:
        state = json.loads(ctx.request_state)
    except ValueError:
        return None
    answer = (ctx.input_responses or {}).get(QUESTION)
    if not isinstance(state, dict) or state.get("question") != QUESTION or not isinstance(answer, ElicitResult):
        return None
    return str(state["token"]), answer.action == "accept" and _says_yes(answer.content)


def _says_yes(content: dict[str, Any] | None) -> bool:
    return isinstance(content, dict) and content.get("confirm") is True


def question(report: BatchReport, ar: bool) -> str:
    """What the person is asked, one fact a line: what the batch would do and on which days, why they are asked
    (the limits it would pass, with what was applied without asking before it), who is affected, who would fail,
    whom a search chose, the exact text customers would get and who is left out. Every customer's name is quoted
    and escaped: it cannot break a line or pass for our words."""
    assert report.confirmation is not None
    preview, say = report.confirmation.preview, _AR if ar else _EN
    lines = [_headline(report.tool, preview, say)]
    if (why := why_asked(report.confirmation, ar)) is not None:
        lines.append(why)
    lines += _people(say["who"], [p.model_dump() for p in preview.affected], preview.affected_more, say, _change)
    if preview.failed:
        failures = ", ".join(f"{code}: {n}" for code, n in preview.failures.items())
        title = say["failing"].format(count=preview.failed, failures=failures)
        lines += _people(title, [p.model_dump() for p in preview.failing], preview.failing_more, say, _failure)
    matched = preview.matched_customers or []
    lines += _people(say["matched"], matched[:SHOWN], max(0, len(matched) - SHOWN), say, lambda p, s: "")
    lines += _told(preview.notices, report.tool == "system_message_customers", say)
    lines.append(say["ask_send"] if report.tool == "system_message_customers" else say["ask"])
    return "\n".join(lines)


def why_asked(confirmation: Confirmation, ar: bool) -> str | None:
    """Why a batch asks: each limit it would pass with the totals so far, a search that chose its customers, or
    the customers the batch it undoes had told."""
    preview, say = confirmation.preview, _AR if ar else _EN
    if reasons := [_reason(o, preview.window_minutes, say) for o in preview.asks_because]:
        return f"{say['why']} {' '.join(reasons)}"
    if preview.matched_customers is not None:
        return f"{say['why']} {say['searched']}"
    if preview.notified_before:
        return f"{say['why']} {say['undo_told'].format(count=preview.notified_before)}"
    return None


SHOWN = 10  # people a question names; the rest are counted

_EN: dict[str, Any] = {
    "headline": "{tool} would change {count} reservation(s) ({actions}) on {days} day(s): {shown}.",
    "headline_message": "system_message_customers would send a WhatsApp message to {count} customer(s).",
    "closures": " It closes {days} day(s): {periods}.",
    "why": "Asked because:",
    "searched": "the customers were chosen by a name search.",
    "undo_told": "the batch being undone told {count} customer(s) on WhatsApp; this undo tells nobody.",
    "turn": "this turn", "window": "the last {minutes} minutes",
    "reason": "{what}: {before} already in {scope} without asking, {adds} more now makes {total} (limit {limit}).",
    "whole_day": "it would take every booking off {day} ({count} in this turn).",
    "effects": {"bookings": "reservations changed or made", "messaged": "customers told on WhatsApp",
                "free_text": "customers sent your own words", "days_closed": "days closed",
                "closure_bookings": "reservations cancelled by a closure"},
    "who": "Who:", "failing": "{count} item(s) would fail ({failures}) and stay as they are:",
    "matched": "Chosen by the search:",
    "more": "and {count} more.", "no_name": "(no name)", "item": "item {index}", "cancelled": "cancelled",
    "text_exact": "The exact text they would get, e.g.: {text}",
    "notices": "It would also send {count} WhatsApp notice(s); the exact text, e.g.: {text}",
    "left_out": "Left out of the messages:",
    "why_left": {"blocked": "blocked", "opted_out": "opted out of notices"},
    "ask": "Nothing has been written yet. Apply it?",
    "ask_send": "Nothing has been sent yet. Send it?",
}
_AR: dict[str, Any] = {
    "headline": "{tool}: سيتغير {count} حجزًا ({actions}) في {days} يومًا: {shown}.",
    "headline_message": "system_message_customers: ستُرسل رسالة واتساب إلى {count} عميلًا.",
    "closures": " ويُغلق {days} يومًا: {periods}.",
    "why": "سبب السؤال:",
    "searched": "اختير العملاء ببحث بالاسم.",
    "undo_told": "أبلغت الدفعة التي يُتراجع عنها {count} عميلًا على واتساب؛ ولن يُبلغ هذا التراجع أحدًا.",
    "turn": "هذا الدور", "window": "آخر {minutes} دقيقة",
    "reason": "{what}: {before} سابقًا في {scope} دون سؤال، و{adds} الآن يصبح المجموع {total} (الحد {limit}).",
    "whole_day": "سيُخلي يوم {day} من كل حجوزاته ({count} في هذا الدور).",
    "effects": {"bookings": "حجوزات تتغير أو تُنشأ", "messaged": "عملاء يُبلَّغون على واتساب",
                "free_text": "عملاء تصلهم كلماتك", "days_closed": "أيام تُغلق",
                "closure_bookings": "حجوزات يلغيها الإغلاق"},
    "who": "من:", "failing": "سيفشل {count} ({failures}) ويبقى كما هو:", "matched": "اختارهم البحث:",
    "more": "و{count} غيرهم.", "no_name": "(بلا اسم)", "item": "العنصر {index}", "cancelled": "يُلغى",
    "text_exact": "النص الذي سيصلهم حرفيًا، مثلًا: {text}",
    "notices": "وسيُرسل {count} إشعار واتساب؛ النص حرفيًا، مثلًا: {text}",
    "left_out": "مستثنون من الرسائل:",
    "why_left": {"blocked": "محظور", "opted_out": "ألغى الاشتراك في الإشعارات"},
    "ask": "لم يُكتب شيء بعد. هل تريد التنفيذ؟",
    "ask_send": "لم يُرسل شيء بعد. هل تريد الإرسال؟",
}


def _headline(tool: str, preview: Card, say: dict[str, Any]) -> str:
    if tool == "system_message_customers":
        return str(say["headline_message"].format(count=preview.effects.get("free_text", 0)
                                                  or (preview.notices or {}).get("customers", 0)))
    days = preview.days
    actions = ", ".join(f"{a}: {n}" for a, n in preview.actions.items()) or "-"
    shown = ", ".join(f"{d} ({n})" for d, n in list(days.items())[:10]) + (" …" if len(days) > 10 else "")
    line: str = say["headline"].format(tool=tool, count=preview.reservations, actions=actions,
                                       days=len(days), shown=shown or "-")
    closed = [c for c in preview.closures or [] if c.get("action") == "closed"]
    if closed:
        periods = ", ".join(f"{c.get('start_date')} – {c.get('end_date')}" for c in closed)
        line += say["closures"].format(days=preview.effects.get("days_closed", 0), periods=periods)
    return line


def _reason(over: dict[str, Any], minutes: int, say: dict[str, Any]) -> str:
    if over.get("scope") == "whole_day":
        return str(say["whole_day"].format(day=over.get("day"), count=over.get("total")))
    scope = say["turn"] if over.get("scope") == "turn" else say["window"].format(minutes=minutes)
    return str(say["reason"].format(what=say["effects"].get(over.get("effect"), over.get("effect")), scope=scope,
                                before=over.get("before"), adds=over.get("adds"), total=over.get("total"),
                                limit=over.get("limit")))


def _people(title: str, people: list[dict[str, Any]], more: int, say: dict[str, Any],
            detail: Callable[[dict[str, Any], dict[str, Any]], str]) -> list[str]:
    """A titled line per person (name quoted, number), then how many more, when there are any."""
    if not people:
        return []
    lines = [title]
    for person in people:
        lines.append(f"- {_who(person, say)}{detail(person, say)}")
    if more:
        lines.append(say["more"].format(count=more))
    return lines


def _who(person: dict[str, Any], say: dict[str, Any]) -> str:
    """A person as a card names them: their name quoted, their number; an item with neither by its place."""
    if not person.get("wa_id"):
        found = person.get("reservation_id")
        return f"#{found}" if found else say["item"].format(index=person.get("index", 0) + 1)
    return f"{quoted(person['name']) if person.get('name') else say['no_name']} +{person['wa_id']}"


def _change(person: dict[str, Any], say: dict[str, Any]) -> str:
    was, then = person.get("from"), person.get("to")
    to = then if then else say["cancelled"]
    return f": {was} → {to}" if was else f": → {to}"


def _failure(person: dict[str, Any], say: dict[str, Any]) -> str:
    return f": {person.get('reason') or person.get('error')}"


def _told(notices: dict[str, Any] | None, message: bool, say: dict[str, Any]) -> list[str]:
    """The exact text customers would get (quoted: it holds a customer's name), and who is left out and why."""
    if not notices:
        return []
    examples = list((notices.get("examples") or {}).values())
    lines = []
    if examples:
        text = " / ".join(quoted(example) for example in examples)
        lines.append(say["text_exact"].format(text=text) if message else
                     say["notices"].format(count=notices.get("customers", 0), text=text))
    left = notices.get("left_out_customers") or []
    more = sum((notices.get("left_out") or {}).values()) - len(left)
    lines += _people(say["left_out"], left, more, say, lambda p, s: f": {s['why_left'].get(p['why'], p['why'])}")
    return lines
