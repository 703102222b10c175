"""The system agent's attendance tool: mark bookings confirmed, arrived or no-show, in one undoable batch."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.tools import Tool
from pydantic import Field

from domain.system_agent.batch import BatchOptions, SystemAgentBatchService
from domain.system_agent.marking import MAX_IDS, AttendanceFilters
from domain.system_agent.requests import ReservationId
from mcp_server.batch_tools import (BatchResult, DryRunArg, KeyArg, ModeArg, TokenArg, VerbosityArg, _options,
                                    _progress, _respond)
from mcp_server.clinic_tools import ArabicArg
from mcp_server.toolkit import WRITES, declare

MarkArg = Annotated[Literal["confirmed", "arrived", "no_show"], Field(description="What to mark them")]
IdsArg = Annotated[list[ReservationId] | None, Field(max_length=MAX_IDS, description="Reservations to mark; or filters")]


class AttendanceTools:
    """A thin adapter over `SystemAgentBatchService.mark_attendance`; its answer is a batch's, item by item."""

    def __init__(self, batch: SystemAgentBatchService) -> None:
        self.batch = batch

    def tools(self) -> list[Tool]:
        return [declare(self.system_mark_attendance, title="Mark attendance", annotations=WRITES)]

    async def system_mark_attendance(
        self, ctx: Context, mark: MarkArg, reservation_ids: IdsArg = None, filters: AttendanceFilters | None = None,
        mode: ModeArg = "best_effort", dry_run: DryRunArg = False, idempotency_key: KeyArg = None,
        confirmation_token: TokenArg = None, verbosity: VerbosityArg = "summary", ar: ArabicArg = False,
    ) -> BatchResult:
        """Mark bookings confirmed, arrived or no_show: by reservation_ids, or every booking the filters
        select. "Everyone who didn't come yesterday" is mark no_show with filters {"date": yesterday,
        "attendance": ["booked", "confirmed"]}. Arrived and no_show only once the slot has started;
        confirmed only before it ends; never a cancelled booking. A no-show frees its place; undo
        (system_undo_batch) puts it back only if the slot still has room. Customers are not messaged."""
        options = _options(ctx, mode, dry_run, idempotency_key, confirmation_token, ar)
        chosen = filters.model_dump(exclude_unset=True) if filters is not None else None

        async def run(opts: BatchOptions) -> Any:
            return await self.batch.mark_attendance(mark, reservation_ids, chosen, opts, _progress(ctx))
        return await _respond(ctx, "system_mark_attendance", run, options, verbosity)
