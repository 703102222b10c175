"""The system agent's read-side queries on real SQLite and PostgreSQL."""

import base64
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from domain.services import Services
from domain.errors import DomainError
from domain.storage.models import ConversationMessage, Customer, Reservation
from domain.rules.schedule import hijri_date
from domain.system_agent.queries import SystemAgentQueryService

SARA, MOHAMMED, LAYLA, OMAR, KHALID = "966501234567", "966509876543", "966507654321", "966505555555", "966501111111"
SLOTS = ("11:00", "13:00", "15:00")


def queries(services: Services) -> SystemAgentQueryService:
    return SystemAgentQueryService(services.db, services.config, services.clock, services.search)


async def found(service: SystemAgentQueryService, **filters: Any) -> dict[str, Any]:
    """What a page of `filters` shows (the tools render the same view, dumped)."""
    return (await service.reservation_page(**filters)).view().model_dump(mode="json", exclude_unset=True)


def bulk_wa_id(n: int) -> str:
    return f"96650{n:07d}"


async def seed(services: Services) -> None:
    """Sara and Omar (check-ups), Mohammed (follow-up), Layla (cancelled)."""
    await services.reservations.reserve(SARA, "2026-12-06", "11:00", 0, "Sara Ahmed")
    await services.reservations.reserve(MOHAMMED, "2026-12-07", "13:00", 1, "محمد العتيبي")
    await services.reservations.reserve(LAYLA, "2026-12-06", "13:00", 0, "Layla Hassan")
    await services.reservations.cancel(LAYLA)
    await services.reservations.reserve(OMAR, "2026-12-08", "15:00", 0, "Omar Farouk")


