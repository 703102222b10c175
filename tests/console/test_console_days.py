"""Which days the calendar strip shows (`static/days.js`, `static/calendar.js`), run in the browser."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.console.conftest import D1, StartConsole


async def test_only_calendar_dates_count_as_days_a_conversation_touches(start_console: StartConsole) -> None:
    page = await (await start_console(model=False)).open()

    found = await page.evaluate("""async () => (await import("/static/days.js")).daysIn(
        "moved 2026-12-06 to 2026-12-08; stored 2026-12-01T10:00:00+03:00, Hijri 1448-06-26, not 2026-13-01")""")

    assert found == ["2026-12-06", "2026-12-08"]


async def test_the_strip_shows_the_latest_days_mentioned_else_the_coming_week(start_console: StartConsole) -> None:
    page = await (await start_console(model=False)).open()

    shown = await page.evaluate("""async () => {
        const { ConversationDays } = await import("/static/days.js");
        const days = new ConversationDays();
        const empty = days.shown("2026-12-01");
        days.touchMessages([{ text: "2026-12-09 then 2026-12-06", meta: { arguments: { date: "2026-12-07" } } }]);
        days.touch(["2026-12-09"]);
        return { empty: [empty[0], empty.length], touched: days.shown("2026-12-01") };
    }""")

    assert shown == {"empty": ["2026-12-01", 7], "touched": ["2026-12-06", "2026-12-07", "2026-12-09"]}


async def test_days_far_apart_are_fetched_as_separate_ranges(start_console: StartConsole) -> None:
    page = await (await start_console(model=False)).open()

    ranges = await page.evaluate("""async () => (await import("/static/calendar.js")).fetchRanges(
        ["2027-03-01", "2026-12-03", "2026-12-01"])""")

    assert ranges == [{"start": "2026-12-01", "end": "2026-12-03"}, {"start": "2027-03-01", "end": "2027-03-01"}]


async def test_a_slot_is_shown_full_when_the_server_says_no_agent_booking_fits(start_console: StartConsole) -> None:
    console = await start_console(model=False)
    for n in range(2):  # D1 11:00 holds three: five is the AI agents' cap
        await console.services.reservations.reserve(f"96650222000{n}", D1, "11:00")
    page = await console.open()

    full, free = (page.locator(f'.day[data-date="{D1}"] [data-slot="{slot}"]') for slot in ("11:00", "13:00"))

    await expect(full).to_have_class(re.compile(r"\bslot-full\b"))
    await expect(full.locator(".slot-count")).to_have_text("5 / 6")
    await expect(free).not_to_have_class(re.compile(r"\bslot-full\b"))
