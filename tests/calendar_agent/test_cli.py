"""The command line: migrations and the demo seed on a fresh SQLite file."""

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(tmp_path: Path, *args: str, extra: dict[str, str] | None = None,
        database: bool = True) -> subprocess.CompletedProcess[str]:
    """The command in `tmp_path`, on a calendar there unless `database` is false (then DATABASE_URL is unset)."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/var/demo.db", "PATH": "/usr/bin:/bin", **(extra or {})}
    if not database:
        env.pop("DATABASE_URL")
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


def one_error(result: subprocess.CompletedProcess[str]) -> str:
    """The command's only line on stderr besides the banner saying which settings and database it uses."""
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    [error] = [line for line in result.stderr.splitlines() if "settings from" not in line]
    return error


@pytest.mark.parametrize("command", [("mcp",), ("serve", "--port", "0")])
def test_serve_and_mcp_never_create_a_calendar(tmp_path: Path, command: tuple[str, ...]) -> None:
    for typo in (tmp_path / "typo" / "calendar.db", tmp_path / "calendar.db"):
        result = run(tmp_path, *command, extra={"DATABASE_URL": f"sqlite+aiosqlite:///{typo}"})
        assert one_error(result) == (f"calendar-agent: Invalid setting DATABASE_URL: there is no calendar at {typo}; "
                                     "create one with `calendar-agent db upgrade` (or `seed-demo`), or fix the path.")
        assert not typo.exists() and not typo.parent.joinpath("var").exists()


def test_a_client_started_elsewhere_uses_the_calendar_beside_its_settings_file(tmp_path: Path) -> None:
    clinic, elsewhere = tmp_path / "clinic", tmp_path / "elsewhere"
    clinic.mkdir()
    elsewhere.mkdir()
    (clinic / ".env").write_text("DATABASE_URL=sqlite+aiosqlite:///./var/calendar.db\n")
    settings = {"CALENDAR_AGENT_ENV_FILE": str(clinic / ".env")}
    refused = run(elsewhere, "mcp", extra=settings, database=False)
    created = run(elsewhere, "db", "upgrade", extra=settings, database=False)
    assert f"there is no calendar at {clinic}/var/calendar.db" in one_error(refused)
    assert created.returncode == 0, created.stderr
    assert f"database sqlite+aiosqlite:///{clinic}/var/calendar.db" in created.stderr
    assert (clinic / "var" / "calendar.db").exists() and list(elsewhere.iterdir()) == []


BAD_DATABASES = {
    "not a URL": ("no database here", "it is not a database URL; write sqlite+aiosqlite:///path/to/calendar.db or "
                                      "postgresql+asyncpg://user:password@host:5432/database."),
    "unknown driver": ("mysql+nosuch://clinic@127.0.0.1/calendar", "there is no driver 'mysql+nosuch'; use "
                                                                     "sqlite+aiosqlite or postgresql+asyncpg."),
    "not asyncio": ("sqlite:///calendar.db", "'sqlite' is not an asyncio driver; use sqlite+aiosqlite or "
                                             "postgresql+asyncpg."),
    "closed port": ("postgresql+asyncpg://postgres@127.0.0.1:1/calendar", "cannot reach 127.0.0.1:1 ("),
    "not a database": ("sqlite+aiosqlite:///{tmp}/notes.txt", "{tmp}/notes.txt does not open as a SQLite database"),
}


@pytest.mark.parametrize("bad", sorted(BAD_DATABASES))
def test_a_bad_database_url_stops_db_upgrade_with_one_line_naming_it(tmp_path: Path, bad: str) -> None:
    (tmp_path / "notes.txt").write_text("not a database, " * 100)
    url, said = (text.format(tmp=tmp_path) for text in BAD_DATABASES[bad])
    error = one_error(run(tmp_path, "db", "upgrade", extra={"DATABASE_URL": url}))
    assert error.startswith(f"calendar-agent: Invalid setting DATABASE_URL: {said}")


def test_a_database_that_does_not_exist_on_the_server_is_named(tmp_path: Path, postgres_url: str) -> None:
    missing = postgres_url.rsplit("/", 1)[0] + "/calendar_that_is_not_there"
    error = one_error(run(tmp_path, "seed-demo", extra={"DATABASE_URL": missing}))
    assert error.startswith("calendar-agent: Invalid setting DATABASE_URL: the database "
                            "'calendar_that_is_not_there' does not exist on ")
    assert error.endswith("; create it, or fix the name.")


@pytest.mark.parametrize("command", [("serve", "--port", "0"), ("mcp",), ("seed-demo",)])
def test_an_unreachable_server_stops_every_command_with_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    error = one_error(run(tmp_path, *command, extra={"DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/x"}))
    assert error.startswith("calendar-agent: Invalid setting DATABASE_URL: cannot reach 127.0.0.1:1 (")
    assert error.endswith("); start the server, or fix the host and port.")


def test_a_public_serve_with_the_operator_token_but_no_mcp_token_does_not_start(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", "--host", "0.0.0.0", "--port", "0", extra={"OPERATOR_TOKEN": "operator-secret"})
    assert result.returncode == 2
    [error] = [line for line in result.stderr.splitlines() if "settings from" not in line]
    assert error.startswith("calendar-agent: Invalid setting MCP_AUTH_TOKEN: it must be set when the service")
    assert not (tmp_path / "var").exists()  # refused before the database was touched
