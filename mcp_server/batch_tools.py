"""The system agent's batch tools: reserve, modify, cancel and undo many reservations in one call."""

from __future__ import annotations

import logging
import uuid
import weakref
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, InputRequiredResult
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, ConfigDict, Field

from domain.config import ClinicConfig
from domain.rules.identities import normalize_wa_id
from domain.staff.roles import signed
from domain.notices.reports import NoticeReports
from domain.system_agent.batch import REQUEST_META, BatchOptions, ProgressCallback, SystemAgentBatchService
from domain.system_agent.history import recent_batches
from domain.system_agent.recall import Recall
from domain.system_agent.undo import batch_key
from domain.system_agent.requests import (MAX_ID, CancelItem, Filters, ModifyItem, NotBoolean, Requests, ReserveItem,
                                          Updates)
from mcp_server.batch_answers import BatchAnswer, Verbosity, batch_answer, declined_answer, recorded_answer
from mcp_server.client_log import connection_of
from mcp_server.clinic_tools import ArabicArg, type_names
from mcp_server.confirmation import Declined, Run, run_confirmed
from mcp_server.customer_data import marked, note, written
from mcp_server.principals import caller
from mcp_server.rendering import row
from mcp_server.toolkit import READ_ONLY, WRITES, answer, declare
from mcp_server.views.preview import called_arguments, previewed_answer, shows_preview

logger = logging.getLogger(__name__)
PROGRESS_FROM = 100  # batches larger than this report progress
RECORDED_PAGE = 100  # items of a recorded batch per system_get_batch answer
LISTED_PAGE = 20  # batches per system_get_batch answer without a batch_id
ReserveRequests = Annotated[Requests[ReserveItem] | None, Field(description="Reservations to make")]
ModifyRequests = Annotated[Requests[ModifyItem] | None, Field(
    description="Changes, each by reservation_id and/or wa_id; or use filters")]
CancelRequests = Annotated[Requests[CancelItem] | None, Field(
    description="Reservations to cancel, each by reservation_id and/or wa_id; or use filters")]
ModeArg = Annotated[Literal["best_effort", "atomic"], Field(description="atomic: all or nothing")]
DryRunArg = Annotated[bool, Field(description="Preview only, write nothing")]
KeyArg = Annotated[str | None, Field(max_length=128, description="Same key: the first result again")]
TokenArg = Annotated[str | None, Field(description="From needs_confirmation, once the user said yes")]
NotifyArg = Annotated[bool, Field(description="Tell the customers on WhatsApp")]
VerbosityArg = Annotated[Verbosity, Field(description="detailed: every item")]
BatchResult = Annotated[CallToolResult, BatchAnswer] | InputRequiredResult


class NoticesAnswer(BaseModel):
    """Notices by status; also `failures` (notice_id, wa_id, customer_name, purpose, status, error, error_code,
    at), `unsure` (notice_id, wa_id, customer_name, purpose, batch_id, text, attempted_at, error), `batch_id`,
    `wa_id`, `customer_written`. The schema lists the counts only, to keep tools/list small."""

    model_config = ConfigDict(extra="allow")

    total: int


