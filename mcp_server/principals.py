"""Who an MCP call acts for, and which tools that principal gets.

In order: the person the bridge's agent is answering (`domain.staff.roles.ACTING_FOR`, set in this process around
the agent's turn, out of any remote client's reach); the staff member an OAuth access token was granted by (its
`subject`, with their role in its claims and the scopes they approved); else the static `MCP_AUTH_TOKEN` or this
machine, which act as the system agent, as before accounts. A principal who may not write (a viewer, a
`calendar.read` token) is listed the read-only tools only and refused the others by name; the closures are an
admin's."""

from __future__ import annotations

from dataclasses import dataclass

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations

from domain.staff.roles import ACTING_FOR, Principal, Role, may_use_tool

SYSTEM_AGENT = Principal("system_agent", Role.ADMIN, via="token")
ROLE_CLAIM = "role"


@dataclass(frozen=True)
class Caller:
    """The principal a call acts for, and how its changes are signed."""

    principal: Principal
    actor: str


def caller() -> Caller:
    """The principal of the MCP call being handled now."""
    acting = ACTING_FOR.get()
    if acting is not None:
        return Caller(acting, acting.agent_actor)
    token = get_access_token()
    if token is not None and token.subject:
        role = Role(str((token.claims or {}).get(ROLE_CLAIM, Role.VIEWER)))
        person = Principal(token.subject, role, scopes=tuple(token.scopes), client=token.client_id)
        return Caller(person, person.actor)
    return Caller(SYSTEM_AGENT, "system_agent")


def allowed(principal: Principal, name: str, annotations: ToolAnnotations | None) -> bool:
    """Whether `principal` gets the tool `name` (`domain.staff.roles.may_use_tool`), by its annotations."""
    return may_use_tool(principal, name, bool(annotations is not None and annotations.read_only_hint))


def refusal(principal: Principal, name: str) -> ToolError:
    """Why `principal` may not call `name`, as the model or client reads it."""
    if not principal.writes:
        why = ("this client was granted calendar.read only" if principal.client and principal.may(Role.OPERATOR)
               else f"{principal.name} is a {principal.role}, who reads the calendar but does not change it")
        return ToolError(f"{name} changes the calendar, and {why}. Nothing was changed.")
    return ToolError(f"{name} is an admin's tool, and {principal.name} is a {principal.role}. Nothing was changed.")