async def insert_reservations(services: Services, count: int, customers: int | None = None) -> None:
    """`count` active reservations from 2026-12-06 on, 15 a day, spread over `customers` customers."""
    people = customers or count
    first = date(2026, 12, 6)
    async with services.db.unit_of_work() as session:
        await session.execute(insert(Customer), [{"wa_id": bulk_wa_id(n), "name": f"Bulk {n}"} for n in range(people)])
        await session.execute(insert(Reservation), [
            {"wa_id": bulk_wa_id(n % people), "date": first + timedelta(days=n // 15), "time_slot": SLOTS[n % 3],
             "type": n % 2, "status": "active"}
            for n in range(count)
        ])


def wa_ids_of(result: dict[str, Any]) -> list[str]:
    return [r["wa_id"] for r in result["reservations"]]


async def test_wa_ids_filter_accepts_one_number_in_any_format(services: Services) -> None:
    await seed(services)
    result = await found(queries(services), wa_ids="+966 50 123 4567")
    assert wa_ids_of(result) == [SARA]
    assert result["reservations"][0]["customer_name"] == "Sara Ahmed"
    assert result["summary"]["filters"]["wa_ids"] == [SARA]


async def test_wa_ids_filter_accepts_several_numbers_in_one_string(services: Services) -> None:
    await seed(services)
    result = await found(queries(services), wa_ids=f"{OMAR}, +{SARA}")
    assert wa_ids_of(result) == [SARA, OMAR]


async def test_dates_filter_accepts_day_first_dates_and_skips_cancelled(services: Services) -> None:
    await seed(services)
    result = await found(queries(services), dates=["06-12-2026"])
    assert wa_ids_of(result) == [SARA]


async def test_cancelled_reservations_are_listed_when_asked(services: Services) -> None:
    await seed(services)
    result = await found(queries(services), dates="2026-12-06", include_cancelled=True)
    assert [(r["wa_id"], r["status"]) for r in result["reservations"]] == [(SARA, "active"), (LAYLA, "cancelled")]


async def test_hijri_dates_are_converted(services: Services) -> None:
    await seed(services)
    result = await found(queries(services), dates=hijri_date(date(2026, 12, 7)), hijri=True)
    assert wa_ids_of(result) == [MOHAMMED]


async def test_range_and_type_filters_narrow_together(services: Services) -> None:
    await seed(services)
    service = queries(services)
    in_range = await found(service, start_date="2026-12-06", end_date="2026-12-07")
    follow_ups = await found(service, start_date="2026-12-06", end_date="2026-12-08", reservation_types=[1])
    assert wa_ids_of(in_range) == [SARA, MOHAMMED]
    assert wa_ids_of(follow_ups) == [MOHAMMED]
    assert follow_ups["wa_ids"] == [MOHAMMED]


async def test_results_are_in_calendar_order_with_the_clinic_zone(services: Services) -> None:
    await seed(services)
    result = await found(queries(services))
    assert [(r["date"], r["time_slot"]) for r in result["reservations"]] == [
        ("2026-12-06", "11:00"), ("2026-12-07", "13:00"), ("2026-12-08", "15:00")]
    assert {r["timezone"] for r in result["reservations"]} == {"Asia/Riyadh"}
    assert result["summary"]["timezone"] == "Asia/Riyadh"


async def test_fuzzy_search_finds_a_customer_by_arabic_name(services: Services) -> None:
    await seed(services)
    result = await found(queries(services), search_query="محمد العتيبى")
    assert wa_ids_of(result) == [MOHAMMED]
    assert result["summary"]["fuzzy_matches"][0]["wa_id"] == MOHAMMED


async def test_fuzzy_search_finds_a_customer_by_english_name(services: Services) -> None:
    await seed(services)
    result = await found(queries(services), search_query="sara")
    assert wa_ids_of(result) == [SARA]
    assert result["customers"][0]["name"] == "Sara Ahmed"


async def test_a_search_without_matches_returns_nothing_rather_than_everything(services: Services) -> None:
    await seed(services)
    result = await found(queries(services), search_query="Zebulon")
    assert result["reservations"] == [] and result["customers"] == []
    assert result["summary"]["total_reservations"] == 0
    assert result["summary"]["fuzzy_matches"] == []


async def test_a_search_that_fills_its_limit_says_more_may_match(services: Services) -> None:
    await insert_reservations(services, 5)
    result = await found(queries(services), search_query="Bulk", limit=3)
    assert len(result["summary"]["fuzzy_matches"]) == 3
    assert any("limit of 3" in note for note in result["summary"]["notes"])


async def test_search_and_wa_ids_must_both_match(services: Services) -> None:
    await seed(services)
    result = await found(queries(services), search_query="sara", wa_ids=[OMAR])
    assert result["reservations"] == []


async def test_a_search_alone_lists_matching_customers_without_reservations(services: Services) -> None:
    await seed(services)
    await services.customers.ensure(KHALID, "Khalid Salem")
    result = await found(queries(services), search_query="Khalid")
    assert result["reservations"] == []
    assert result["customers"] == [{"wa_id": KHALID, "name": "Khalid Salem", "is_favorite": False,
                                    "is_blocked": False, "reservation_count": 0, "no_shows": 0, "late_cancels": 0,
                                    "next_reservation": None}]
    assert result["summary"]["total_customers"] == 1


async def test_a_searchs_totals_are_its_customers_reservations_whatever_the_filters(services: Services) -> None:
    # The first page of a customer-only search counts its totals with the matches' names: each count is checked
    # against the same customers listed by wa_ids (counted by the listing's own totals) and against the rows.
    await seed(services)
    await insert_reservations(services, 40, customers=8)
    await services.reservations.cancel(bulk_wa_id(3))
    service = queries(services)
    everyone: list[int] = []
    for include_cancelled in (False, True):
        for given in (None, [bulk_wa_id(1), bulk_wa_id(3), SARA]):
            search = await found(service, search_query="Bulk", wa_ids=given, include_cancelled=include_cancelled,
                                 max_results=2)
            listed = [m["wa_id"] for m in search["summary"]["fuzzy_matches"] if given is None or m["wa_id"] in given]
            by_number = await found(service, wa_ids=listed, include_cancelled=include_cancelled, max_results=2)
            async with services.db.unit_of_work() as session:
                rows = [r for r in (await session.scalars(select(Reservation))).all()
                        if r.wa_id in listed and (include_cancelled or r.status == "active")]
            totals = ("total_reservations", "total_wa_ids", "total_customers")
            assert [search["summary"][t] for t in totals] == [by_number["summary"][t] for t in totals]
            assert search["summary"]["total_reservations"] == len(rows) > 0
            assert search["summary"]["total_customers"] == len(listed) == (8 if given is None else 2)
            following = await found(service, search_query="Bulk", wa_ids=given, include_cancelled=include_cancelled,
                                    max_results=2, cursor=search["next_cursor"])
            assert [following["summary"][t] for t in totals] == [search["summary"][t] for t in totals]
            everyone += [search["summary"]["total_reservations"]] if given is None else []
    assert everyone == [39, 40]  # the cancelled one counted only when asked for


async def test_customers_carry_flags_count_and_next_reservation(services: Services) -> None:
    await seed(services)
    await services.customers.set_flags(SARA, favorite=True)
    result = await found(queries(services), wa_ids=[SARA, LAYLA], include=["customers"])
    sara, layla = result["customers"]
    assert (sara["wa_id"], sara["is_favorite"], sara["reservation_count"]) == (SARA, True, 1)
    assert sara["next_reservation"]["date"] == "2026-12-06"
    assert sara["next_reservation"]["time_slot"] == "11:00"
    assert (layla["wa_id"], layla["reservation_count"], layla["next_reservation"]) == (LAYLA, 0, None)


async def test_include_returns_only_the_requested_sections(services: Services) -> None:
    await seed(services)
    result = await found(queries(services), include=["wa_ids"])
    assert set(result) == {"summary", "wa_ids", "next_cursor"}
    assert result["wa_ids"] == sorted([SARA, MOHAMMED, OMAR])
    assert result["summary"]["total_reservations"] == 3


async def test_summary_counts_every_match_when_the_page_is_truncated(services: Services) -> None:
    await insert_reservations(services, 450, customers=150)
    result = await found(queries(services), max_results=10)
    summary = result["summary"]
    assert (summary["total_reservations"], summary["total_wa_ids"], summary["total_customers"]) == (450, 150, 150)
    assert summary["returned"] == {"reservations": 10, "wa_ids": 10, "customers": 10}
    assert summary["truncated"] == {"reservations": True, "wa_ids": True, "customers": True}
    assert summary["has_more"] is True and result["next_cursor"] is not None


async def test_a_page_cut_shorter_reads_as_the_page_of_that_size(services: Services) -> None:
    await insert_reservations(services, 60, customers=30)
    service = queries(services)
    cut = (await service.reservation_page(max_results=200)).first(7).view()
    assert cut == (await service.reservation_page(max_results=7)).view()
    following = await found(service, max_results=7, cursor=cut.next_cursor)
    assert following["summary"]["offset"] == {"reservations": 7, "wa_ids": 7, "customers": 7}


async def test_cursor_pages_walk_every_reservation_exactly_once(services: Services) -> None:
    await insert_reservations(services, 450)
    service = queries(services)
    pages, cursor = [], None
    while True:
        page = await found(service, include=["reservations", "wa_ids"], cursor=cursor)
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    rows = [r for p in pages for r in p["reservations"]]
    assert [len(p["reservations"]) for p in pages] == [200, 200, 50]
    assert [p["summary"]["offset"]["reservations"] for p in pages] == [0, 200, 400]
    assert len({r["id"] for r in rows}) == 450
    keys = [(r["date"], r["time_slot"], r["id"]) for r in rows]
    assert keys == sorted(keys)
    assert len({w for p in pages for w in p["wa_ids"]}) == 450
    assert pages[-1]["summary"]["truncated"] == {"reservations": False, "wa_ids": False}


async def test_a_finished_section_stays_empty_while_another_pages_on(services: Services) -> None:
    await insert_reservations(services, 300, customers=50)
    service = queries(services)
    first = await found(service, max_results=200)
    second = await found(service, max_results=200, cursor=first["next_cursor"])
    assert (len(first["wa_ids"]), first["summary"]["truncated"]["wa_ids"]) == (50, False)
    assert first["summary"]["truncated"]["reservations"] is True
    assert (len(second["reservations"]), second["wa_ids"], second["customers"]) == (100, [], [])
    assert second["next_cursor"] is None


async def test_a_cursor_from_other_filters_is_refused(services: Services) -> None:
    await insert_reservations(services, 30)
    service = queries(services)
    first = await found(service, start_date="2026-12-06", max_results=10)
    with pytest.raises(DomainError) as error:
        await found(service, start_date="2026-12-07", max_results=10, cursor=first["next_cursor"])
    assert error.value.code == "invalid_request"
    assert error.value.details["field"] == "cursor"
    assert "other filters" in str(error.value)


async def test_a_cursor_survives_another_spelling_of_the_same_filters(services: Services) -> None:
    await insert_reservations(services, 30)
    service = queries(services)
    first = await found(service, start_date="2026-12-06", max_results=10)
    second = await found(service, start_date="06-12-2026", max_results=10, cursor=first["next_cursor"])
    assert second["summary"]["offset"]["reservations"] == 10


async def test_an_unreadable_cursor_is_refused(services: Services) -> None:
    with pytest.raises(DomainError) as error:
        await found(queries(services), cursor="not-a-cursor")
    assert (error.value.code, error.value.details["field"]) == ("invalid_request", "cursor")


async def test_max_results_above_the_maximum_is_clamped_and_said(services: Services) -> None:
    await insert_reservations(services, 520)
    result = await found(queries(services), include=["reservations"], max_results=1000)
    assert len(result["reservations"]) == 500
    assert result["summary"]["max_results"] == 500
    assert any("max_results 1000" in note for note in result["summary"]["notes"])


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"wa_ids": ["12"]}, "invalid_wa_id"),
        ({"dates": ["2026-13-45"]}, "invalid_date"),
        ({"start_date": "2026-12-10", "end_date": "2026-12-01"}, "invalid_range"),
        ({"reservation_types": [7]}, "invalid_type"),
        ({"include": ["bookings"]}, "invalid_request"),
    ],
)
async def test_invalid_filters_raise_their_domain_error(
    services: Services, arguments: dict[str, Any], code: str
) -> None:
    with pytest.raises(DomainError) as error:
        await found(queries(services), **arguments)
    assert error.value.code == code