class BatchTools:
    """Thin adapters over `SystemAgentBatchService`; each answer reports item by item."""

    def __init__(self, batch: SystemAgentBatchService, config: ClinicConfig, reports: NoticeReports) -> None:
        self.batch = batch
        self.config = config
        self.reports = reports

    def tools(self) -> list[Tool]:
        names = type_names(self.config)
        types = {"reservation_type": names, "new_type": names, "reservation_types": names}
        return [
            declare(self.system_batch_reserve, title="Reserve many", annotations=WRITES, notes=types),
            declare(self.system_batch_modify, title="Modify many", annotations=WRITES, notes=types),
            declare(self.system_batch_cancel, title="Cancel many", annotations=WRITES, notes=types),
            declare(self.system_undo_batch, title="Undo a batch", annotations=WRITES),
            declare(self.system_get_batch, title="What a batch did", annotations=READ_ONLY),
            declare(self.system_message_customers, title="Message customers", annotations=WRITES, notes=types),
            declare(self.system_get_notices, title="Notices delivered", annotations=READ_ONLY),
            declare(self.system_close_days, title="Close the clinic", annotations=WRITES),
            declare(self.system_reopen_days, title="Reopen closed days", annotations=WRITES),
        ]

    async def system_batch_reserve(
        self, ctx: Context, requests: ReserveRequests = None, mode: ModeArg = "best_effort", dry_run: DryRunArg = False,
        idempotency_key: KeyArg = None, confirmation_token: TokenArg = None, verbosity: VerbosityArg = "summary",
        ar: ArabicArg = False,
    ) -> BatchResult:
        """Book reservations. A customer who has an upcoming reservation is moved to the new slot
        (one each); a cancelled booking of that slot is reinstated."""
        options = _options(ctx, mode, dry_run, idempotency_key, confirmation_token, ar)

        async def run(opts: BatchOptions) -> Any:
            return await self.batch.reserve(_plain(requests), opts, _progress(ctx))
        return await _respond(ctx, "system_batch_reserve", run, options, verbosity)

    async def system_batch_modify(
        self, ctx: Context, requests: ModifyRequests = None, filters: Filters | None = None,
        updates: Updates | None = None, mode: ModeArg = "best_effort", dry_run: DryRunArg = False,
        idempotency_key: KeyArg = None, confirmation_token: TokenArg = None, notify: NotifyArg = False,
        verbosity: VerbosityArg = "summary", ar: ArabicArg = False,
    ) -> BatchResult:
        """Change reservations (date, time, type, name, or a new number: new_wa_id): explicit
        requests, or filters plus updates, e.g. filters {"dates": ["2026-12-03"]} with updates
        {"new_date": "2026-12-05"} moves that whole day, keeping each time."""
        options = _options(ctx, mode, dry_run, idempotency_key, confirmation_token, ar, notify)

        async def run(opts: BatchOptions) -> Any:
            return await self.batch.modify(_plain(requests), _plain(filters), _plain(updates), opts, _progress(ctx))
        return await _respond(ctx, "system_batch_modify", run, options, verbosity)

    async def system_batch_cancel(
        self, ctx: Context, requests: CancelRequests = None, filters: Filters | None = None,
        mode: ModeArg = "best_effort", dry_run: DryRunArg = False, idempotency_key: KeyArg = None,
        confirmation_token: TokenArg = None, notify: NotifyArg = False, verbosity: VerbosityArg = "summary",
        ar: ArabicArg = False,
    ) -> BatchResult:
        """Cancel (soft delete) upcoming reservations: explicit requests, or every one the filters
        match, e.g. {"start_date": "2026-12-20", "end_date": "2026-12-31"}."""
        options = _options(ctx, mode, dry_run, idempotency_key, confirmation_token, ar, notify)

        async def run(opts: BatchOptions) -> Any:
            return await self.batch.cancel(_plain(requests), _plain(filters), opts, _progress(ctx))
        return await _respond(ctx, "system_batch_cancel", run, options, verbosity)

    async def system_undo_batch(
        self,
        ctx: Context,
        batch_id: Annotated[str, Field(max_length=64, description="The batch_id of an applied batch")],
        confirmation_token: TokenArg = None,
        notify: NotifyArg = False,
        verbosity: VerbosityArg = "summary",
        ar: ArabicArg = False,
    ) -> BatchResult:
        """Revert an applied batch (moves, cancellations, bookings, renames, new numbers); undoable
        too. What the calendar no longer allows fails."""
        options = _options(ctx, "best_effort", False, None, confirmation_token, ar, notify)

        async def run(opts: BatchOptions) -> Any:
            return await self.batch.undo(batch_id, opts, _progress(ctx))
        return await _respond(ctx, "system_undo_batch", run, options, verbosity)

    async def system_get_batch(
        self,
        batch_id: Annotated[str | None, Field(max_length=64, description="Omit: list the newest")] = None,
        offset: Annotated[int, Field(ge=0, description="Items to skip (from the previous answer)")] = 0,
        ar: ArabicArg = False,
    ) -> Annotated[CallToolResult, BatchAnswer]:
        """An applied batch as recorded: counts, failures by reason, then each change, 100 items a
        call; with no batch_id, the newest batches."""
        if batch_id is None:
            listed = (await recent_batches(self.batch.db, self.config, LISTED_PAGE, offset)).model_dump(mode="json")
            headline = batches_text(listed)
            return answer(headline, dict(listed, status="listed", message=headline.split("\n", 1)[0]))
        data = await self.batch.recorded(batch_id)
        return recorded_answer(data.model_dump(mode="json"), offset, RECORDED_PAGE, ar)

    async def system_message_customers(
        self, ctx: Context,
        text: Annotated[str, Field(min_length=1, max_length=1000, description="What to tell them")],
        wa_ids: Annotated[list[Annotated[str, Field(max_length=40)]] | None, Field(
            max_length=5000, description="Customers; or start_date")] = None,
        start_date: Annotated[str | None, Field(max_length=40, description="Customers booked from")] = None,
        end_date: Annotated[str | None, Field(max_length=40, description="to (inclusive)")] = None,
        recall: Annotated[Recall | None, Field(description="Or a recall")] = None,
        dry_run: DryRunArg = False, idempotency_key: KeyArg = None, confirmation_token: TokenArg = None,
        ar: ArabicArg = False,
    ) -> BatchResult:
        """WhatsApp customers (wa_ids, those booked in a date range, or a recall): plain text if they
        wrote in the last 24 hours, else the notice template. Confirmed like a batch."""
        options = _options(ctx, "best_effort", dry_run, idempotency_key, confirmation_token, ar)
        filters = {"start_date": start_date, "end_date": end_date or start_date} if start_date else None

        async def run(opts: BatchOptions) -> Any:
            return await self.batch.message(text, wa_ids, filters, opts, _progress(ctx), recall)
        return await _respond(ctx, "system_message_customers", run, options, "summary")

    async def system_close_days(
        self, ctx: Context,
        start_date: Annotated[str, Field(max_length=40, description="First day")],
        title: Annotated[str, Field(min_length=1, max_length=200, description="e.g. Winter break")],
        end_date: Annotated[str | None, Field(max_length=40, description="Last day; omit for one")] = None,
        from_time: Annotated[str | None, Field(max_length=40, description="Hours only: from")] = None,
        to_time: Annotated[str | None, Field(max_length=40, description="until")] = None,
        hijri: Annotated[bool, Field(description="Dates are Hijri")] = False,
        dry_run: DryRunArg = False, idempotency_key: KeyArg = None, confirmation_token: TokenArg = None,
        notify: NotifyArg = False, verbosity: VerbosityArg = "summary", ar: ArabicArg = False,
    ) -> BatchResult:
        """Close days (or some hours of them), cancelling their bookings in one batch; then any
        booking there is refused. Undo reopens and restores."""
        options = _options(ctx, "best_effort", dry_run, idempotency_key, confirmation_token, ar, notify)

        async def run(opts: BatchOptions) -> Any:
            return await self.batch.close(start_date, end_date, title, hijri, opts, _progress(ctx),
                                          (from_time, to_time))
        return await _respond(ctx, "system_close_days", run, options, verbosity)

    async def system_reopen_days(
        self, ctx: Context,
        closure_id: Annotated[int, Field(ge=1, le=MAX_ID, description="From get_current_datetime"), NotBoolean],
        idempotency_key: KeyArg = None, ar: ArabicArg = False,
    ) -> BatchResult:
        """Remove a closure so its days can be booked; cancelled bookings stay cancelled."""
        options = _options(ctx, "best_effort", False, idempotency_key, None, ar)

        async def run(opts: BatchOptions) -> Any:
            return await self.batch.reopen(closure_id, opts)
        return await _respond(ctx, "system_reopen_days", run, options, "summary")

    async def system_get_notices(
        self,
        batch_id: Annotated[str | None, Field(max_length=64)] = None,
        wa_id: Annotated[str | None, Field(max_length=32)] = None,
        ar: ArabicArg = False,
    ) -> Annotated[CallToolResult, NoticesAnswer]:
        """WhatsApp notices of a batch, a customer or all: counts by status, failures, unsure sends."""
        who = normalize_wa_id(wa_id) if wa_id else None
        stats = await self.reports.stats(batch_id=batch_key(batch_id) if batch_id else None, wa_id=who)
        data = marked(stats.model_dump(mode="json"))
        return answer(notices_text(data, batch_id, who, ar), dict(data, batch_id=batch_id, wa_id=who))


