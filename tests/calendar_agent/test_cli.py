"""The command line: migrations and the demo seed on a fresh SQLite file."""

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(tmp_path: Path, *args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/var/demo.db", "PATH": "/usr/bin:/bin", **(extra or {})}
    return subprocess.run([sys.executable, "-m", "calendar_agent.cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_seed_demo_fills_a_fresh_database_once(tmp_path: Path) -> None:
    first = run(tmp_path, "seed-demo", "--customers", "120", "--days", "30")
    second = run(tmp_path, "seed-demo")
    assert first.returncode == 0, first.stderr
    created = json.loads(first.stdout)
    assert created["customers"] == 120 and created["reservations"] > 60
    assert json.loads(second.stdout) == {"customers": 0, "reservations": 0}


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    result = run(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "demo.db").stat().st_size > 0


@pytest.mark.parametrize("bad", ["HOURS_SATURDAY=late"])
def test_a_bad_setting_stops_the_command_with_its_name(tmp_path: Path, bad: str) -> None:
    (tmp_path / ".env").write_text(bad + "\n")
    result = run(tmp_path, "db", "upgrade")
    assert result.returncode == 2
    assert "HOURS_SATURDAY" in result.stderr


def test_the_settings_file_is_found_by_option_or_variable_whatever_the_working_directory(tmp_path: Path) -> None:
    settings = tmp_path / "clinic" / "calendar.env"
    settings.parent.mkdir()
    settings.write_text("HOURS_SATURDAY=late\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    by_option = run(elsewhere, "--env-file", str(settings), "db", "upgrade")
    by_variable = run(elsewhere, "db", "upgrade", extra={"CALENDAR_AGENT_ENV_FILE": str(settings)})
    for result in (by_option, by_variable):
        assert result.returncode == 2 and "HOURS_SATURDAY" in result.stderr


def test_a_missing_settings_file_is_an_error_naming_the_variable(tmp_path: Path) -> None:
    result = run(tmp_path, "db", "upgrade", extra={"CALENDAR_AGENT_ENV_FILE": str(tmp_path / "nope.env")})
    assert result.returncode == 2 and "CALENDAR_AGENT_ENV_FILE" in result.stderr and "nope.env" in result.stderr


def test_the_start_says_which_settings_file_and_database_are_used(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TIMEZONE=Asia/Riyadh\n")
    result = run(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert f"settings from {tmp_path.resolve() / '.env'}; database sqlite+aiosqlite:///{tmp_path}/var/demo.db" in (
        result.stderr)


def test_the_mcp_server_refuses_a_database_folder_that_does_not_exist(tmp_path: Path) -> None:
    result = run(tmp_path, "mcp", extra={"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/typo/calendar.db"})
    assert result.returncode == 2
    assert "Invalid setting DATABASE_URL" in result.stderr and f"{tmp_path}/typo does not exist" in result.stderr
    assert not (tmp_path / "typo").exists()


def test_a_public_serve_with_the_operator_token_but_no_mcp_token_does_not_start(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", "--host", "0.0.0.0", "--port", "0", extra={"OPERATOR_TOKEN": "operator-secret"})
    assert result.returncode == 2
    [error] = [line for line in result.stderr.splitlines() if "settings from" not in line]
    assert error.startswith("calendar-agent: Invalid setting MCP_AUTH_TOKEN: it must be set when the service")
    assert not (tmp_path / "var").exists()  # refused before the database was touched
