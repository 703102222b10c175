"""The console as the front desk, in real Chromium against the service as `serve` builds it: the week and month views,
booking by click, moving by drag, a refusal in the rule's words, closing days, undo from the batch history, a
confirmation only the operator gives, and the week following the agent's changes live. Each act is checked in the
database afterwards."""

from __future__ import annotations

import os
import re
from datetime import date

import httpx2
from playwright.async_api import Locator, Page, expect
from sqlalchemy import select

from domain.config import BookingSource
from domain.errors import DomainError
from domain.storage.models import Reservation, Vacation
from domain.system_agent.effects import EffectLimits
from tests.console.conftest import AGENT_NAME, D1, D2, D3, KHALID, OMAR, Console, StartConsole, choose_conversation, send
from tests.fakes.llm import Call, Reply

NEW_CUSTOMER = "966501110009"
ARABIC_DIGITS = "٩٦٦٥٠١١١٠٠٠٩"  # the same number as a customer may write it


def cell(page: Page, day: str, slot: str) -> Locator:
    return page.locator(f'.board-cell[data-date="{day}"][data-slot="{slot}"]')


def shown(view: str, day: str) -> re.Pattern[str]:
    """The address of a view of a day (the open conversation stays in its fragment)."""
    return re.compile(rf"/\?view={view}&date={day}(#|$)")


def has_class(name: str) -> re.Pattern[str]:
    return re.compile(rf"(^|\s){name}(\s|$)")


async def active(console: Console, wa_id: str) -> list[tuple[str, str, int]]:
    """The customer's active bookings as (date, slot, type)."""
    async with console.services.db.reading() as session:
        rows = (await session.execute(select(Reservation.date, Reservation.time_slot, Reservation.type)
                                      .where(Reservation.wa_id == wa_id, Reservation.status == "active"))).all()
    return sorted((d.isoformat() if isinstance(d, date) else str(d), s, t) for d, s, t in rows)


async def open_week(console: Console, day: str = D1) -> Page:
    page = await console.open()
    await page.goto(f"{console.url}/?view=week&date={day}")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    await expect(page.locator(".board-week")).to_be_visible()
    return page


async def test_the_week_shows_each_slots_bookings_and_the_month_each_days_load(start_console: StartConsole) -> None:
    console = await start_console()
    page = await open_week(console)

    d1 = cell(page, D1, "11:00")
    await expect(d1).to_have_attribute("data-booked", "3")
    await expect(d1.locator(".board-count")).to_have_text("3 / 6")
    await expect(d1.locator(".booking")).to_have_text(["فاطمة الزهراني", "Omar Haddad", "Sara Khan"])
    await expect(d1).to_have_class(has_class("fill-2"))
    await expect(page.locator(f'.board-day[data-date="{D1}"] .board-hijri')).to_contain_text("1448")
    await expect(page.locator(".board-day")).to_have_count(7)
    await expect(page.locator(".board-day").first).to_have_attribute("data-date", "2026-12-06")  # the Sunday
    if path := os.environ.get("WEEK_SCREENSHOT"):
        await page.screenshot(path=path, animations="disabled")

    await page.get_by_role("link", name="Month").click()
    await expect(page).to_have_url(shown("month", D1))
    day = page.locator(f'.board-month-day[data-date="{D1}"]')
    await expect(day.locator(".board-day-total")).to_have_text("3 booked")
    await expect(page.locator(f'.board-month-day[data-date="{D3}"] .board-day-total')).to_have_text("1 booked")
    await expect(page.locator(".board-month-day")).to_have_count(35)  # Sunday 29 November to Saturday 2 January
    if path := os.environ.get("MONTH_SCREENSHOT"):
        await page.screenshot(path=path, animations="disabled")

    await page.get_by_role("button", name="Next").click()
    await expect(page).to_have_url(shown("month", "2027-01-01"))
    await page.go_back()
    await expect(page.locator(f'.board-month-day[data-date="{D1}"] .board-day-total')).to_have_text("3 booked")
    await day.locator("a").click()
    await expect(page).to_have_url(shown("week", D1))
    await expect(cell(page, D1, "11:00").locator(".board-count")).to_have_text("3 / 6")


