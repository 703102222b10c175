"""The clinic dashboard in real Chromium: the operator opens it, chooses a period, and sees the same numbers
`GET /dashboard` gives, as tiles and bar charts."""

from __future__ import annotations

import os

import httpx2

from playwright.async_api import expect

from tests.console.conftest import D1, D2, D3, StartConsole
from tests.fakes.histories import generated


async def test_the_dashboard_draws_the_periods_numbers_as_charts(start_console: StartConsole) -> None:
    console = await start_console()
    await generated(console.services, count=80, seed=5)
    await console.services.reservations.cancel("966501110005")  # Khalid's booking on D2
    page = await console.open()
    await page.get_by_role("button", name="Dashboard").click()
    dialog = page.get_by_role("dialog", name="Clinic dashboard")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("From").fill("2026-11-01")
    await dialog.get_by_label("to", exact=True).fill("2026-12-31")
    await dialog.get_by_role("button", name="Show").click()


    async with httpx2.AsyncClient(base_url=console.url) as http:
        figures = (await http.get("/dashboard", params={"start": "2026-11-01", "end": "2026-12-31"})).json()
    totals = figures["totals"]
    await expect(dialog.locator('[data-figure="bookings"] dd')).to_have_text(str(totals["bookings"]))
    share = round(totals["cancelled_share"] * 100)
    await expect(dialog.locator('[data-figure="cancelled"] dd')).to_have_text(f"{totals['cancelled']} ({share}%)")
    await expect(dialog.locator('[data-figure="new"] dd')).to_have_text(str(figures["customers"]["new"]))
    await expect(dialog.locator('[data-figure="returning"] dd')).to_have_text(str(figures["customers"]["returning"]))

    days = dialog.locator("svg.dash-chart g[data-date]")
    await expect(days).to_have_count(61)
    for day in (D1, D2, D3):
        shown = next(d for d in figures["days"] if d["date"] == day)
        bar = dialog.locator(f'svg.dash-chart g[data-date="{day}"]')
        await expect(bar).to_have_attribute("data-bookings", str(sum(shown["by_type"].values())))
        await expect(bar).to_have_attribute("data-cancelled", str(shown["cancelled"]))
    assert await dialog.locator(f'svg.dash-chart g[data-date="{D2}"] rect').count() >= 1  # Khalid, cancelled

    busiest = dialog.locator('[data-chart="busiest"] li')
    await expect(busiest).to_have_count(len(figures["busiest_slots"]))
    top = figures["busiest_slots"][0]
    await expect(busiest.first).to_have_attribute("data-label", f"{top['weekday']} {top['time_slot']}")
    await expect(busiest.first.locator(".dash-bar-count")).to_have_text(str(top["bookings"]))
    if path := os.environ.get("DASHBOARD_SCREENSHOT"):
        await page.screenshot(path=path, animations="disabled")
