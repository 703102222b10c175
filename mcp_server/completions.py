"""`completion/complete` for the prompts' and resource templates' arguments: open days for a date, the day's
slots for a time, customers' numbers for a wa_id and their names for a customer."""

from __future__ import annotations

from datetime import date, timedelta

from mcp.server import MCPServer
from mcp_types import Completion, CompletionArgument, CompletionContext, PromptReference, ResourceTemplateReference

from domain.errors import DomainError
from domain.search.service import CustomerHit
from domain.rules.schedule import clinic_today, open_slots, parse_date, slot_label, slots_for
from domain.services import Services
from domain.storage.store import load_vacations

MAX_VALUES = 100  # the most values one completion may carry (MCP)
DAYS_AHEAD = 90  # open days offered for a date
DATE_ARGUMENTS = frozenset({"date", "from_date", "to_date", "start_date", "end_date"})
TIME_ARGUMENTS = frozenset({"time_slot", "time"})
CUSTOMER_ARGUMENTS = frozenset({"customer", "customer_name", "who"})
MAX_TYPED = 100  # characters of a typed value looked at


class Completions:
    """Suggestions for an argument by its name, whichever prompt or template it belongs to."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, ref: PromptReference | ResourceTemplateReference, argument: CompletionArgument,
                       context: CompletionContext | None) -> Completion | None:
        typed, known = argument.value[:MAX_TYPED].strip(), (context.arguments if context else None) or {}
        if argument.name in DATE_ARGUMENTS:
            return listed(await self.open_days(typed))
        if argument.name in TIME_ARGUMENTS:
            return listed(await self.times(typed, known.get("date")))
        if argument.name == "wa_id":
            return listed([h.wa_id for h in await self._hits(typed)] if typed else [])
        if argument.name in CUSTOMER_ARGUMENTS:
            return listed(list(dict.fromkeys(h.name for h in await self._hits(typed) if h.name)) if typed else [])
        return None

    async def open_days(self, typed: str) -> list[str]:
        """The open days from today on (DAYS_AHEAD of them) whose ISO date starts with what was typed."""
        config, now = self.services.config, self.services.clock()
        async with self.services.db.reading() as session:
            vacations = await load_vacations(session)
        today = clinic_today(config, now)
        days = (today + timedelta(days=n) for n in range(DAYS_AHEAD))
        return [d.isoformat() for d in days if d.isoformat().startswith(typed) and open_slots(config, d, vacations, now)]

    async def times(self, typed: str, day: str | None) -> list[str]:
        """The slots of the chosen day (every configured slot time without one) matching what was typed, as
        24-hour or 12-hour time."""
        slots = sorted(set(self._slots(day)))
        wanted = typed.lower()
        return [s for s in slots if s.startswith(wanted) or slot_label(s).lower().startswith(wanted)]

    def _slots(self, day: str | None) -> list[str]:
        config = self.services.config
        try:
            chosen: date | None = parse_date(day) if day else None
        except DomainError:
            chosen = None
        if chosen is not None:
            return slots_for(config, chosen)
        week = clinic_today(config, self.services.clock())
        return [s for n in range(7) for s in slots_for(config, week + timedelta(days=n))]

    async def _hits(self, typed: str) -> list[CustomerHit]:
        try:
            return await self.services.search.search(typed, limit=MAX_VALUES)
        except DomainError:
            return []


def listed(values: list[str]) -> Completion:
    return Completion(values=values[:MAX_VALUES], total=len(values), has_more=len(values) > MAX_VALUES)


def add_completions(server: MCPServer, services: Services) -> None:
    server.completion()(Completions(services))  # type: ignore[no-untyped-call]  # the SDK leaves it untyped