async def test_a_slot_is_booked_by_click_for_a_number_written_in_arabic_digits(start_console: StartConsole) -> None:
    console = await start_console()
    page = await open_week(console)

    await cell(page, D2, "15:00").get_by_role("button", name=f"Book {D2}").click()
    dialog = page.get_by_role("dialog", name="Book a slot")
    await dialog.get_by_role("combobox", name="Customer").fill(ARABIC_DIGITS)
    await dialog.get_by_label("Type").select_option(label="Follow-up")
    await dialog.get_by_role("button", name="Book").click()

    await expect(dialog).to_be_hidden()
    await expect(cell(page, D2, "15:00").locator(".board-count")).to_have_text("1 / 6")
    await expect(page.locator("#board-status")).to_contain_text("Applied")
    assert await active(console, NEW_CUSTOMER) == [(D2, "15:00", 1)]

    await page.get_by_role("button", name="History").click()
    history = page.get_by_role("dialog", name="Batch history")
    first = history.locator(".history-item").first
    await expect(first).to_have_attribute("data-by", "operator")
    await expect(first).to_have_attribute("data-tool", "system_batch_reserve")
    await first.get_by_text("What it changed").click()
    await expect(first.locator(".history-changes li")).to_have_text([f"+{NEW_CUSTOMER} · created · {D2} 15:00"])


async def test_a_booking_dragged_to_another_day_moves_and_a_full_slot_refuses_in_the_rules_words(
    start_console: StartConsole,
) -> None:
    console = await start_console()
    for n in range(5):  # D3 15:00 full for operators: Layla and five more
        await console.services.customers.ensure(f"96650222000{n}", f"Filler {n}")
        await console.services.reservations.reserve(f"96650222000{n}", D3, "15:00", source=BookingSource.OPERATOR)
    page = await open_week(console)

    omar = cell(page, D1, "11:00").get_by_role("button", name="Omar Haddad")
    await omar.drag_to(cell(page, D2, "13:00"))
    await expect(cell(page, D2, "13:00").locator(".booking")).to_have_text(["Omar Haddad", "Khalid Al-Harbi"])  # in booking order
    await expect(cell(page, D1, "11:00").locator(".board-count")).to_have_text("2 / 6")
    assert await active(console, OMAR) == [(D2, "13:00", 0)]

    await expect(cell(page, D3, "15:00").locator(".board-count")).to_have_text("6 / 6")
    await expect(cell(page, D3, "15:00").get_by_role("button", name=f"Book {D3}")).to_have_count(0)
    await cell(page, D2, "13:00").get_by_role("button", name="Omar Haddad").drag_to(cell(page, D3, "15:00"))
    status = page.locator("#board-status")
    await expect(status).to_have_attribute("data-kind", "error")
    await expect(status).to_contain_text("full")
    assert await active(console, OMAR) == [(D2, "13:00", 0)]
    await expect(cell(page, D3, "15:00").locator(".board-count")).to_have_text("6 / 6")


async def test_a_booking_is_cancelled_and_retyped_from_its_card(start_console: StartConsole) -> None:
    console = await start_console()
    page = await open_week(console)

    await cell(page, D2, "13:00").get_by_role("button", name="Khalid Al-Harbi").click()
    card = page.get_by_role("dialog", name="Khalid Al-Harbi")
    await card.get_by_label("Type").select_option(label="Follow-up")
    await card.get_by_role("button", name="Change the type").click()
    await expect(card).to_be_hidden()
    await expect(cell(page, D2, "13:00").locator(".booking.type-1")).to_have_text("Khalid Al-Harbi")
    assert await active(console, KHALID) == [(D2, "13:00", 1)]

    await cell(page, D2, "13:00").get_by_role("button", name="Khalid Al-Harbi").click()
    await card.get_by_role("button", name="Cancel the booking").click()
    await expect(cell(page, D2, "13:00").locator(".board-count")).to_have_text("0 / 6")
    assert await active(console, KHALID) == []


async def test_days_closed_from_the_week_and_undone_from_the_history(start_console: StartConsole) -> None:
    console = await start_console()
    page, colleague = await open_week(console), await open_week(console)
    await colleague.evaluate("window.notReloaded = true")

    await page.get_by_role("checkbox", name="Select 7 Dec 2026").check()
    await page.get_by_role("button", name="Close selected days").click()
    dialog = page.get_by_role("dialog", name="Close days")
    await expect(dialog.locator("#close-days")).to_have_text(D2)
    await dialog.get_by_label("Title").fill("Staff training")
    await dialog.get_by_role("button", name="Close these days").click()

    await expect(page.locator(f'.board-day[data-date="{D2}"]')).to_have_attribute("data-status", "vacation")
    await expect(page.locator(".board-closed-row")).to_contain_text("Staff training")
    await expect(colleague.locator(f'.board-day[data-date="{D2}"]')).to_have_attribute("data-status", "vacation")
    assert await active(console, KHALID) == []
    async with console.services.db.reading() as session:
        assert [v.title for v in (await session.scalars(select(Vacation))).all()] == ["Staff training"]

    await page.get_by_role("button", name="History").click()
    history = page.get_by_role("dialog", name="Batch history")
    closing = history.locator('.history-item[data-tool="system_close_days"]')
    await closing.get_by_role("button", name="Undo").click()
    await expect(closing.get_by_role("button", name="Undone")).to_be_disabled()
    await history.get_by_role("button", name="Close").click()
    await expect(page.locator(f'.board-day[data-date="{D2}"]')).to_have_attribute("data-status", "open")
    await expect(colleague.locator(f'.board-day[data-date="{D2}"]')).to_have_attribute("data-status", "open")
    assert await colleague.evaluate("window.notReloaded") is True
    assert await active(console, KHALID) == [(D2, "13:00", 0)]
    async with console.services.db.reading() as session:
        assert (await session.scalars(select(Vacation))).all() == []


