"""Which tools the loop gives the model for the person a turn acts for, and which calls it refuses without sending.

The in-process server already lists and refuses by that person (`ACTING_FOR`); a remote one
(`SYSTEM_AGENT_MCP_URL`) cannot know them, so the loop applies the same rule itself: a viewer's agent is read-only
in both modes, by the one rule both apply (`domain.staff.roles.may_use_tool`)."""

from __future__ import annotations

from collections.abc import Sequence

from mcp.types import Tool, ToolAnnotations

from chat_bridge.agent.messages import ToolCall
from chat_bridge.agent.model_tools import MORE_TOOLS
from domain.staff.roles import Principal, Role, may_use_tool


def reaches(principal: Principal, name: str, annotations: ToolAnnotations | None) -> bool:
    """Whether `principal` gets the tool `name`, by its annotations (`domain.staff.roles.may_use_tool`)."""
    return may_use_tool(principal, name, bool(annotations is not None and annotations.read_only_hint))


class ToolReach:
    """A turn's tools as its person may use them. `remote`: the server cannot check the person itself, so a
    toolset's tool run through `more_tools` (whose annotations the loop never sees) is checked here, as a write."""

    def __init__(self, principal: Principal | None, tools: Sequence[Tool], *, remote: bool = False) -> None:
        self.principal = principal
        self.remote = remote
        self.listed = {tool.name: tool for tool in tools}
        self.given = [tool for tool in tools if principal is None or reaches(principal, tool.name, tool.annotations)]
        self.names = {tool.name for tool in self.given}

    def refusal(self, call: ToolCall) -> str | None:
        """Why `call` is not sent to the server, as the model reads it; None when it may be."""
        if call.name not in self.names:
            return self._unknown(call.name) if call.name not in self.listed else self._beyond(call.name)
        inner = call.arguments.get("tool") if call.name == MORE_TOOLS else None
        if not self.remote or self.principal is None or not isinstance(inner, str) or not inner:
            return None
        known = self.listed.get(inner)
        if reaches(self.principal, inner, known.annotations if known is not None else None):
            return None
        return self._beyond(inner)

    def _unknown(self, name: str) -> str:
        available = ", ".join(sorted(self.names))
        return f"There is no tool named {name!r}{self._for_whom()}. Available: {available}."

    def _for_whom(self) -> str:
        person = self.principal
        if person is None or person.may(Role.ADMIN):
            return ""
        return f" for {person.name}, {a_role(person.role)}{'' if person.writes else READS_ONLY}"

    def _beyond(self, name: str) -> str:
        person = self.principal
        assert person is not None  # without a person every listed tool is given
        if not person.writes:
            return (f"{name} may change the calendar, and {person.name} is {a_role(person.role)}{READS_ONLY}. "
                    "Nothing was run.")
        return f"{name} is an admin's tool, and {person.name} is {a_role(person.role)}. Nothing was run."


READS_ONLY = ", who reads the calendar but does not change it"


def a_role(role: Role) -> str:
    """'a viewer', 'an operator', 'an admin'."""
    return f"{'an' if role[:1] in 'aeiou' else 'a'} {role}"
