"""Settings are read once, with documented defaults, and bad values name their variable."""

from datetime import time
from pathlib import Path

import pytest

from calendar_agent.settings import PROJECT_ROOT, SettingsError, load_settings
from domain.config import BookingSource, ClinicConfig


def test_defaults_are_the_clinics_rules() -> None:
    config = load_settings().clinic_config()
    assert config.timezone == "Asia/Riyadh"
    assert config.week["friday"] is None
    assert config.week["saturday"] is not None and config.week["saturday"].opens == time(16)
    assert config.capacity == {BookingSource.AGENT: 5, BookingSource.OPERATOR: 6}
    assert config.reservation_types == ClinicConfig().reservation_types  # Arabic names included
    assert config.system_agent_wa_id == "12125550123"


def test_the_environment_overrides_the_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOURS_FRIDAY", "09:00-12:00")
    monkeypatch.setenv("SLOT_MINUTES", "60")
    monkeypatch.setenv("TYPE_CAPACITY", "1:2")
    config = load_settings().clinic_config()
    assert config.week["friday"] is not None and config.week["friday"].closes == time(12)
    assert config.slot_minutes == 60 and config.type_capacity == {1: 2}


def test_a_reservation_type_may_give_its_arabic_name_after_a_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESERVATION_TYPES", "0:Check-up|كشف,1:Cleaning,2:Whitening | تبييض")
    types = load_settings().clinic_config().reservation_types
    assert [(t.id, t.name, t.name_ar) for t in types] == [(0, "Check-up", "كشف"), (1, "Cleaning", ""),
                                                          (2, "Whitening", "تبييض")]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("HOURS_SUNDAY", "17:00-11:00"), ("TIMEZONE", "Mars/Base"), ("SLOT_MINUTES", "zero"),
     ("RESERVATION_TYPES", "check-up"), ("RESERVATION_TYPES", "0:|كشف"), ("CAPACITY_AGENT", "-1")],
)
def test_a_bad_value_fails_naming_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert variable in str(error.value)


def test_a_relative_sqlite_path_is_the_projects_or_the_settings_files_never_the_working_directorys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    settings_file = tmp_path / "clinic" / "calendar.env"
    settings_file.parent.mkdir()
    settings_file.write_text("DATABASE_URL=sqlite+aiosqlite:///data/calendar.db\n")
    assert load_settings().database_url == f"sqlite+aiosqlite:///{PROJECT_ROOT}/var/calendar.db"
    assert load_settings(settings_file).database_url == f"sqlite+aiosqlite:///{tmp_path}/clinic/data/calendar.db"
    absolute = f"sqlite+aiosqlite:///{tmp_path}/elsewhere.db"
    assert load_settings(settings_file, database_url=absolute).database_url == absolute