async def test_wa_ids_by_date_range_lists_distinct_customers_per_date(services: Services) -> None:
    await seed(services)
    result = await queries(services).wa_ids_by_date_range("2026-12-06", "2026-12-08")
    assert result.wa_ids == sorted([SARA, MOHAMMED, OMAR])
    assert result.count == 3
    assert result.by_date == {"2026-12-06": 1, "2026-12-07": 1, "2026-12-08": 1}
    assert result.timezone == "Asia/Riyadh"


async def test_wa_ids_by_date_range_honours_cancelled_and_types(services: Services) -> None:
    await seed(services)
    service = queries(services)
    with_cancelled = await service.wa_ids_by_date_range("2026-12-06", "2026-12-06", include_cancelled=True)
    follow_ups = await service.wa_ids_by_date_range("2026-12-01", "2026-12-31", reservation_types=[1])
    assert with_cancelled.wa_ids == sorted([SARA, LAYLA]) and with_cancelled.by_date == {"2026-12-06": 2}
    assert follow_ups.wa_ids == [MOHAMMED]


async def at(services: Services, moment: datetime, wa_id: str, role: str) -> None:
    services.clock.now = moment  # type: ignore[attr-defined]
    await services.conversations.append(wa_id, role, "text")


async def seed_conversations(services: Services) -> None:
    """Riyadh is UTC+3: the 29th and 30th in the clinic's zone, and messages just outside them."""
    now = services.clock()
    await services.reservations.reserve(SARA, "2026-12-06", "11:00", 0, "Sara Ahmed")
    async with services.db.unit_of_work() as session:  # Layla's only reservation is in the past
        await session.execute(insert(Customer), [{"wa_id": LAYLA, "name": "Layla Hassan"}])
        await session.execute(insert(Reservation), [{"wa_id": LAYLA, "date": date(2026, 11, 29), "time_slot": "11:00"}])
    for moment, wa_id, role in [
        (datetime(2026, 11, 29, 6, 0, tzinfo=UTC), SARA, "user"),  # 09:00 local
        (datetime(2026, 11, 29, 6, 1, tzinfo=UTC), SARA, "assistant"),
        (datetime(2026, 11, 30, 18, 30, tzinfo=UTC), SARA, "user"),  # 21:30 local
        (datetime(2026, 11, 30, 18, 31, tzinfo=UTC), SARA, "tool"),
        (datetime(2026, 11, 30, 6, 15, tzinfo=UTC), OMAR, "user"),  # 09:15 local, no reservation
        (datetime(2026, 11, 30, 7, 0, tzinfo=UTC), KHALID, "secretary"),  # written to, never wrote
        (datetime(2026, 11, 29, 20, 50, tzinfo=UTC), LAYLA, "user"),  # 23:50 local on the 29th
        (datetime(2026, 11, 28, 20, 30, tzinfo=UTC), MOHAMMED, "user"),  # 23:30 local on the 28th: outside
        (datetime(2026, 11, 30, 21, 10, tzinfo=UTC), MOHAMMED, "user"),  # 00:10 local on Dec 1: outside
        (datetime(2026, 11, 30, 8, 0, tzinfo=UTC), "12125550123", "secretary"),
        (datetime(2026, 11, 30, 8, 1, tzinfo=UTC), "12125550123", "assistant"),
    ]:
        await at(services, moment, wa_id, role)
    services.clock.now = now  # type: ignore[attr-defined]


