"""A booking's history in its dialog, in real Chromium against the service as `serve` builds it: who made the booking
and who changed it since, each step with when, in the page's language."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page, expect

from tests.conftest import FixedClock
from tests.console.conftest import D2, Console, StartConsole


async def booking_card(console: Console, page: Page) -> None:
    await page.goto(f"{console.url}/?view=week&date={D2}")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    await page.locator(f'.board-cell[data-date="{D2}"][data-slot="13:00"]').get_by_role(
        "button", name="Khalid Al-Harbi").click()


async def test_the_booking_dialog_lists_who_made_the_booking_and_who_changed_it(start_console: StartConsole,
                                                                                clock: FixedClock) -> None:
    console = await start_console()
    page = await console.open()
    await booking_card(console, page)
    card = page.get_by_role("dialog", name="Khalid Al-Harbi")
    steps = card.locator(".booking-history-step")
    await expect(steps).to_have_count(1)
    await expect(steps.first).to_have_attribute("data-by", "customer")
    await expect(steps.first).to_contain_text("Booked")
    await expect(steps.first.locator(".booking-history-author")).to_have_text("Customer Khalid Al-Harbi")

    clock.now += timedelta(minutes=5)
    await card.get_by_label("Type").select_option(label="Follow-up")
    await card.get_by_role("button", name="Change the type").click()
    await expect(card).to_be_hidden()
    await page.locator(f'.board-cell[data-date="{D2}"][data-slot="13:00"]').get_by_role(
        "button", name="Khalid Al-Harbi").click()

    await expect(steps).to_have_count(2)
    await expect(steps.nth(1)).to_have_attribute("data-action", "modified")
    await expect(steps.nth(1)).to_contain_text("2026-12-01 10:05 Changed · 2026-12-07 13:00")
    await expect(steps.nth(1).locator(".booking-history-author")).to_have_text("Operator")


async def test_the_history_reads_in_arabic(start_console: StartConsole) -> None:
    console = await start_console()
    page = await console.open()
    await page.goto(f"{console.url}/?view=week&date={D2}&lang=ar")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    await page.locator(f'.board-cell[data-date="{D2}"][data-slot="13:00"] .booking').click()
    step = page.locator("#booking-dialog .booking-history-step")
    await expect(step).to_contain_text("حُجز")
    await expect(step.locator(".booking-history-author")).to_have_text("العميل Khalid Al-Harbi")
