"""Default answers stay small, and say what they left out."""

from mcp_server.budget import fit, size


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
