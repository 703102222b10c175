"""Asking the user before a large destructive batch writes.

The batch service answers `needs_confirmation` (nothing written) with a one-time token bound to exactly
that change. Then, by what the client can do:
- elicitation over a back-channel (protocol up to 2025-11-25): ask now; on yes, redeem the token;
- elicitation on 2026-07-28 and later: return an `InputRequiredResult` whose sealed, request-bound
  state carries the token; the client asks the user and retries; on yes the token is redeemed, so
  exactly the previewed change is applied (a changed calendar needs a new answer);
- no elicitation: the preview and token go back to the model, told to ask the user first.
No tool argument can say "confirmed": only the user's answer or the token of this very change can.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mcp.server.elicitation import AcceptedElicitation, render_elicitation_schema
from mcp.server.mcpserver import Context
from mcp_types import ElicitRequest, ElicitRequestFormParams, ElicitResult, InputRequiredResult
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field, create_model

from domain.errors import DomainError
from domain.system_agent.batch import BatchOptions, BatchReport
from mcp_server.customer_data import quoted

Run = Callable[[BatchOptions], Awaitable[BatchReport]]
QUESTION = "confirm_batch"
_INPUT_REQUIRED_VERSION = "2026-07-28"


class Confirm(BaseModel):
    """Only an explicit `confirm: true` is a yes: an empty or missing answer is not."""

    confirm: bool = Field(default=False, strict=True, description="Apply this change")


@dataclass(frozen=True)
class Declined:
    """The user said no, or dismissed the question: nothing was written."""


Outcome = BatchReport | InputRequiredResult | Declined


ASKS = 3  # how often the user is asked again when the calendar changes while they answer


async def run_confirmed(ctx: Context, run: Run, options: BatchOptions) -> Outcome:
    """Run the batch, asking the user first when the service says it needs confirmation. A yes redeems
    the token of the change the user saw, so exactly that change is applied; when the calendar changed
    meanwhile, the token no longer matches and the user is shown a fresh preview."""
    if (retry := _answer_to_our_question(ctx)) is not None:
        token, accepted = retry
        if not accepted:
            return Declined()
        report = await _redeemed(run, options, token)
        if report is not None:
            return report
    report = await run(options)
    for _ in range(ASKS):
        if report.status != "needs_confirmation" or not _can_elicit(ctx):
            return report
        if _asks_by_input_required(ctx):
            return _input_required(report, options.ar)
        if not await _elicit_now(ctx, question(report, options.ar), _form(report)):
            return Declined()
        assert report.confirmation is not None
        report = await _redeemed(run, options, report.confirmation["token"]) or await run(options)
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


def _form(report: BatchReport) -> type[Confirm]:
    """The yes/no form, its description the preview as JSON so a client can show it as a card."""
    preview = (report.confirmation or {}).get("preview", {})
    form: type[Confirm] = create_model("Confirm", __base__=Confirm, __doc__=json.dumps(preview))
    return form


async def _elicit_now(ctx: Context, message: str, form: type[Confirm]) -> bool:
    try:
        outcome = await ctx.elicit(message, form)
    except ValueError:  # accepted without (valid) content: not a clear yes
        return False
    return isinstance(outcome, AcceptedElicitation) and outcome.data.confirm is True


def _input_required(report: BatchReport, ar: bool) -> InputRequiredResult:
    assert report.confirmation is not None
    schema = render_elicitation_schema(_form(report))
    params = ElicitRequestFormParams(message=question(report, ar), requested_schema=schema)
    state = json.dumps({"question": QUESTION, "token": report.confirmation["token"]})
    return InputRequiredResult(input_requests={QUESTION: ElicitRequest(params=params)}, request_state=state)


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
    """What the user is asked: how many reservations, which actions, on which days."""
    preview = (report.confirmation or {}).get("preview", {})
    count, days = preview.get("reservations", 0), preview.get("days", {})
    actions = ", ".join(f"{a}: {n}" for a, n in preview.get("actions", {}).items())
    shown = ", ".join(f"{d} ({n})" for d, n in list(days.items())[:10]) + (" …" if len(days) > 10 else "")
    failures = ", ".join(f"{code}: {n}" for code, n in preview.get("failures", {}).items())
    if ar:
        failing = f" وسيفشل {preview['failed']} ({failures})." if preview.get("failed") else ""
        told = _notices(preview.get("notices"), preview.get("hint"), ar)
        return (f"{report.tool}: سيتغير {count} حجزًا قائمًا ({actions}) في {len(days)} يومًا: {shown}.{failing}"
                f"{told} لم يُكتب شيء بعد. هل تريد التنفيذ؟")
    failing = f" {preview['failed']} item(s) would fail ({failures}) and stay as they are." if preview.get(
        "failed") else ""
    told = _notices(preview.get("notices"), preview.get("hint"), ar)
    if report.tool == "system_message_customers":
        return f"system_message_customers:{told} Nothing has been sent yet. Send it?"
    return (f"{report.tool} would change {count} existing reservations ({actions}) on {len(days)} day(s): "
            f"{shown}.{failing}{told} Nothing has been written yet. Apply it?")


def _notices(notices: dict[str, Any] | None, hint: str | None, ar: bool) -> str:
    """The WhatsApp messages a confirmation covers too: how many, who is left out, one example (quoted and escaped:
    it holds a customer's name, which must not break the question's line or turn its text around)."""
    said = ""
    if notices:
        left = ", ".join(f"{why}: {n}" for why, n in (notices.get("left_out") or {}).items())
        example = next(iter((notices.get("examples") or {}).values()), "")
        if ar:
            said = f" وسيُرسل {notices.get('customers', 0)} إشعار واتساب" + (f" (مستثنون: {left})" if left else "")
            said += f"، مثل: {quoted(example)}." if example else "."
        else:
            said = f" It would also send {notices.get('customers', 0)} WhatsApp notice(s)"
            said += (f" ({left} left out)" if left else "") + (f", e.g. {quoted(example)}." if example else ".")
    return said + (f" {hint}" if hint else "")
