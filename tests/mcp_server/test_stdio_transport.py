"""`calendar-agent mcp` over stdio, as Claude Desktop runs it: a subprocess speaking on stdin/stdout."""

import os
import sys
from pathlib import Path

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from calendar_agent.migrate import upgrade


def command(tmp_path: Path) -> StdioServerParameters:
    """`calendar-agent mcp` over a calendar created as `calendar-agent db upgrade` creates it (`mcp` creates none)."""
    (tmp_path / "var").mkdir(exist_ok=True)
    upgrade(f"sqlite+aiosqlite:///{tmp_path}/var/calendar.db")
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/var/calendar.db", "PATH": os.environ.get("PATH", "")}
    return StdioServerParameters(command=sys.executable, args=["-m", "calendar_agent.cli", "mcp"], env=env,
                                 cwd=tmp_path)


async def test_stdio_serves_the_system_tools_over_a_new_calendar(tmp_path: Path) -> None:
    async with Client(command(tmp_path)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        found = await client.call_tool("system_get_reservations", {})
    assert {"system_batch_modify", "system_undo_batch"} <= names
    assert found.structured_content is not None
    assert found.structured_content["summary"]["total_reservations"] == 0
