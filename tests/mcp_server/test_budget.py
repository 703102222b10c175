"""Default answers stay small, and say what they left out."""

import random
from typing import Any

from mcp_server.budget import CURSOR_ROOM, fit, rows_within, size


def test_fit_returns_small_data_unchanged() -> None:
    data = {"days": {"2026-12-02": 3}, "rows": [[1, 2]]}
    assert fit(data) == data


def test_fit_cuts_long_lists_to_the_budget_and_names_each_cut() -> None:
    rows = [[n, "x" * 40, n] for n in range(10_000)]
    data = {"summary": {"ok": 10_000}, "sample": {"columns": ["a", "b", "c"], "rows": rows}}
    fitted = fit(data, budget=2_000)
    assert size(fitted) <= 2_000
    assert fitted["truncated"] == {"sample.rows": 10_000}
    assert fitted["sample"]["columns"] == ["a", "b", "c"]
    assert all(len(row) == 3 for row in fitted["sample"]["rows"])


def test_fit_cuts_a_long_map_of_days() -> None:
    days = {f"2027-{m:02d}-{d:02d}": 9 for m in range(1, 13) for d in range(1, 29)}
    fitted = fit({"summary": {"ok": 3, "days": days}}, budget=1_000)
    assert fitted["truncated"] == {"summary.days": len(days)}
    assert fitted["summary"]["ok"] == 3


def test_rows_within_is_the_most_rows_per_section_that_fit_with_room_for_a_cursor() -> None:
    rows_of_table = [[n, "x" * 40] for n in range(500)]
    wa_ids = [f"9665{n:08d}" for n in range(500)]

    def answer(count: int) -> dict[str, Any]:
        table = {"columns": ["id", "name"], "rows": rows_of_table[:count]}
        return {"summary": {"total": 500}, "reservations": table, "wa_ids": wa_ids[:count]}

    rows = rows_within(answer(500), budget=3_000)

    def first(count: int) -> int:
        return size(answer(count)) + CURSOR_ROOM
    assert first(rows) <= 3_000 < first(rows + 1)


def test_rows_within_keeps_one_row_when_even_one_is_too_big() -> None:
    data = {"summary": {"note": "x" * 5_000}, "wa_ids": ["966500000001", "966500000002"]}
    assert rows_within(data, budget=1_000) == 1


def test_rows_within_equals_writing_the_answer_anew_for_each_count() -> None:
    """Summing each row's bytes gives what writing the whole answer for each count gives, whatever the rows hold
    (non-ASCII text, sections of different lengths, a plain list beside a table)."""
    rng = random.Random(7)
    for _ in range(200):
        rows: list[Any] = [[n, "س" * rng.randrange(40) + "x" * rng.randrange(40)] for n in range(rng.randrange(60))]
        wa_ids = [f"9665{n:08d}" for n in range(rng.randrange(60))]
        summary = {"n": rng.randrange(1000)}
        data = {"summary": summary, "reservations": {"columns": ["id", "name"], "rows": rows}, "wa_ids": wa_ids}
        budget = rng.randrange(200, 6_000)
        fitting = [k for k in range(1, max(len(rows), len(wa_ids), 1) + 1)
                   if size({"summary": summary, "reservations": {"columns": ["id", "name"], "rows": rows[:k]},
                            "wa_ids": wa_ids[:k]}) + CURSOR_ROOM <= budget]
        assert rows_within(data, budget) == max(fitting, default=1)