async def test_conversation_analysis_counts_messages_in_clinic_days(services: Services) -> None:
    await seed_conversations(services)
    result = await queries(services).conversation_analysis("2026-11-29", "2026-11-30")
    assert result["total_messages"] == 7
    assert result["messages_by_role"] == {"assistant": 1, "secretary": 1, "tool": 1, "user": 4}
    assert result["messages_per_day"] == {"2026-11-29": 3, "2026-11-30": 4}
    assert result["system_agent_messages"] == 2
    assert result["timezone"] == "Asia/Riyadh"


async def test_conversation_analysis_finds_active_customers_without_upcoming_reservations(services: Services) -> None:
    await seed_conversations(services)
    result = await queries(services).conversation_analysis("2026-11-29", "2026-11-30")
    without = result["customers_without_upcoming_reservation"]
    assert result["active_customers"] == 3
    assert (without["count"], without["truncated"]) == (2, False)
    assert [(c["wa_id"], c["name"]) for c in without["customers"]] == [(OMAR, None), (LAYLA, "Layla Hassan")]
    assert without["customers"][1]["last_message_at"] == "2026-11-29T23:50:00+03:00"


async def test_conversation_analysis_ranks_busiest_local_hours(services: Services) -> None:
    await seed_conversations(services)
    result = await queries(services).conversation_analysis("2026-11-29", "2026-11-30")
    assert [(h["hour"], h["customer_messages"]) for h in result["busiest_hours"]] == [
        ("09:00", 2), ("21:00", 1), ("23:00", 1)]


