"""The console's waitlist panel in real Chromium: the place offered right now and who waits, an operator adding a
customer (and reading the service's refusal), removing an entry, and the panel in Arabic."""

from __future__ import annotations

from datetime import date

from playwright.async_api import Page, expect

from tests.console.conftest import D1, KHALID, LAYLA, Console, StartConsole


async def offered_to_layla(console: Console) -> None:
    """Layla waits for 13:00 on D1, which has room: the place is offered to her."""
    await console.services.waitlist.join(LAYLA, D1, D1, ["13:00"], author="customer")
    assert await console.services.waitlist.days_changed({date.fromisoformat(D1)}) == 1


async def add(page: Page, wa_id: str, start: str, end: str, times: str = "") -> None:
    form = page.locator("#waitlist form")
    await form.locator('input[name="wa_id"]').fill(wa_id)
    await form.locator('input[name="start_date"]').fill(start)
    await form.locator('input[name="end_date"]').fill(end)
    await form.locator('input[name="times"]').fill(times)
    await form.locator('button[type="submit"]').click()


async def test_the_panel_shows_offers_adds_refuses_and_removes(start_console: StartConsole) -> None:
    console = await start_console()
    await offered_to_layla(console)
    page = await console.open()
    panel = page.locator("#waitlist")
    offer = panel.locator(f'.waitlist-offer[data-wa-id="{LAYLA}"]')
    await expect(offer).to_contain_text("ليلى العتيبي")
    await expect(offer).to_contain_text(f"{D1} 13:00, wave 1, held until 10:15")

    await add(page, KHALID, "2026-12-08", "2026-12-07")
    await expect(panel.locator(".waitlist-error")).to_have_text(
        "The start date 2026-12-08 is after the end date 2026-12-07.")
    await add(page, KHALID, D1, "2026-12-08", "11:00, 3:00 PM")
    khalid = panel.locator(f'.waitlist-entry[data-wa-id="{KHALID}"]')
    await expect(khalid).to_contain_text("Khalid Al-Harbi")
    await expect(khalid).to_contain_text(f"{D1} to 2026-12-08")
    await expect(khalid).to_contain_text("11:00, 15:00 · any type · by an operator")
    await expect(panel.locator(".waitlist-error")).to_have_text("")

    await khalid.locator(".waitlist-remove").click()
    await expect(khalid).to_have_count(0)
    assert [e.wa_id for e in (await console.services.waitlist.listing()).entries] == [LAYLA]


async def test_the_panel_reads_in_arabic(start_console: StartConsole) -> None:
    console = await start_console()
    await offered_to_layla(console)
    page = await console.open()
    await page.goto(f"{console.url}/?lang=ar")
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    panel = page.locator("#waitlist")
    await expect(panel.locator(".waitlist-title")).to_have_text("قائمة الانتظار")
    await expect(panel).to_have_attribute("aria-label", "قائمة الانتظار")
    await expect(panel.locator(".waitlist-offer")).to_contain_text("الدفعة ١، محجوز حتى 10:15")
    await expect(panel.locator(".waitlist-entry")).to_contain_text("13:00 · أي نوع · من العميل")
    await expect(panel.locator('button[type="submit"]')).to_have_text("إضافة إلى قائمة الانتظار")
