"""The batch record's audit is written as JSON text directly: it must read back as the rows it describes,
whatever the values hold."""

import json
from datetime import date

from domain.config import ClinicConfig
from domain.rules.planning import ACTIVE, CANCELLED, Booking
from domain.system_agent.audit import BLOCK, audit_text, recorded_changes
from domain.system_agent.planners import Plan
from domain.system_agent.report import BatchReport, ItemResult
from domain.system_agent.undo import CustomerEdit

HOSTILE = ['9665"1\\2', "٩٦٦٥٠٠٠", "9665\n0001", "966500000001"]


def plan_of(bookings: list[tuple[Booking | None, Booking]]) -> Plan:
    plan = Plan(BatchReport("system_batch_modify", "best_effort", ClinicConfig()))
    for index, (before, after) in enumerate(bookings):
        plan.report.items.append(ItemResult(index, "ok", after.wa_id, after.id, "moved", before, after))
    return plan


def as_dict(booking: Booking | None) -> dict[str, object] | None:
    if booking is None:
        return None
    return {"id": booking.id, "wa_id": booking.wa_id, "date": booking.date.isoformat(),
            "time_slot": booking.time_slot, "type": booking.type, "status": booking.status}


def test_the_audit_reads_back_as_the_rows_for_hostile_values() -> None:
    pairs: list[tuple[Booking | None, Booking]] = []
    for n, wa_id in enumerate(HOSTILE, 1):
        before = Booking(n, wa_id, date(2026, 12, 2), '11:00"', 0, ACTIVE)
        pairs.append((before if n % 2 else None, Booking(n, wa_id, date(2026, 12, 3), "13:00\\", 1, CANCELLED)))
    plan = plan_of(pairs)
    plan.edits.append(CustomerEdit(9, "966500000001", 'Sa"ra\n', "966500000002"))
    rows = recorded_changes(json.loads(audit_text(plan.report, plan.edits, plan.closures)))
    assert rows[:-1] == [{"index": n, "action": "moved", "before": as_dict(b), "after": as_dict(a)}
                         for n, (b, a) in enumerate(pairs)]
    assert rows[-1] == {"index": 9, "action": "customer", "wa_id": "966500000001", "new_wa_id": "966500000002",
                        "old_name": None, "new_name": 'Sa"ra\n'}


def test_an_unchanged_item_is_not_recorded() -> None:
    booking = Booking(1, "966500000001", date(2026, 12, 2), "11:00", 0)
    plan = plan_of([(booking, booking)])
    plan.report.items[0].action = "unchanged"
    assert json.loads(audit_text(plan.report, plan.edits, plan.closures)) == []


def test_a_record_written_with_keyed_rows_reads_the_same() -> None:
    keyed = {"index": 0, "action": "moved",
             "before": as_dict(Booking(1, "966500000001", date(2026, 12, 2), "11:00", 0)),
             "after": as_dict(Booking(1, "966500000001", date(2026, 12, 3), "11:00", 0))}
    assert recorded_changes([keyed]) == [keyed]


def test_the_compact_rows_take_less_than_half_of_the_keyed_form() -> None:
    pairs = [(Booking(n, f"9665{n:08d}", date(2026, 12, 2), "11:00", 0), Booking(n, f"9665{n:08d}", date(2026, 12, 3),
                                                                            "11:00", 0)) for n in range(1, 101)]
    plan = plan_of(list(pairs))
    text = audit_text(plan.report, plan.edits, plan.closures)
    keyed = json.dumps(recorded_changes(json.loads(text)))
    assert len(text) * 2 < len(keyed)


def test_a_run_of_moves_between_two_places_reads_back_as_its_rows_in_order() -> None:
    """A day moved is a run per slot: consecutive changes from one place to one other, broken by any other
    change and at `BLOCK` rows, read back in their order as the rows they stand for."""
    day, next_day = date(2026, 12, 2), date(2026, 12, 3)
    pairs: list[tuple[Booking | None, Booking]] = []
    for n in range(1, BLOCK + 12):
        slot = "11:00" if n <= BLOCK + 8 else "13:00"
        pairs.append((Booking(n, HOSTILE[n % 4], day, slot, 0), Booking(n, HOSTILE[n % 4], next_day, slot, 0)))
    pairs.insert(3, (None, Booking(-1, "966500000009", next_day, "11:00", 1)))  # a new booking breaks the run
    plan = plan_of(pairs)
    plan.report.items[5].action = "cancelled"  # so does another action
    text = audit_text(plan.report, plan.edits, plan.closures)
    values = json.loads(text)
    assert [v["rows"][0][0] if isinstance(v, dict) else v[0] for v in values] == [0, 3, 4, 5, 6, 6 + BLOCK, 9 + BLOCK]
    assert recorded_changes(values) == [
        {"index": n, "action": item.action, "before": as_dict(b), "after": as_dict(a)}
        for n, ((b, a), item) in enumerate(zip(pairs, plan.report.items, strict=True))]
    assert len(text) < 40 * len(pairs)