async def test_conversation_analysis_caps_the_listed_customers_but_counts_them_all(services: Services) -> None:
    moment = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    async with services.db.unit_of_work() as session:
        await session.execute(insert(ConversationMessage), [
            {"wa_id": bulk_wa_id(n), "role": "user", "text": "hi", "timestamp": moment} for n in range(205)])
    result = await queries(services).conversation_analysis("2026-11-30", "2026-11-30")
    without = result["customers_without_upcoming_reservation"]
    assert (result["active_customers"], without["count"], without["truncated"]) == (205, 205, True)
    assert len(without["customers"]) == 200


async def seed_snapshot(services: Services) -> None:
    await services.vacations.add("2026-12-03", "2026-12-03", "National Day")
    await services.reservations.reserve(SARA, "2026-12-01", "13:00", 0, "Sara Ahmed")
    await services.reservations.reserve(MOHAMMED, "2026-12-01", "13:00", 1)
    await services.reservations.reserve(OMAR, "2026-12-02", "11:00", 0)
    await services.reservations.reserve(KHALID, "2026-12-05", "16:00", 0)
    await services.reservations.reserve(LAYLA, "2026-12-02", "15:00", 0)
    await services.reservations.cancel(LAYLA)


async def test_snapshot_gives_each_day_its_status(services: Services) -> None:
    await seed_snapshot(services)
    result = await queries(services).reservation_snapshot("2026-11-30", "2026-12-05")
    statuses = [(d["date"], d["status"]) for d in result["days"]]
    assert statuses == [("2026-11-30", "past"), ("2026-12-01", "open"), ("2026-12-02", "open"),
                        ("2026-12-03", "vacation"), ("2026-12-04", "closed"), ("2026-12-05", "open")]
    assert result["days"][3]["vacation"] == "National Day"
    assert [s["time_slot"] for s in result["days"][5]["slots"]] == ["16:00", "18:00", "20:00"]
    assert result["days"][4]["slots"] == []


