"""The system agent's batch tools: reserve, modify, cancel and undo many reservations in one call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, InputRequiredResult
from pydantic import BaseModel, Field

from domain.config import ClinicConfig
from domain.system_agent.batch import BatchOptions, ProgressCallback, SystemAgentBatchService
from domain.system_agent.requests import CancelItem, Filters, ModifyItem, Requests, ReserveItem, Updates
from mcp_server.batch_answers import BatchAnswer, Verbosity, batch_answer, declined_answer, recorded_answer
from mcp_server.clinic_tools import ArabicArg, type_names
from mcp_server.confirmation import Declined, Run, run_confirmed
from mcp_server.toolkit import READ_ONLY, WRITES, answer, declare

PROGRESS_FROM = 100  # batches larger than this report progress
RECORDED_PAGE = 100  # items of a recorded batch per system_get_batch answer
ReserveRequests = Annotated[Requests[ReserveItem] | None, Field(description="Reservations to make")]
ModifyRequests = Annotated[Requests[ModifyItem] | None, Field(
    description="Changes, each by reservation_id and/or wa_id; or use filters")]
CancelRequests = Annotated[Requests[CancelItem] | None, Field(
    description="Reservations to cancel, each by reservation_id and/or wa_id; or use filters")]
ModeArg = Annotated[Literal["best_effort", "atomic"], Field(
    description="best_effort: each item on its own; atomic: all or nothing")]
DryRunArg = Annotated[bool, Field(description="Preview only, write nothing")]
KeyArg = Annotated[str | None, Field(
    max_length=128, description="A retry with the same key returns the first result")]
TokenArg = Annotated[str | None, Field(
    description="From a needs_confirmation answer, once the user said yes")]
VerbosityArg = Annotated[Verbosity, Field(
    description="summary: totals, failures, a sample; detailed: all")]
BatchResult = Annotated[CallToolResult, BatchAnswer] | InputRequiredResult


class BatchTools:
    """Thin adapters over `SystemAgentBatchService`; each answer reports item by item."""

    def __init__(self, batch: SystemAgentBatchService, config: ClinicConfig) -> None:
        self.batch = batch
        self.config = config

    def tools(self) -> list[Tool]:
        names = type_names(self.config)
        types = {"reservation_type": names, "new_type": names, "reservation_types": names}
        return [
            declare(self.system_batch_reserve, title="Reserve many", annotations=WRITES, notes=types),
            declare(self.system_batch_modify, title="Modify many", annotations=WRITES, notes=types),
            declare(self.system_batch_cancel, title="Cancel many", annotations=WRITES, notes=types),
            declare(self.system_undo_batch, title="Undo a batch", annotations=WRITES),
            declare(self.system_get_batch, title="What a batch did", annotations=READ_ONLY),
        ]

    async def system_batch_reserve(
        self, ctx: Context, requests: ReserveRequests = None, mode: ModeArg = "best_effort", dry_run: DryRunArg = False,
        idempotency_key: KeyArg = None, confirmation_token: TokenArg = None, verbosity: VerbosityArg = "summary",
        ar: ArabicArg = False,
    ) -> BatchResult:
        """Book one or many reservations (wa_id, date, time_slot, optional reservation_type and
        customer_name). A customer who already has an upcoming reservation is moved to the new slot
        (one upcoming reservation per customer); a cancelled booking of that slot is reinstated.
        Preview with dry_run; on needs_confirmation, follow its next_step."""
        options = _options(mode, dry_run, idempotency_key, confirmation_token, ar)

        async def run(opts: BatchOptions) -> Any:
            return await self.batch.reserve(_plain(requests), opts, _progress(ctx))
        return await _respond(ctx, "system_batch_reserve", run, options, verbosity)

    async def system_batch_modify(
        self, ctx: Context, requests: ModifyRequests = None, filters: Filters | None = None,
        updates: Updates | None = None, mode: ModeArg = "best_effort", dry_run: DryRunArg = False,
        idempotency_key: KeyArg = None, confirmation_token: TokenArg = None, verbosity: VerbosityArg = "summary",
        ar: ArabicArg = False,
    ) -> BatchResult:
        """Change reservations: date, time, type, the customer's name, or move a customer to a new
        number (new_wa_id). Either explicit requests, or filters plus updates to move everything
        matching, e.g. filters {"dates": ["2026-12-03"]} with updates {"new_date": "2026-12-05"}
        moves that whole day, keeping each time. Preview with dry_run; on needs_confirmation, follow
        its next_step."""
        options = _options(mode, dry_run, idempotency_key, confirmation_token, ar)

        async def run(opts: BatchOptions) -> Any:
            return await self.batch.modify(_plain(requests), _plain(filters), _plain(updates), opts, _progress(ctx))
        return await _respond(ctx, "system_batch_modify", run, options, verbosity)

    async def system_batch_cancel(
        self, ctx: Context, requests: CancelRequests = None, filters: Filters | None = None,
        mode: ModeArg = "best_effort", dry_run: DryRunArg = False, idempotency_key: KeyArg = None,
        confirmation_token: TokenArg = None, verbosity: VerbosityArg = "summary", ar: ArabicArg = False,
    ) -> BatchResult:
        """Cancel (soft delete) reservations: explicit requests, or every upcoming reservation the
        filters match, e.g. {"start_date": "2026-12-20", "end_date": "2026-12-31"} for a vacation.
        Past reservations cannot be cancelled. Undo with system_undo_batch.
        Preview with dry_run; on needs_confirmation, follow its next_step."""
        options = _options(mode, dry_run, idempotency_key, confirmation_token, ar)

        async def run(opts: BatchOptions) -> Any:
            return await self.batch.cancel(_plain(requests), _plain(filters), opts, _progress(ctx))
        return await _respond(ctx, "system_batch_cancel", run, options, verbosity)

    async def system_undo_batch(
        self,
        ctx: Context,
        batch_id: Annotated[str, Field(max_length=64, description="The batch_id of an applied batch")],
        confirmation_token: TokenArg = None,
        verbosity: VerbosityArg = "summary",
        ar: ArabicArg = False,
    ) -> BatchResult:
        """Revert an applied batch: moves go back, cancellations are restored, bookings it made are
        cancelled, renames and number changes reverted. It is a batch too: same capacity and
        confirmation, undoable. What the calendar no longer allows is reported as failed."""
        options = _options("best_effort", False, None, confirmation_token, ar)

        async def run(opts: BatchOptions) -> Any:
            return await self.batch.undo(batch_id, opts, _progress(ctx))
        return await _respond(ctx, "system_undo_batch", run, options, verbosity)

    async def system_get_batch(
        self,
        batch_id: Annotated[str, Field(max_length=64, description="The batch_id of an applied batch")],
        offset: Annotated[int, Field(ge=0, description="Items to skip: the offset the previous answer gave")] = 0,
        ar: ArabicArg = False,
    ) -> Annotated[CallToolResult, BatchAnswer]:
        """An applied batch as recorded: counts, the items that did not apply (by reason), then every
        reservation it changed, 100 items per call."""
        data = await self.batch.recorded(batch_id)
        return recorded_answer(data.model_dump(mode="json"), offset, RECORDED_PAGE, ar)


def _options(mode: str, dry_run: bool, key: str | None, token: str | None, ar: bool) -> BatchOptions:
    return BatchOptions.model_validate(
        {"mode": mode, "dry_run": dry_run, "idempotency_key": key, "confirmation_token": token, "ar": ar})


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
    outcome = await run_confirmed(ctx, run, options)
    if isinstance(outcome, InputRequiredResult):
        return outcome
    if isinstance(outcome, Declined):
        data = declined_answer(tool, options.mode, options.ar)
        return answer(data["message"], data)
    return batch_answer(outcome, verbosity, tool)