def batches_text(data: dict[str, Any]) -> str:
    """A line a batch, newest first, then where the next page starts."""
    shown = data["batches"]
    lines = [f"Applied batches, newest first: {len(shown)} of {data['total']} from {data['offset']} "
             f"({data['timezone']}).", "batch_id|at|by|tool|what|ok|failed|notices|undo|asked for"]
    for b in shown:
        notices = ", ".join(f"{status} {n}" for status, n in b["notices"].items()) or "-"
        undo = f"undone {b['undone_at']}" if b["undone_at"] else b["undo"]
        lines.append(row([b["batch_id"], b["at"], signed_by(b), b["tool"], b["what"], b["ok"], b["failed"], notices, undo,
                          written(b["request"], "-")]))
    if data["next_offset"] is not None:
        lines.append(f"More: call again with offset={data['next_offset']}.")
    return "\n".join(lines)


def signed_by(batch: dict[str, Any]) -> str:
    """Who ran a listed batch, in words: `agent`, `agent for amal`, `operator amal`, `client for amal`, `system`."""
    if not batch.get("author"):
        return str(batch["by"])
    return f"{batch['by']}{' for ' if batch['by'] in ('agent', 'client') else ' '}{batch['author']}"


def notices_text(data: dict[str, Any], batch_id: str | None, wa_id: str | None, ar: bool) -> str:
    """Counts by status, then each failure (customer|wa_id|purpose|status|reason)."""
    scope = f"batch {batch_id}" if batch_id else f"customer {wa_id}" if wa_id else "all"
    counts = ", ".join(f"{status} {n}" for status, n in data["by_status"].items())
    head = (f"إشعارات {scope}: {data['total']} إجمالًا: {counts}." if ar
            else f"Notices of {scope}: {data['total']} in all: {counts}.")
    lines = [head]
    if (data["failures"] or data.get("unsure")) and (customers := note(data, ar)) is not None:
        lines.append(customers)
    if data["failures"]:
        lines.append("لم تصل (العميل|wa_id|الغرض|الحالة|السبب):" if ar
                     else "Not delivered (customer|wa_id|purpose|status|reason):")
        lines += [row([written(f.get("customer_name"), "-"), f["wa_id"], f["purpose"], f["status"], f.get("error")])
                  for f in data["failures"]]
    if data.get("unsure"):
        lines.append("غير مؤكد، يقرر الموظف في لوحة التحكم (العميل|wa_id|الغرض|بدأ الإرسال):" if ar
                     else "Unsure, an operator decides in the console (customer|wa_id|purpose|send began):")
        lines += [row([written(u.get("customer_name"), "-"), u["wa_id"], u["purpose"], u["attempted_at"]])
                  for u in data["unsure"]]
    return "\n".join(lines)


