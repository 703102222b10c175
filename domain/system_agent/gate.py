"""Whether a planned batch is written: its status (nothing matched, rolled back, a dry run, every item failed), and
a person's yes when its effects pass the limits or its targets were guessed by a search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import local_iso
from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.rules.planning import RuleContext
from domain.system_agent.cards import SHOWN, Card, CardPerson, Confirmation, FailingPerson
from domain.system_agent.confirmation import ConfirmationTokens, fingerprint
from domain.staff.roles import author_of
from domain.system_agent.effects import (EffectLimits, Effects, Overrun, Spent, active_counts, added_by_day,
                                         effects_of, overruns, spent)
from domain.system_agent.options import BatchOptions
from domain.system_agent.planners import Plan
from domain.system_agent.report import BatchReport, ItemResult


@dataclass(frozen=True)
class Budget:
    """A plan's effects, what its caller spent before it, and the limits it would pass (`effects`)."""

    effects: Effects
    spent: Spent
    over: list[Overrun]


class BatchGate:
    """Settles a planned batch: written, given back with its status, or held for a person's yes."""

    def __init__(self, config: ClinicConfig, limits: EffectLimits) -> None:
        self.config, self.limits = config, limits

    async def budget(self, session: AsyncSession, plan: Plan, options: BatchOptions, now: datetime) -> Budget:
        """The plan's effects, what its caller applied without asking before it, and the limits it would pass.
        A person's own act from the console (signed `operator` or `operator:<username>`) is counted alone: they are
        asked about one large act, and what they did before is their own doing, not an agent's to add up. Any other
        caller's acts add up per actor: the agent for each person, each person's client, the system agent."""
        closing = any(c.action == "closed" for c in plan.closures)
        days = sum((c.end - c.start).days + 1 for c in plan.closures if c.action == "closed")
        free = plan.notices if plan.message is not None else 0
        effects = effects_of(plan.changes, len(plan.edits), plan.notices, free, days, closing)
        nothing = Spent(Effects(), Effects())
        if not effects:
            return Budget(effects, nothing, [])
        alone = author_of(options.actor)[0] == "operator" or not self.limits.add_up
        already = nothing if alone else await spent(session, options.actor, options.turn, now, self.limits.window)
        counts = await active_counts(session, effects.removed)
        added = added_by_day(plan.changes)
        left = {day: counts.get(day, 0) - n + added[day] for day, n in effects.removed.items()}
        return Budget(effects, already, overruns(self.limits, effects, already, left))

    def settle(self, plan: Plan, options: BatchOptions, tool: str, arguments: dict[str, Any],
                ctx: RuleContext, tokens: ConfirmationTokens, budget: Budget | None) -> bool:
        """Decide the report's status; True when the plan should be written."""
        report = plan.report
        if not report.items and not plan.closures:
            report.status = "nothing_matched"  # no batch to record, nor to undo
            return False
        if options.mode == "atomic" and report.counts()["failed"]:
            for item in report.items:
                if item.status == "ok":
                    item.status, item.error = "skipped", DomainError("atomic_rolled_back")
            report.status = "rolled_back"
            return False
        if options.dry_run:
            report.status = "dry_run"
            return False
        if report.items and not report.counts()["ok"] and not plan.closures:
            report.status = "failed"  # every item failed: nothing to write, record or undo
            return False
        assert budget is not None  # only a dry run has none, and it is settled above
        return self._confirmed(plan, options, tool, arguments, ctx, tokens, budget)

    def _confirmed(self, plan: Plan, options: BatchOptions, tool: str, arguments: dict[str, Any],
                   ctx: RuleContext, tokens: ConfirmationTokens, budget: Budget) -> bool:
        # Targets found by a fuzzy search_query are asked about whatever their number: a loose query
        # ("a", a common first name) can reach people nobody meant. So is undoing a batch that notified
        # customers: whether to tell them again is the user's call.
        guessed = (plan.report.matched is not None or plan.report.hint is not None) and bool(budget.effects)
        if options.confirmed or (not budget.over and not guessed):
            return True
        change = fingerprint(tool, arguments, [(c.after.id, c.after.slot, c.after.type, c.after.status)
                                               for c in plan.changes])
        if options.confirmation_token:
            plan.redeemed = (*tokens.check(options.confirmation_token, change, ctx.now), ctx.now)
            return True
        token, expires = tokens.issue(change, ctx.now)
        plan.report.status = "needs_confirmation"
        plan.report.confirmation = Confirmation(
            token=token, expires_at=local_iso(self.config, expires) or "", limits=self.limits.describe(),
            preview=card(plan.report, budget.effects, budget.spent, budget.over, self.limits, plan.notified_before),
            instructions="Show this preview to the user and wait for their answer. Only if they confirm, call "
                         "the same tool again with the same arguments and this confirmation_token.")
        return False


def card(report: BatchReport, effects: Effects, spent: Spent, over: list[Overrun], limits: EffectLimits,
         notified_before: int) -> Card:
    """The card of a batch that asks (`Confirmation.preview`)."""
    summary = report.summary()
    changed = report.changed_items() if report.tool != "system_message_customers" else []
    failing = [i for i in report.items if i.status == "failed"]
    return Card(
        reservations=effects.bookings, days=summary["days"], actions=summary["by_action"],
        failed=summary["failed"], failures=summary["by_error"],
        affected=[CardPerson(**_person(report, item)) for item in changed[:SHOWN]],
        affected_more=max(0, len(changed) - SHOWN),
        failing=[FailingPerson(**_person(report, item), error=item.error.code if item.error else None,
                               reason=item.error.message(report.ar) if item.error else None)
                 for item in failing[:SHOWN]],
        failing_more=max(0, len(failing) - SHOWN),
        effects=effects.to_json(), so_far=spent.to_json(),
        asks_because=[o.to_json() for o in over], window_minutes=int(limits.window.total_seconds() // 60),
        notices=report.notices, matched_customers=report.matched, notified_before=notified_before or None,
        closures=report.closures or None)


def _person(report: BatchReport, item: ItemResult) -> dict[str, Any]:
    """One affected customer: who, and what happens to their booking (from and to, as day and time)."""
    before, after = item.before, item.after
    moved_from = f"{before.date.isoformat()} {before.time_slot}" if before is not None else None
    moved_to = f"{after.date.isoformat()} {after.time_slot}" if after is not None and after.status == "active" else None
    return {"index": item.index, "wa_id": item.wa_id, "name": report.names.get(item.wa_id or ""), "action": item.action,
            "reservation_id": item.reservation_id, "from": moved_from, "to": moved_to}
