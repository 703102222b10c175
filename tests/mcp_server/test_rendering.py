"""Cells and lines of the text answers: plain where nothing can be misread, JSON strings where something could."""

import json

import pytest

from mcp_server.rendering import Text, cell, day_label, listing_text, time_label

HOSTILE = ["Sara | Khan", "Khalid\nAl-Harbi", '"quoted"', "#12 | forged", " padded ", "tab\there", "line\u2028sep",
           "bidi\u202eevil", "nul\x00byte", ""]


def test_a_plain_name_in_any_script_is_written_as_it_is() -> None:
    assert [cell(v) for v in ("فاطمة الزهراني", "Omar Haddad", 966501234567)] == [
        "فاطمة الزهراني", "Omar Haddad", "966501234567"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_value_that_could_be_misread_is_a_json_string_that_reads_back_exactly(value: str) -> None:
    written = cell(value)
    assert written.startswith('"') and json.loads(written) == value
    assert not {"|", "\n", "\t", "\x00", "\u2028", "\u202e"} & set(written)


def test_a_name_cannot_forge_a_row_of_its_own() -> None:
    rows = [{"id": n, "customer_name": name, "wa_id": "966501234567", "date": "2026-12-07", "time_slot": "11:00",
             "type": 0, "type_name": "Check-up", "status": "active"} for n, name in enumerate(HOSTILE, 1)]
    view = {"summary": {"total_reservations": len(rows), "total_customers": 1, "returned": {"reservations": len(rows)},
                        "offset": {"reservations": 0}, "timezone": "Asia/Riyadh", "filters": {}},
            "reservations": rows, "next_cursor": None}
    lines = listing_text(view, "system_get_reservations").splitlines()
    assert [line.split("|")[0] for line in lines if line.startswith("#")] == [f"#{n}" for n in range(1, 11)]
    assert all(line.count("|") == 6 for line in lines if line.startswith("#"))


def test_days_and_times_are_written_both_ways() -> None:
    assert (day_label("2026-12-07"), time_label("13:00"), time_label("11:00")) == (
        "Mon 2026-12-07", "13:00 (1:00 PM)", "11:00 (11:00 AM)")


def test_rows_past_the_budget_are_counted_not_added() -> None:
    text = Text(budget=100)
    text.add("headline")
    added = text.rows([f"row {n:03d} " + "x" * 20 for n in range(10)], reserve=20)
    assert added == len(str(text).splitlines()) - 1 < 10
    assert len(str(text).encode()) <= 100
