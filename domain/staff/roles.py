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


@dataclass(frozen=True)
class Signature:
    """How a change is signed: its `actor` (see the module's docstring; `customer:<wa_id>` for a customer's own,
    `system` for what the service does on its own) and the role of the person behind it, when there is one."""

    actor: str
    role: Role | None = None


SYSTEM = Signature("system")  # the automatic no-show


def customer_signature(wa_id: str) -> Signature:
    """A customer's own change: through their assistant, or a button they pressed."""
    return Signature(f"customer:{wa_id}")


def author_of(actor: str) -> tuple[str, str | None]:
    """Who signed a change, as (kind, name): an `operator` in person, the `agent` for a person, an OAuth `client`
    for one, a `customer` (by wa_id), or the `system`; the name is None where no account was behind it (the
    single-token modes, the records of before accounts)."""
    kind, _, name = actor.partition(":")
    if kind == "mcp":
        return "client", name.partition("@")[0] or None
    if kind in ("operator", "agent", "customer"):
        return kind, name or None
    return ("system", None) if actor == SYSTEM.actor else ("agent", None)  # system_agent, and older records


def signed(principal: Principal, actor: str) -> Signature:
    """`actor` (the principal's own, or its agent's) with the principal's role when an account is behind it."""
    return Signature(actor, principal.role if principal.via == "staff" else None)


# Closing and reopening days are an admin's; `more_tools` runs another tool by name, which is checked in its turn.
ADMIN_TOOLS = frozenset({"system_close_days", "system_reopen_days"})
TOOL_GATEWAY = "more_tools"


def may_use_tool(principal: Principal, name: str, read_only: bool) -> bool:
    """Whether `principal` gets the tool `name`: a read-only tool always; a write when they may write; a closure
    when they are also an admin. The one rule of the MCP server and of the agent's loop."""
    if name == TOOL_GATEWAY or read_only:
        return True
    return principal.writes and (name not in ADMIN_TOOLS or principal.may(Role.ADMIN))