async def test_a_change_past_the_limits_waits_for_the_operators_yes(start_console: StartConsole) -> None:
    console = await start_console(limits=EffectLimits.uniform(0))
    page = await open_week(console)
    omar = cell(page, D1, "11:00").get_by_role("button", name="Omar Haddad")

    await omar.drag_to(cell(page, D2, "13:00"))
    ask = page.get_by_role("dialog", name="Confirm this change")
    await expect(ask.locator(".confirm-preview")).to_contain_text("Omar Haddad")
    await ask.get_by_role("button", name="Decline").click()
    await expect(page.locator("#board-status")).to_have_text("Nothing was changed.")
    assert await active(console, OMAR) == [(D1, "11:00", 0)]

    await omar.drag_to(cell(page, D2, "13:00"))
    await ask.get_by_role("button", name="Confirm").click()
    await expect(cell(page, D2, "13:00").locator(".board-count")).to_have_text("2 / 6")
    assert await active(console, OMAR) == [(D2, "13:00", 0)]


async def test_the_week_follows_the_agent_moving_a_day(start_console: StartConsole) -> None:
    console = await start_console()
    console.llm.script(Reply(calls=(Call("system_batch_modify", {"filters": {"dates": [D1]}, "updates": {"new_date": D3}}),)),
                       Reply(f"Done: Sunday {D1} is now on Tuesday {D3}."))
    week = await open_week(console)
    chat = await console.open()
    await choose_conversation(chat, "Calendar", AGENT_NAME)
    await week.evaluate("window.notReloaded = true")

    await send(chat, f"move everyone from {D1} to {D3}")

    await expect(cell(week, D1, "11:00").locator(".board-count")).to_have_text("0 / 6")
    await expect(cell(week, D3, "11:00").locator(".booking")).to_have_text(["فاطمة الزهراني", "Omar Haddad", "Sara Khan"])
    assert await week.evaluate("window.notReloaded") is True


async def test_a_day_closed_elsewhere_shows_on_an_open_week_without_a_booking_changing(
    start_console: StartConsole,
) -> None:
    # No booking on Wednesday: the week hears of the closure itself (`calendar_days_changed`), not of a cancellation.
    console = await start_console()
    week = await open_week(console)
    await week.evaluate("window.notReloaded = true")

    async with httpx2.AsyncClient(base_url=console.url) as http:
        closed = await http.post("/closures", json={"start_date": "2026-12-09", "title": "Inventory"})
    assert closed.json()["status"] == "applied"

    await expect(week.locator('.board-day[data-date="2026-12-09"]')).to_have_attribute("data-status", "vacation")
    await expect(week.locator(".board-closed-row")).to_contain_text("Inventory")
    await expect(cell(week, "2026-12-09", "11:00").get_by_role("button", name="Book 2026-12-09")).to_have_count(0)
    assert await week.evaluate("window.notReloaded") is True


