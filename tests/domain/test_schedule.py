"""Pure schedule rules: no database."""

from datetime import UTC, date, datetime

import pytest

from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.rules.schedule import (
    Vacation, check_slot_bookable, is_ramadan, open_slots, parse_date, parse_time, slot_label, slots_for,
)

CONFIG = ClinicConfig()
NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # Tuesday 10:00 in Riyadh


def test_weekday_slots_start_at_opening_and_step_by_two_hours() -> None:
    assert slots_for(CONFIG, date(2026, 12, 6)) == ["11:00", "13:00", "15:00"]  # Sunday


def test_saturday_has_evening_slots() -> None:
    assert slots_for(CONFIG, date(2026, 12, 5)) == ["16:00", "18:00", "20:00"]


def test_friday_is_closed() -> None:
    assert slots_for(CONFIG, date(2026, 12, 4)) == []


def test_ramadan_uses_its_own_hours() -> None:
    assert is_ramadan(date(2027, 2, 15))
    assert slots_for(CONFIG, date(2027, 2, 15)) == ["10:00", "12:00", "14:00"]  # Monday in Ramadan


def test_a_closed_weekday_stays_closed_in_ramadan() -> None:
    assert slots_for(CONFIG, date(2027, 2, 19)) == []  # Friday in Ramadan


def test_slot_length_is_configuration() -> None:
    config = ClinicConfig(slot_minutes=60)
    assert slots_for(config, date(2026, 12, 6)) == ["11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]


def test_parse_date_accepts_iso_and_day_first() -> None:
    assert parse_date("2026-12-06") == parse_date("06-12-2026") == date(2026, 12, 6)


def test_parse_date_converts_hijri() -> None:
    assert parse_date("1448-09-01", hijri=True) == date(2027, 2, 8)


@pytest.mark.parametrize("bad", ["2026-13-01", "tomorrow", "2026-02-30", ""])
def test_parse_date_rejects_nonsense_with_a_code(bad: str) -> None:
    with pytest.raises(DomainError) as error:
        parse_date(bad)
    assert error.value.code == "invalid_date"


@pytest.mark.parametrize("raw", ["13:00", "1:00 PM", "01:00 PM", "1 pm", "1:00pm"])
def test_parse_time_accepts_24_and_12_hour_forms(raw: str) -> None:
    assert parse_time(raw) == "13:00"


@pytest.mark.parametrize("bad", ["25:00", "13:60", "13 o'clock", "0:00 PM"])
def test_parse_time_rejects_nonsense_with_a_code(bad: str) -> None:
    with pytest.raises(DomainError) as error:
        parse_time(bad)
    assert error.value.code == "invalid_time"


def test_slot_label_is_twelve_hour() -> None:
    assert [slot_label(s) for s in ("00:00", "11:00", "12:00", "13:00")] == ["12:00 AM", "11:00 AM", "12:00 PM", "1:00 PM"]


def test_past_day_cannot_be_booked() -> None:
    with pytest.raises(DomainError) as error:
        check_slot_bookable(CONFIG, date(2026, 11, 30), "11:00", [], NOW)
    assert error.value.code == "past_date"
    assert error.value.message() == "Cannot reserve in the past."


def test_slot_in_progress_can_still_be_booked() -> None:
    during_first_slot = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # 12:30 Riyadh
    check_slot_bookable(CONFIG, date(2026, 12, 1), "11:00", [], during_first_slot)
    assert open_slots(CONFIG, date(2026, 12, 1), [], during_first_slot) == ["11:00", "13:00", "15:00"]


def test_ended_slot_cannot_be_booked() -> None:
    after_first_slot = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 13:00 Riyadh
    with pytest.raises(DomainError):
        check_slot_bookable(CONFIG, date(2026, 12, 1), "11:00", [], after_first_slot)
    assert open_slots(CONFIG, date(2026, 12, 1), [], after_first_slot) == ["13:00", "15:00"]


def test_closed_day_is_refused_with_its_sentence() -> None:
    with pytest.raises(DomainError) as error:
        check_slot_bookable(CONFIG, date(2026, 12, 4), "11:00", [], NOW)
    assert error.value.code == "clinic_closed"
    assert "closed" in error.value.message()


def test_vacation_refusal_names_the_period_in_gregorian_and_hijri() -> None:
    vacation = Vacation(date(2026, 12, 6), date(2026, 12, 10), "National holiday")
    with pytest.raises(DomainError) as error:
        check_slot_bookable(CONFIG, date(2026, 12, 7), "11:00", [vacation], NOW)
    message = error.value.message()
    assert error.value.code == "vacation"
    assert "National holiday" in message and "2026-12-06" in message and "1448-06" in message


def test_unknown_time_lists_the_valid_slots() -> None:
    with pytest.raises(DomainError) as error:
        check_slot_bookable(CONFIG, date(2026, 12, 6), "12:00", [], NOW)
    assert error.value.code == "slot_unavailable"
    assert "13:00 (1:00 PM)" in error.value.message()


def test_errors_speak_arabic_on_request() -> None:
    error = DomainError("slot_full")
    assert error.message(ar=True) == "هذا الموعد محجوز بالكامل."
    assert error.message() == "This time slot is fully booked."


def test_a_time_refused_in_ramadan_names_the_ramadan_hours() -> None:
    with pytest.raises(DomainError) as refused:
        check_slot_bookable(CONFIG, date(2027, 2, 15), "11:00", [], NOW)  # a Monday in Ramadan 1448
    assert refused.value.message() == ("11:00 is not a bookable time on 2027-02-15 (1448-09-08 AH) (Ramadan hours, 10:00–16:00). "
                                       "Available times: 10:00 (10:00 AM), 12:00 (12:00 PM), 14:00 (2:00 PM).")
    assert "(ساعات رمضان، 10:00–16:00)" in refused.value.message(ar=True)
    with pytest.raises(DomainError) as outside:
        check_slot_bookable(CONFIG, date(2027, 1, 11), "09:00", [], NOW)
    assert "Ramadan" not in outside.value.message()
