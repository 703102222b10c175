"""A report's failures: an answer lists the first 200 of each reason with the whole count; the batch
record keeps every one."""

from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.system_agent.report import FAILURE_ITEMS, BatchReport, ItemResult


def test_an_answer_lists_two_hundred_failures_per_reason_and_the_record_every_one() -> None:
    report = BatchReport("system_batch_modify", "best_effort", ClinicConfig())
    report.items = [ItemResult(n, "failed", f"9665{n:08d}", n + 1, error=DomainError("slot_full")) for n in range(250)]
    report.items.append(ItemResult(250, "failed", "966500000999", 999, error=DomainError("clinic_closed", date="x")))
    answered = {g["code"]: g for g in report.to_dict()["failures"]}
    recorded = {g["code"]: g for g in report.to_dict("summary", failure_items=None)["failures"]}
    assert answered["slot_full"]["count"] == 250 and len(answered["slot_full"]["items"]) == FAILURE_ITEMS == 200
    assert [i["reservation_id"] for i in answered["slot_full"]["items"]] == list(range(1, 201))
    assert len(answered["clinic_closed"]["items"]) == 1
    assert len(recorded["slot_full"]["items"]) == 250