async def test_the_week_in_arabic_reads_right_to_left_in_arabic_words_and_digits(start_console: StartConsole) -> None:
    console = await start_console()
    page = await console.open()
    await page.goto(f"{console.url}/?view=week&date={D1}&lang=ar")
    await expect(page.locator(".board-week")).to_be_visible()

    html = page.locator("html")
    await expect(html).to_have_attribute("dir", "rtl")
    await expect(html).to_have_attribute("lang", "ar")
    await expect(page.locator("#view-week")).to_have_text("الأسبوع")
    await expect(page.locator("#board-today")).to_have_text("اليوم")
    await expect(page.locator("#board-close-days")).to_have_text("إغلاق الأيام المحددة")
    await expect(cell(page, D1, "11:00").locator(".board-count")).to_have_text("٣ / ٦")
    sunday = page.locator(f'.board-day[data-date="{D1}"]')
    await expect(sunday.locator(".board-weekday")).to_have_text("الأحد")
    await expect(sunday.locator(".board-hijri")).to_have_text("٢٦ جمادى الآخرة ١٤٤٨")
    await expect(sunday.locator(".board-day-total")).to_have_text("٣ حجوزات")
    monday = page.locator(f'.board-day[data-date="{D2}"]')
    await expect(monday.locator(".board-day-total")).to_have_text("حجز واحد")
    sunday_box, monday_box = await sunday.bounding_box(), await monday.bounding_box()
    assert sunday_box and monday_box and sunday_box["x"] > monday_box["x"]  # the week runs right to left
    if path := os.environ.get("ARABIC_SCREENSHOT"):
        await page.screenshot(path=path, animations="disabled")

    await page.goto(f"{console.url}/?view=month&date={D1}")  # remembered for this browser
    await expect(html).to_have_attribute("dir", "rtl")
    await expect(page.locator("#board-title")).to_have_text("ديسمبر ٢٠٢٦")
    await page.locator("#language").select_option("en")
    await expect(html).to_have_attribute("dir", "ltr")
    await expect(page.locator("#board-title")).to_have_text("December 2026")
    await expect(page).to_have_url(shown("month", D1))


async def test_a_refusal_in_arabic_is_the_rules_sentence_in_arabic(start_console: StartConsole) -> None:
    console = await start_console()
    for n in range(5):
        await console.services.customers.ensure(f"96650222000{n}", f"Filler {n}")
        await console.services.reservations.reserve(f"96650222000{n}", D3, "15:00", source=BookingSource.OPERATOR)
    page = await console.open()
    await page.goto(f"{console.url}/?view=week&date={D1}&lang=ar")

    await cell(page, D1, "11:00").get_by_role("button", name="Omar Haddad").drag_to(cell(page, D3, "15:00"))
    status = page.locator("#board-status")
    await expect(status).to_have_attribute("data-kind", "error")
    await expect(status).to_have_text(DomainError("slot_full").message(ar=True))
    assert await active(console, OMAR) == [(D1, "11:00", 0)]


async def test_on_a_phone_the_tabs_show_the_agent_the_calendar_and_the_chats_one_at_a_time(
    start_console: StartConsole,
) -> None:
    console = await start_console()
    page = await console.open(width=390, height=844)
    tabs = page.get_by_role("navigation", name="Sections")
    await expect(tabs).to_be_visible()
    await expect(page.locator("#composer-input")).to_be_visible()
    await expect(page.locator(".sidebar")).to_be_hidden()

    await tabs.get_by_role("button", name="Calendar").click()
    await expect(page).to_have_url(re.compile(r"\?view=week&date=2026-12-01"))
    await expect(page.locator("#composer-input")).to_be_hidden()
    await page.get_by_role("button", name="Next").click()
    await expect(page.locator("#board-title")).to_have_text("Week of 6 Dec 2026")  # its Sunday, whatever the day
    first = cell(page, D1, "11:00")
    await expect(first.locator(".board-count")).to_have_text("3 / 6")
    box = await first.bounding_box()
    assert box is not None and box["y"] + box["height"] < 844  # on the first screen
    if path := os.environ.get("PHONE_SCREENSHOT"):
        await page.screenshot(path=path, animations="disabled")

    await tabs.get_by_role("button", name="Chats").click()
    await expect(page.locator(".sidebar")).to_be_visible()
    await expect(page.locator(".board-panel")).to_be_hidden()
    await page.locator(".recent-item").filter(has_text="Sara Khan").click()
    await expect(page.locator("#conversation-title")).to_have_text("Sara Khan")
    await expect(page.locator(".sidebar")).to_be_hidden()
    await tabs.get_by_role("button", name="Agent").click()
    await expect(page.locator("#conversation-title")).to_have_text(AGENT_NAME)


async def test_hours_closed_on_an_open_day_show_the_closures_title_and_take_no_booking(
    start_console: StartConsole,
) -> None:
    console = await start_console()
    async with httpx2.AsyncClient(base_url=console.url) as http:
        closed = await http.post("/closures", json={"start_date": D2, "title": "Staff meeting", "from_time": "13:00",
                                                   "to_time": "15:00"})
    assert closed.json()["status"] == "applied"
    page = await open_week(console)

    meeting = cell(page, D2, "13:00")
    await expect(meeting).to_have_class(has_class("board-shut"))
    await expect(meeting.locator(".board-shut-note")).to_have_text("Staff meeting")
    await expect(meeting.get_by_role("button", name=f"Book {D2}")).to_have_count(0)
    await expect(page.locator(f'.board-day[data-date="{D2}"]')).to_have_attribute("data-status", "open")
    await expect(cell(page, D2, "11:00").get_by_role("button", name=f"Book {D2}")).to_have_count(1)
    assert await active(console, KHALID) == []  # his 13:00 was in the closed hours


