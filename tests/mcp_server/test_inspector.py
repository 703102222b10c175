"""The MCP Inspector's command line against our streamable HTTP server, as an operator testing tools would use it."""

import json
from typing import Any

from mcp.server import MCPServer

from domain.services import Services
from mcp_scenario import SLOTS, WEDNESDAY, wa_id
from tests.fakes.loopback import serve_on_loopback
from mcp_server.http import build_mcp_http_app
from npm_tools import INSPECTOR, run_npm_program

TOKEN = "inspector-token"


async def inspect(url: str, *arguments: str) -> dict[str, Any]:
    """One Inspector CLI call over streamable HTTP with the bearer token; its JSON output."""
    code, out, err = await run_npm_program(INSPECTOR, "--cli", f"{url}/mcp", "--transport", "http",
                                           "--header", f"Authorization: Bearer {TOKEN}", *arguments)
    assert code == 0, out + err
    answer: dict[str, Any] = json.loads(out)
    return answer


async def test_the_inspector_lists_every_system_tool_with_its_schemas(transport_server: MCPServer) -> None:
    async with serve_on_loopback(build_mcp_http_app(transport_server, auth_token=TOKEN)) as url:
        listed = await inspect(url, "--method", "tools/list")
    tools = {tool["name"]: tool for tool in listed["tools"]}
    assert {"system_get_reservations", "system_batch_modify", "system_undo_batch"} <= set(tools)
    assert all("outputSchema" in tool and "$defs" not in json.dumps(tool["inputSchema"]) for tool in tools.values())


async def test_the_inspector_calls_a_tool_and_reads_its_structured_answer(
    transport_server: MCPServer, sqlite_services: Services
) -> None:
    for n, slot in enumerate(SLOTS):
        await sqlite_services.reservations.reserve(wa_id(n), WEDNESDAY, slot)
    async with serve_on_loopback(build_mcp_http_app(transport_server, auth_token=TOKEN)) as url:
        called = await inspect(url, "--method", "tools/call", "--tool-name", "system_get_reservations",
                               "--tool-arg", f'dates=["{WEDNESDAY}"]', "--tool-arg", 'include=["reservations"]')
    assert called["structuredContent"]["summary"]["total_reservations"] == 3
    assert called["content"][0]["text"].startswith("3 reservation(s)")


async def test_the_inspector_without_the_token_is_told_to_authenticate(transport_server: MCPServer) -> None:
    async with serve_on_loopback(build_mcp_http_app(transport_server, auth_token=TOKEN)) as url:
        code, out, err = await run_npm_program(INSPECTOR, "--cli", f"{url}/mcp", "--transport", "http",
                                               "--method", "tools/list", "--stored-auth-only")
    assert code != 0
    assert '"code":"auth_required"' in out + err, out + err