def _options(ctx: Context, mode: str, dry_run: bool, key: str | None, token: str | None, ar: bool,
             notify: bool = False) -> BatchOptions:
    """The call's options, signed by its caller: the agent for the person it answers, an OAuth client for the person
    who granted it, or the system agent (`mcp_server.principals.caller`)."""
    who = caller()
    signature = signed(who.principal, who.actor)
    return BatchOptions.model_validate({"mode": mode, "dry_run": dry_run, "idempotency_key": key,
                                        "confirmation_token": token, "ar": ar, "notify": notify,
                                        "turn": turn_of(ctx), "request": request_of(ctx), "actor": signature.actor,
                                        "role": signature.role})


def request_of(ctx: Context) -> object:
    """What the caller says the call serves (`REQUEST_META` in the request's `_meta`), as sent: `BatchOptions`
    keeps it on one line and cut to length, or drops it."""
    return (ctx.request_context.meta or {}).get(REQUEST_META)


_TURNS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_STATELESS = "2026-07-28"  # from this version on, a client has no connection beyond its one request


def turn_of(ctx: Context) -> str | None:
    """The caller's turn: its MCP connection (the bridge opens one for each turn of the operators' chat; a desktop
    client's lasts its whole conversation), named once with a random id, so what its calls apply without asking
    adds up (`domain.system_agent.effects`). None for a stateless client, whose every request is a new connection:
    its whole window then counts as one turn."""
    version = ctx.protocol_version
    if version is None or is_version_at_least(version, _STATELESS):
        return None
    connection = connection_of(ctx.session)
    if connection is None:
        return None
    if connection not in _TURNS:
        _TURNS[connection] = uuid.uuid4().hex
    return _TURNS[connection]


def _plain(value: Sequence[BaseModel] | BaseModel | None) -> Any:
    """Validated arguments as the plain JSON the service reads and records, with the fields the call set."""
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_unset=True)
    return None if value is None else [item.model_dump(exclude_unset=True) for item in value]


def _progress(ctx: Context) -> ProgressCallback:
    async def report(done: int, total: int) -> None:
        if total > PROGRESS_FROM:
            await ctx.report_progress(done, total, f"{done} of {total} items planned")
    return report


async def _respond(ctx: Context, tool: str, run: Run, options: BatchOptions, verbosity: Verbosity) -> BatchResult:
    previewed = shows_preview(ctx, tool)  # the person answers in the host's batch preview, not by elicitation
    outcome = await run_confirmed(ctx, run, options, ask=not previewed)
    if isinstance(outcome, InputRequiredResult):
        return outcome
    if isinstance(outcome, Declined):
        logger.info("%s: declined by the user", tool)
        data = declined_answer(tool, options.mode, options.ar)
        return answer(data["message"], data)
    counts = ", ".join(f"{status} {n}" for status, n in sorted(outcome.counts().items())) or "no items"
    logger.info("%s: %s (%s)%s", tool, outcome.status, counts,
                f", batch {outcome.batch_id}" if outcome.batch_id else "")
    if previewed and outcome.status == "needs_confirmation":
        return previewed_answer(outcome, verbosity, tool, called_arguments(ctx))
    return batch_answer(outcome, verbosity, tool)
