"""The command line: migrations and the demo seed on a fresh SQLite file."""

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/var/demo.db", "PATH": "/usr/bin:/bin"}
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
