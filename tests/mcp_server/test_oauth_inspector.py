"""The MCP Inspector's command line (the TypeScript SDK's OAuth client) against the service as `serve` builds it:
it discovers the authorization server, registers itself, sends the person to the consent page, takes the code at
its own loopback callback, and then calls a tool as that person through that client.

The Inspector asks for a person only when one could be there (a terminal on stdin), and prints the address to
open instead of opening a browser when MCP_AUTO_OPEN_ENABLED is false: the test gives it a pseudo-terminal, reads
the address, and is the person's browser."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select

from domain.services import Services
from domain.storage.models import BatchRecord, OAuthClient
from mcp_scenario import ALICE, WEDNESDAY
from npm_tools import INSPECTOR, node_home, script
from oauth_harness import add_staff, browser, running_service

NAVIGATE = re.compile(rb"Please navigate to: (\S+)")
DEADLINE = 60.0


@pytest.fixture
async def service(sqlite_services: Services) -> AsyncIterator[str]:
    await add_staff(sqlite_services)
    async with running_service(sqlite_services) as url:
        yield url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def inspector(home: Path, url: str, *arguments: str) -> tuple[asyncio.subprocess.Process, int]:
    """The Inspector's CLI on Node 24 with its stores in `home`, a terminal on stdin; and that terminal's fd."""
    terminal, inspectors_end = pty.openpty()
    env = {**os.environ, "HOME": str(home), "MCP_AUTO_OPEN_ENABLED": "false", "MCP_INSPECTOR_SECRET_STORE": "memory",
           "PATH": f"{node_home() / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    process = await asyncio.create_subprocess_exec(
        str(node_home() / "bin" / "node"), str(script(INSPECTOR)), "--cli", f"{url}/mcp", "--transport", "http",
        "--callback-url", f"http://127.0.0.1:{free_port()}/oauth/callback", *arguments,
        stdin=inspectors_end, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    os.close(inspectors_end)
    return process, terminal


async def address_to_open(process: asyncio.subprocess.Process) -> str:
    """The authorization address the Inspector asks the person to open."""
    assert process.stderr is not None
    while line := await process.stderr.readline():
        if found := NAVIGATE.search(line):
            return found.group(1).decode()
    raise AssertionError("the Inspector ended without asking for authorization")


async def test_the_inspector_authorizes_through_the_consent_page_and_books_as_the_person(
        service: str, sqlite_services: Services, tmp_path: Path) -> None:
    process, terminal = await inspector(tmp_path, service, "--method", "tools/call", "--tool-name",
                                        "system_batch_reserve", "--tool-args-json", json.dumps(
                                            {"requests": [{"wa_id": ALICE, "date": WEDNESDAY, "time_slot": "13:00"}]}))
    try:
        authorization = await asyncio.wait_for(address_to_open(process), DEADLINE)
        async with browser(service, "amal") as person:
            view = await person.consent_page(authorization)
            redirect = (await person.answer(view)).json()["redirect"]
        async with httpx2.AsyncClient() as http:
            assert (await http.get(redirect)).status_code == 200  # the Inspector's own callback listener
        out, err = await asyncio.wait_for(process.communicate(), DEADLINE)
    finally:
        os.close(terminal)
    assert process.returncode == 0, out.decode() + err.decode()
    assert view["client_name"] == "MCP Inspector" and view["redirect_host"].startswith("127.0.0.1:")
    assert json.loads(out)["structuredContent"]["summary"]["by_action"] == {"created": 1}
    async with sqlite_services.db.reading() as session:
        client_id = await session.scalar(select(OAuthClient.client_id))
        assert await session.scalar(select(BatchRecord.actor)) == f"mcp:amal@{client_id}"
