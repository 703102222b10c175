"""How `calendar-agent mcp` decides where it may listen and which Host/Origin values it accepts."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from calendar_agent.network import allowed_for, is_loopback_host, sdk_origins
from mcp_server.http import LOOPBACK_HOSTS
from calendar_agent.settings import load_settings
from calendar_agent.bootstrap.mcp import run_mcp
from calendar_agent.migrate import upgrade
from tests.calendar_agent.test_crash_recovery import free_port, wait_for


def test_listening_beyond_loopback_without_a_token_is_refused() -> None:
    with pytest.raises(SystemExit, match="refusing to listen on 0.0.0.0 without MCP_AUTH_TOKEN"):
        run_mcp(load_settings(mcp_auth_token=""), http=True, host="0.0.0.0", port=0)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"])
def test_loopback_addresses_are_recognised(host: str) -> None:
    assert is_loopback_host(host)


def test_a_named_address_is_accepted_as_host_besides_loopback_and_origins_only_as_configured() -> None:
    hosts, origins = allowed_for("10.0.0.7", configured_origins="https://clinic.example, http://10.0.0.8:81/")
    assert {"10.0.0.7:*", "127.0.0.1:*"} <= set(hosts)
    assert origins == ["https://clinic.example", "http://10.0.0.8:81"]
    assert {"https://10.0.0.7:*", "http://127.0.0.1:*", "https://clinic.example"} <= set(sdk_origins(hosts, origins))


def test_loopback_accepts_only_loopback_names_and_no_other_origin() -> None:
    assert allowed_for("127.0.0.1") == (list(LOOPBACK_HOSTS), [])


LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}}
HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28",
           "Mcp-Method": "tools/list"}


@pytest.fixture
def mcp_http(tmp_path: Path) -> Iterator[str]:
    """`calendar-agent mcp --http` on loopback without MCP_AUTH_TOKEN, over a calendar created beforehand."""
    database = f"sqlite+aiosqlite:///{tmp_path}/calendar.db"
    upgrade(database)
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "DATABASE_URL": database}
    process = subprocess.Popen([sys.executable, "-m", "calendar_agent.cli", "mcp", "--http", "--port", str(port)],
                               cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        wait_for(lambda: answers(url))
        yield url
    finally:
        process.terminate()
        process.wait(30)


def answers(url: str) -> bool:
    try:
        return httpx2.post(url, json=LIST, headers=HEADERS, timeout=1).status_code == 200
    except httpx2.TransportError:
        return False


def test_the_mcp_command_refuses_other_pages_and_proxied_callers_and_serves_this_machine(mcp_http: str) -> None:
    other_page = httpx2.post(mcp_http, json=LIST, headers=HEADERS | {"Origin": "http://localhost:9999"}, timeout=10)
    proxied = httpx2.post(mcp_http, json=LIST, headers=HEADERS | {"X-Forwarded-For": "203.0.113.9"}, timeout=10)
    local = httpx2.post(mcp_http, json=LIST, headers=HEADERS, timeout=10)
    assert (other_page.status_code, other_page.json()["error"]["code"]) == (403, "invalid_origin")
    assert (proxied.status_code, proxied.json()["error"]["code"]) == (401, "unauthorized")
    assert local.status_code == 200 and "system_batch_cancel" in local.text