async def test_snapshot_slot_shows_bookings_capacity_and_who(services: Services) -> None:
    await seed_snapshot(services)
    result = await queries(services).reservation_snapshot("2026-12-01")
    slot = next(s for s in result["days"][0]["slots"] if s["time_slot"] == "13:00")
    assert slot["booked"] == 2
    assert slot["capacity"] == {"agent": 5, "operator": 6}
    assert slot["remaining"] == {"agent": 3, "operator": 4}
    assert slot["by_type"] == {"0": 1, "1": 1}
    assert [(r["wa_id"], r["customer_name"], r["type"]) for r in slot["reservations"]] == [
        (SARA, "Sara Ahmed", 0), (MOHAMMED, None, 1)]


async def test_snapshot_totals_add_up(services: Services) -> None:
    await seed_snapshot(services)
    totals = (await queries(services).reservation_snapshot("2026-11-30", "2026-12-05"))["totals"]
    assert (totals["days"], totals["reservations"], totals["cancelled"], totals["customers"]) == (6, 4, 1, 4)
    assert totals["days_by_status"] == {"past": 1, "open": 3, "vacation": 1, "closed": 1}
    assert totals["by_type"] == {"0": 3, "1": 1}
    assert totals["open_days_capacity"] == {"agent": 45, "operator": 54}
    assert totals["open_days_booked"] == 4


async def test_snapshot_shows_bookings_outside_opening_hours(services: Services) -> None:
    await services.customers.ensure(SARA, "Sara Ahmed")
    async with services.db.unit_of_work() as session:  # booked before Fridays were closed, say
        await session.execute(insert(Reservation), [{"wa_id": SARA, "date": date(2026, 12, 4), "time_slot": "11:00"}])
    day = (await queries(services).reservation_snapshot("04-12-2026"))["days"][0]
    assert day["status"] == "closed"
    assert [(s["time_slot"], s["in_hours"], s["booked"]) for s in day["slots"]] == [("11:00", False, 1)]


async def test_snapshot_lists_the_slots_an_hours_closure_closes_with_its_title(services: Services) -> None:
    await services.batch.close("2026-12-07", None, "Staff meeting", hours=("13:00", "15:00"))
    day = (await queries(services).reservation_snapshot("2026-12-07"))["days"][0]
    assert day["status"] == "open"
    assert [(s["time_slot"], s["in_hours"], s.get("closure")) for s in day["slots"]] == [
        ("11:00", True, None), ("13:00", False, "Staff meeting"), ("15:00", True, None)]


async def test_snapshot_refuses_more_than_92_days(services: Services) -> None:
    service = queries(services)
    assert len((await service.reservation_snapshot("2026-12-01", "2027-03-02"))["days"]) == 92
    with pytest.raises(DomainError) as error:
        await service.reservation_snapshot("2026-12-01", "2027-03-03")
    assert (error.value.code, error.value.details["max_days"]) == ("range_too_long", 92)


async def test_later_pages_carry_the_totals_the_first_page_counted(services: Services) -> None:
    await insert_reservations(services, 30)
    service = queries(services)
    first = await found(service, include=["reservations"], max_results=10)
    await services.reservations.reserve("966501999999", "2026-12-20", "11:00")  # counted by a new listing only
    second = await found(service, include=["reservations"], max_results=10, cursor=first["next_cursor"])
    fresh = await found(service, include=["reservations"], max_results=10)
    assert first["summary"]["total_reservations"] == second["summary"]["total_reservations"] == 30
    assert fresh["summary"]["total_reservations"] == 31


async def test_a_cursor_with_made_up_totals_is_refused(services: Services) -> None:
    await insert_reservations(services, 30)
    service = queries(services)
    first = await found(service, include=["reservations"], max_results=10)
    data = json.loads(base64.urlsafe_b64decode(first["next_cursor"]))
    forged = base64.urlsafe_b64encode(json.dumps(data | {"t": {"rows_deleted": 1}}).encode()).decode()
    with pytest.raises(DomainError) as error:
        await found(service, include=["reservations"], max_results=10, cursor=forged)
    assert error.value.code == "invalid_request" and error.value.details["problem"] == "unreadable"


