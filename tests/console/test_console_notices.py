"""The console's notices panel in real Chromium: an operator asks the system agent to cancel a day and tell
everyone; the panel shows how far each notice got and which one failed, as WhatsApp's statuses arrive."""

from __future__ import annotations

import os

from playwright.async_api import expect

from tests.console.conftest import D1, SARA, StartConsole, send
from tests.fakes.llm import Call, Reply

CANCEL = Call("system_batch_cancel", {"filters": {"dates": [D1]}, "notify": True})


async def test_the_panel_counts_each_batchs_notices_and_lists_the_failures(start_console: StartConsole) -> None:
    console = await start_console()
    console.graph.approve_defaults()
    console.graph.webhook_url = f"{console.url}/webhook"
    console.graph.undeliverable[SARA] = 131026
    console.llm.script(Reply(calls=(CANCEL,)), Reply(f"Cancelled the 3 reservations of {D1} and told each customer."))
    page = await console.open()
    assert await page.locator("#notices").is_hidden()  # no batch has messaged anyone yet

    await send(page, f"cancel {D1}, the doctor is away, and tell everyone")

    batch = page.locator(".notice-batch").first
    await expect(batch.locator(".notice-batch-tool")).to_have_text("Cancelled")
    await expect(batch.locator('[data-status="delivered"] dd')).to_have_text("2")
    await expect(batch.locator('[data-status="failed"] dd')).to_have_text("1")
    await expect(batch.locator('[data-status="queued"] dd')).to_have_text("0")
    failure = batch.locator(f'.notice-failures li[data-wa-id="{SARA}"]')
    await expect(failure).to_contain_text("Sara Khan")
    await expect(failure).to_contain_text("Message undeliverable")
    tool = page.locator('details[data-tool="system_batch_cancel"]')
    await tool.locator("summary").click()
    await expect(tool.locator(".tool-result")).to_contain_text("WhatsApp notices queued: 3 customer(s)")
    if path := os.environ.get("CONSOLE_SCREENSHOT"):
        await page.screenshot(path=path, animations="disabled")