async def test_what_another_page_drops_on_the_calendar_moves_nothing(start_console: StartConsole) -> None:
    # A page in another window can start a drag carrying any data, even our type with a booking's id in it.
    console = await start_console()
    page = await open_week(console)
    khalid = await cell(page, D2, "13:00").get_by_role("button", name="Khalid Al-Harbi").get_attribute(
        "data-reservation-id")
    await page.evaluate("""() => {
        window.batchCalls = 0;
        const fetched = window.fetch;
        window.fetch = (url, options) => {
            if (String(url).startsWith("/batches")) window.batchCalls += 1;
            return fetched(url, options);
        };
    }""")
    foreign = await page.evaluate_handle("""(id) => {
        const data = new DataTransfer();
        data.setData("application/x-booking", JSON.stringify({ id: Number(id), date: "2026-12-07", slot: "13:00" }));
        data.setData("text/plain", id);
        return data;
    }""", khalid)
    target = cell(page, D1, "11:00")
    await target.dispatch_event("dragover", {"dataTransfer": foreign})
    await target.dispatch_event("drop", {"dataTransfer": foreign})  # the handler runs within the dispatch

    assert await page.evaluate("window.batchCalls") == 0
    assert await active(console, KHALID) == [(D2, "13:00", 0)]
    await cell(page, D1, "11:00").get_by_role("button", name="Omar Haddad").drag_to(cell(page, D2, "13:00"))
    await expect(cell(page, D2, "13:00").locator(".board-count")).to_have_text("2 / 6")  # a drag of its own still moves
    assert await page.evaluate("window.batchCalls") == 1


async def test_a_customer_is_found_for_a_booking_by_a_name_written_in_the_other_script(start_console: StartConsole) -> None:
    console = await start_console()
    await console.services.customers.ensure("966501110010", "نورة القحطاني")
    page = await open_week(console)

    await cell(page, D3, "11:00").get_by_role("button", name=f"Book {D3}").click()
    dialog = page.get_by_role("dialog", name="Book a slot")
    box = dialog.get_by_role("combobox", name="Customer")
    await box.fill("Noura Alqahtani")
    option = dialog.get_by_role("option").filter(has_text="نورة القحطاني")
    await option.click()
    await expect(box).to_have_value("نورة القحطاني")
    await dialog.get_by_role("button", name="Book").click()

    await expect(cell(page, D3, "11:00").locator(".booking")).to_have_text(["نورة القحطاني"])
    assert await active(console, "966501110010") == [(D3, "11:00", 0)]


async def test_undoing_a_batch_that_told_a_customer_asks_the_operator_first(start_console: StartConsole) -> None:
    console = await start_console()
    page = await open_week(console)
    await cell(page, D2, "13:00").get_by_role("button", name="Khalid Al-Harbi").click()
    card = page.get_by_role("dialog", name="Khalid Al-Harbi")
    await card.get_by_label("Tell the customer on WhatsApp").check()
    await card.get_by_role("button", name="Cancel the booking").click()
    await expect(cell(page, D2, "13:00").locator(".board-count")).to_have_text("0 / 6")

    await page.get_by_role("button", name="History").click()
    history = page.get_by_role("dialog", name="Batch history")
    cancelled = history.locator('.history-item[data-tool="system_batch_cancel"]')
    await expect(cancelled.locator(".history-counts")).to_contain_text("messaged: 1")
    await cancelled.get_by_text("What it changed").click()
    await expect(cancelled.locator(".history-messaged")).to_have_attribute("data-wa-id", KHALID)
    await expect(cancelled.locator(".history-messaged")).to_contain_text("Khalid Al-Harbi · cancelled")
    await cancelled.get_by_role("button", name="Undo").click()
    ask = page.get_by_role("dialog", name="Confirm this change")
    await expect(ask.locator(".confirm-message")).to_contain_text("notified 1 customer")
    assert await active(console, KHALID) == []
    await ask.get_by_role("button", name="Confirm").click()
    await expect(cancelled.get_by_role("button", name="Undone")).to_be_disabled()
    assert await active(console, KHALID) == [(D2, "13:00", 0)]
