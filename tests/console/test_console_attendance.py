"""The front desk's attendance in real Chromium: a day's unmarked bookings marked no-show from the week's day head,
each booking's badge, and a booking's dialog correcting a no-show to an arrival; each checked in the database."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.async_api import expect
from sqlalchemy import select

from domain.storage.models import Reservation
from tests.conftest import FixedClock
from tests.console.conftest import D1, FATIMA, OMAR, SARA, Console, StartConsole

D1_EVENING = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)  # 18:00 in Riyadh: the day's slots have ended


async def marks(console: Console) -> dict[str, tuple[str, str]]:
    async with console.services.db.reading() as session:
        rows = await session.execute(select(Reservation.wa_id, Reservation.status, Reservation.attendance)
                                     .where(Reservation.date == datetime(2026, 12, 6).date()))
        return {r[0]: (str(r[1]), r[2]) for r in rows}


async def test_the_days_unmarked_become_no_shows_and_one_is_corrected_to_arrived(start_console: StartConsole,
                                                                                 clock: FixedClock) -> None:
    console = await start_console()
    clock.now = D1_EVENING
    page = await console.open()
    await page.goto(f"{console.url}/?view=week&date={D1}")
    mark_day = page.locator(f'.board-mark-day[data-date="{D1}"]')
    await expect(mark_day).to_have_text("Unmarked → no-show (3)")
    await mark_day.click()
    await expect(page.locator(f'.board-cell[data-date="{D1}"][data-slot="11:00"] .attendance-badge')).to_have_count(3)
    assert await marks(console) == dict.fromkeys([FATIMA, OMAR, SARA], ("no_show", "booked"))
    await expect(mark_day).to_have_count(0)

    await page.locator(f'.booking[data-wa-id="{FATIMA}"]').click()
    dialog = page.locator("#booking-dialog")
    await expect(dialog.locator(".booking-attendance-status")).to_have_text("Attendance: No-show")
    await dialog.locator('[data-mark="arrived"]').click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator(f'.booking[data-wa-id="{FATIMA}"]')).to_have_attribute("data-attendance", "arrived")
    assert (await marks(console))[FATIMA] == ("active", "arrived")
    assert not console.script_errors
