"""Roles, the OAuth scopes of `/mcp`, and the principal a request or a tool call acts as.

A viewer reads; an operator also books, runs batches and messages customers; an admin also closes days, manages
the settings and the staff accounts. A change is signed by its principal's `actor`: `operator:<username>` for a
person in the console, `agent:<username>` for the agent answering that person, `mcp:<username>@<client>` for an
OAuth client acting for them; the single-token modes sign as `operator` and `system_agent`, as before accounts."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
READ_SCOPE = "calendar.read"
WRITE_SCOPE = "calendar.write"
SCOPES = (READ_SCOPE, WRITE_SCOPE)


def may(role: Role, needed: Role) -> bool:
    """Whether `role` is at least `needed`."""
    return RANK[role] >= RANK[needed]


def scopes_for(role: Role) -> tuple[str, ...]:
    """The scopes a staff member of `role` may grant a client: a viewer's clients only read."""
    return SCOPES if may(role, Role.OPERATOR) else (READ_SCOPE,)


@dataclass(frozen=True)
class Principal:
    """Who acts: `name` (a username, or the mode's name without accounts), their `role`, and how they came in
    (`staff`: a signed-in account; `token`: OPERATOR_TOKEN or MCP_AUTH_TOKEN; `local`: this machine without a
    token, where no account exists). `scopes` bound what an OAuth client may do beyond the role."""

    name: str
    role: Role
    via: str = "staff"
    scopes: tuple[str, ...] = SCOPES
    client: str | None = None  # the OAuth client acting for the person

    @property
    def actor(self) -> str:
        """How a change made by this principal in person is signed."""
        if self.client is not None:
            return f"mcp:{self.name}@{self.client}"[:64]
        return f"operator:{self.name}" if self.via == "staff" else "operator"

    @property
    def agent_actor(self) -> str:
        """How a change the agent makes on this principal's request is signed."""
        return f"agent:{self.name}" if self.via == "staff" else "system_agent"

    def may(self, needed: Role) -> bool:
        return may(self.role, needed)

    @property
    def writes(self) -> bool:
        """Whether this principal may change the calendar (role and scopes)."""
        return self.may(Role.OPERATOR) and WRITE_SCOPE in self.scopes


# Who the code running now acts for, set by the bridge around an agent's turn (in this process only: a remote
# MCP client cannot set it) and read by the MCP tools.
ACTING_FOR: ContextVar[Principal | None] = ContextVar("acting_for", default=None)
# The single-token and local modes' principal: one person, who may do everything.
SOLE_OPERATOR = Principal("operator", Role.ADMIN, via="token")
