"""`calendar-agent users` in a subprocess on a fresh SQLite file: the first admin of a new install, who then signs in
to the console of the service `serve` builds; list, disable, passwd and role; bad input exits 1 with a sentence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx2

from calendar_agent.bootstrap.serve import build_service_app
from tests.fakes.graph_api import FakeGraphApi, bridge_settings, graph_api  # noqa: F401
from tests.fakes.loopback import serve_on_loopback

PASSWORD = "correct horse battery"


def users(tmp_path: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    """`calendar-agent users <args>` on the calendar in `tmp_path`, `password` on its standard input."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/var/clinic.db", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "calendar_agent.cli", "users", *args], cwd=tmp_path, env=env,
                          input=None if password is None else password + "\n", capture_output=True, text=True,
                          timeout=120, check=False)


def listed(tmp_path: Path) -> list[dict[str, Any]]:
    result = users(tmp_path, "list", "--json")
    assert result.returncode == 0, result.stderr
    accounts: list[dict[str, Any]] = json.loads(result.stdout)
    return accounts


async def signs_in(tmp_path: Path, graph: FakeGraphApi, username: str, password: str) -> int:
    """The status of `POST /session` on the service as `serve` builds it over the calendar in `tmp_path`."""
    settings = bridge_settings(graph, database_url=f"sqlite+aiosqlite:///{tmp_path}/var/clinic.db")
    async with serve_on_loopback(build_service_app(settings)) as url, httpx2.AsyncClient(base_url=url) as http:
        return (await http.post("/session", json={"username": username, "password": password})).status_code


async def test_the_first_admin_of_a_fresh_install_signs_in_to_the_console(
        tmp_path: Path, graph_api: FakeGraphApi) -> None:  # noqa: F811
    added = users(tmp_path, "add", "amal", "--role", "admin", "--display-name", "Amal", "--password-stdin",
                  password=PASSWORD)
    assert added.returncode == 0, added.stderr
    [account] = listed(tmp_path)
    assert "amal (admin)" in added.stderr
    assert {k: v for k, v in account.items() if k != "created_at"} == {
        "username": "amal", "display_name": "Amal", "role": "admin", "disabled": False}
    assert await signs_in(tmp_path, graph_api, "amal", PASSWORD) == 200


async def test_disable_passwd_and_role_change_the_account(tmp_path: Path, graph_api: FakeGraphApi) -> None:  # noqa: F811
    users(tmp_path, "add", "omar", "--role", "operator", "--password-stdin", password=PASSWORD)
    users(tmp_path, "add", "amal", "--role", "admin", "--password-stdin", password=PASSWORD)
    disabled = users(tmp_path, "disable", "omar")
    refused = await signs_in(tmp_path, graph_api, "omar", PASSWORD)
    users(tmp_path, "enable", "omar")
    passwd = users(tmp_path, "passwd", "omar", "--password-stdin", password="a brand new password")
    role = users(tmp_path, "role", "omar", "viewer")
    assert [r.returncode for r in (disabled, passwd, role)] == [0, 0, 0]
    assert refused == 422
    assert await signs_in(tmp_path, graph_api, "omar", PASSWORD) == 422
    assert await signs_in(tmp_path, graph_api, "omar", "a brand new password") == 200
    assert [(a["username"], a["role"], a["disabled"]) for a in listed(tmp_path)] == [
        ("amal", "admin", False), ("omar", "viewer", False)]
    plain = users(tmp_path, "list")
    assert plain.stdout.splitlines() == ["amal\tadmin\tenabled\tamal", "omar\tviewer\tenabled\tomar"]


def test_bad_input_exits_1_with_a_sentence_and_changes_nothing(tmp_path: Path) -> None:
    users(tmp_path, "add", "amal", "--role", "admin", "--password-stdin", password=PASSWORD)
    attempts = {
        "weak": users(tmp_path, "add", "sara", "--role", "viewer", "--password-stdin", password="short"),
        "name": users(tmp_path, "add", "no spaces", "--role", "viewer", "--password-stdin", password=PASSWORD),
        "twice": users(tmp_path, "add", "amal", "--role", "viewer", "--password-stdin", password=PASSWORD),
        "unknown": users(tmp_path, "disable", "nobody"),
    }
    assert {name: result.returncode for name, result in attempts.items()} == dict.fromkeys(attempts, 1)
    assert "A password must be 10 to 1024 characters long." in attempts["weak"].stderr
    assert "The username 'no spaces' is not valid" in attempts["name"].stderr
    assert "A staff account named 'amal' exists already." in attempts["twice"].stderr
    assert "No staff account is named 'nobody'." in attempts["unknown"].stderr
    assert [a["username"] for a in listed(tmp_path)] == ["amal"]


def test_an_unknown_role_is_refused_by_the_command_line_itself(tmp_path: Path) -> None:
    result = users(tmp_path, "add", "sara", "--role", "owner", "--password-stdin", password=PASSWORD)
    assert result.returncode == 2 and "invalid choice: 'owner'" in result.stderr
