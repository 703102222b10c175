"""How a batch runs, as its caller asks: atomic or best effort, a dry run, an idempotency key, a person's yes, who
asks (its signature: `actor` and `role`), in which turn and for what."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.config import BookingSource


# The request a batch serves, as its caller words it: the bridge sends the operator's message it answers under this
# key of a tool call's MCP `_meta`; any client may. Kept, cut to REQUEST_LENGTH characters, with the batch.
REQUEST_META = "calendar-agent/request"
REQUEST_LENGTH = 300


class BatchOptions(BaseModel):
    """How a batch runs. `confirmed` is set only by an adapter after the user said yes."""

    model_config = ConfigDict(frozen=True)

    mode: Literal["best_effort", "atomic"] = "best_effort"
    dry_run: bool = False
    idempotency_key: str | None = None
    confirmation_token: str | None = None
    confirmed: bool = False
    actor: str = Field(default="system_agent", max_length=100)  # who signs it (`domain.staff.roles.author_of`)
    role: str | None = None  # the role of the person behind the actor, when there is one
    source: BookingSource = BookingSource.AGENT
    max_reservations: int | None = None
    ar: bool = False
    notify: bool = False  # tell each customer whose booking the batch moves, cancels or makes (`domain.notices.outbox`)
    turn: str | None = Field(default=None, max_length=64)  # the caller's turn (MCP session): its effects add up
    request: str | None = None  # what the batch was asked for, in words: one line, at most REQUEST_LENGTH

    @field_validator("request", mode="before")
    @classmethod
    def _one_line(cls, said: object) -> str | None:
        """The caller's words on one line, cut to `REQUEST_LENGTH` characters; anything but text is no request."""
        if not isinstance(said, str):
            return None
        line = " ".join(said.split())
        return line[:REQUEST_LENGTH - 1] + "…" if len(line) > REQUEST_LENGTH else line or None