# (status, attendance, late_cancel) as stored, in turn, and the public status each reads as.
STORED = [("active", "booked", False), ("active", "confirmed", False), ("active", "arrived", False),
          ("no_show", "booked", False), ("cancelled", "booked", False), ("cancelled", "confirmed", True)]
PUBLIC = ["booked", "confirmed", "arrived", "no_show", "cancelled", "late_cancelled"]


async def insert_attended(services: Services, count: int, customers: int) -> dict[int, tuple[str, str]]:
    """`count` reservations from 2026-12-06 on over `customers` customers, each stored state of STORED in turn:
    id -> (wa_id, public status)."""
    first = date(2026, 12, 6)
    async with services.db.unit_of_work() as session:
        await session.execute(insert(Customer), [{"wa_id": bulk_wa_id(n), "name": f"Bulk {n}"}
                                                 for n in range(customers)])
        await session.execute(insert(Reservation), [
            {"wa_id": bulk_wa_id(n % customers), "date": first + timedelta(days=n // 15), "time_slot": SLOTS[n % 3],
             "type": 0, "status": STORED[n % 6][0], "attendance": STORED[n % 6][1], "late_cancel": STORED[n % 6][2]}
            for n in range(count)])
        rows = await session.execute(select(Reservation.id, Reservation.wa_id).order_by(Reservation.id))
        return {row.id: (row.wa_id, PUBLIC[n % 6]) for n, row in enumerate(rows)}


async def test_every_row_reads_its_public_status_and_the_attendance_filter_pages_it_once(services: Services) -> None:
    stored = await insert_attended(services, 60, customers=9)
    asked = ["confirmed", "no_show", "late_cancelled"]
    service, cursor, seen = queries(services), None, []
    while True:
        page = await found(service, attendance=asked, include=["reservations"], max_results=4, cursor=cursor)
        assert page["summary"]["total_reservations"] == 30
        seen += [(r["id"], r["attendance"]) for r in page["reservations"]]
        if (cursor := page.get("next_cursor")) is None:
            break
    assert sorted(seen) == sorted((i, shown) for i, (_, shown) in stored.items() if shown in asked)
    everything = await found(service, include_cancelled=True, include=["reservations"], max_results=60)
    assert {r["id"]: r["attendance"] for r in everything["reservations"]} == {i: s for i, (_, s) in stored.items()}


async def test_a_searchs_totals_count_only_the_statuses_asked_for(services: Services) -> None:
    stored = await insert_attended(services, 60, customers=9)
    for asked in (["no_show"], ["booked", "cancelled"], ["late_cancelled", "arrived", "confirmed"]):
        search = await found(queries(services), search_query="Bulk", attendance=asked, max_results=2)
        assert search["summary"]["total_reservations"] == sum(s in asked for _, s in stored.values())
        assert search["summary"]["total_customers"] == 9
        following = await found(queries(services), search_query="Bulk", attendance=asked, max_results=2,
                                cursor=search["next_cursor"])
        assert following["summary"]["total_reservations"] == search["summary"]["total_reservations"]


async def test_each_customer_counts_every_no_show_and_late_cancellation_of_theirs(services: Services) -> None:
    stored = await insert_attended(services, 60, customers=9)
    page = await found(queries(services), dates=["2026-12-06"], include=["customers"])
    for customer in page["customers"]:
        theirs = [s for w, s in stored.values() if w == customer["wa_id"]]
        assert (customer["no_shows"], customer["late_cancels"]) == (
            theirs.count("no_show"), theirs.count("late_cancelled"))
    assert sum(c["no_shows"] for c in page["customers"]) > 0 and sum(c["late_cancels"] for c in page["customers"])


async def test_an_unknown_public_status_is_refused_by_name(services: Services) -> None:
    with pytest.raises(DomainError) as error:
        await found(queries(services), attendance=["booked", "absent"])
    assert error.value.code == "invalid_request" and error.value.details["field"] == "attendance"
    assert "absent" in error.value.message()


async def test_a_cursor_made_without_the_attendance_filter_is_refused_with_it(services: Services) -> None:
    await insert_attended(services, 30, customers=30)
    first = await found(queries(services), include=["reservations"], max_results=2)
    with pytest.raises(DomainError) as error:
        await found(queries(services), include=["reservations"], max_results=2, attendance=["booked"],
                    cursor=first["next_cursor"])
    assert error.value.details["problem"] == "filters_changed"
