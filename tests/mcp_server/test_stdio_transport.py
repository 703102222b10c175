"""`calendar-agent mcp` over stdio, as Claude Desktop runs it: a subprocess speaking on stdin/stdout."""

import os
import sys
from pathlib import Path

from mcp import Client
from mcp.client.stdio import StdioServerParameters


def command(tmp_path: Path) -> StdioServerParameters:
    (tmp_path / "var").mkdir(exist_ok=True)  # a new calendar in an existing folder; a missing one is refused
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/var/calendar.db", "PATH": os.environ.get("PATH", "")}
    return StdioServerParameters(command=sys.executable, args=["-m", "calendar_agent.cli", "mcp"], env=env,
                                 cwd=tmp_path)


async def test_stdio_serves_the_system_tools_over_a_fresh_database(tmp_path: Path) -> None:
    async with Client(command(tmp_path)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        found = await client.call_tool("system_get_reservations", {})
    assert {"system_batch_modify", "system_undo_batch"} <= names
    assert found.structured_content is not None
    assert found.structured_content["summary"]["total_reservations"] == 0
    assert (tmp_path / "var" / "calendar.db").exists()
