"""What a person is shown before a batch that needs their yes: a card they can decide on, and the confirmation that
carries it.

Who is affected (names and numbers, the first `SHOWN` and how many more), what each change does, the exact
text customers would get, who is left out of it and why, which items would fail and why, whose bookings a
search chose, what the caller already applied without asking and which limit this call would pass. Facts only:
nothing in a card is addressed to a model. One declared shape for the question the MCP server asks (in its `_meta`), the
batch answer, the bridge and the console's confirmation card (`chat_bridge/static/conversation.js`).
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import ConfigDict, Field

from domain.views import View

SHOWN = 10  # people a card names; the rest are counted
# Where the card travels with the question: a key of the elicitation request's `_meta` (MCP's place for
# data beside the protocol's own), read by the bridge and shown by the console.
CARD_META_KEY: Final = "clinic.calendar/card"


def _absent_when_none(value: object) -> bool:
    return value is None


class CardPerson(View):
    """One affected customer: who, and what happens to their booking (from and to, as day and time)."""

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    index: int
    wa_id: str | None
    name: str | None
    action: str | None
    reservation_id: int | None
    moved_from: str | None = Field(alias="from", description="day and time before, 'YYYY-MM-DD HH:MM'")
    moved_to: str | None = Field(alias="to", description="day and time after; none when cancelled")


class FailingPerson(CardPerson):
    """A customer whose item would fail, with the code and its sentence."""

    error: str | None
    reason: str | None


class Card(View):
    """The preview of a batch that asks: its counts, the people it affects and fails, why it asks, what was applied
    before it without asking, and (when there are any) whom it tells and how, whom a search chose, the customers a
    batch being undone had told, and the closures it makes or removes."""

    reservations: int
    days: dict[str, int]
    actions: dict[str, int]
    failed: int
    failures: dict[str, int]
    affected: list[CardPerson]
    affected_more: int
    failing: list[FailingPerson]
    failing_more: int
    effects: dict[str, Any]
    so_far: dict[str, Any]
    asks_because: list[dict[str, Any]]
    window_minutes: int
    notices: dict[str, Any] | None = Field(default=None, exclude_if=_absent_when_none)
    matched_customers: list[dict[str, Any]] | None = Field(default=None, exclude_if=_absent_when_none)
    notified_before: int | None = Field(default=None, exclude_if=_absent_when_none)
    closures: list[dict[str, Any]] | None = Field(default=None, exclude_if=_absent_when_none)


class Confirmation(View):
    """What a batch that asks answers with: the one-time token of the exact change, when it expires, the limits,
    the card to show and what to do with it."""

    token: str
    expires_at: str
    limits: str = Field(description="the limits in force, as EFFECT_LIMITS writes them")
    preview: Card
    instructions: str


__all__ = ["SHOWN", "Card", "CardPerson", "Confirmation", "FailingPerson"]
