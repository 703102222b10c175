"""The confirmation card says, for each customer a batch would notify, how the notice would reach them: as a message
while their 24-hour WhatsApp window is open, else as the approved template; in English and in Arabic."""

from __future__ import annotations

from playwright.async_api import expect

from domain.system_agent.effects import EffectLimits
from tests.console.conftest import D1, D3, StartConsole, send
from tests.console.test_console_arabic_modules import open_in_arabic, write
from tests.fakes.llm import Call, Reply

MOVE = Call("system_batch_modify", {"filters": {"dates": [D1]}, "updates": {"new_date": D3}, "notify": True})


async def test_the_card_names_each_customers_channel(start_console: StartConsole) -> None:
    console = await start_console(limits=EffectLimits.uniform(2))
    console.llm.script(Reply(calls=(MOVE,)), Reply("Understood: nothing was moved."))
    page = await console.open()
    await send(page, f"Move every booking of {D1} to {D3} and tell the customers")
    told = page.locator('.confirm-card [data-preview="notices"]')
    await expect(told.locator('li[data-channel="text"]')).to_have_count(1)
    await expect(told.locator('li[data-channel="text"]')).to_contain_text("فاطمة الزهراني")
    await expect(told.locator('li[data-channel="text"]')).to_contain_text("their 24-hour window is open until")
    await expect(told.locator('li[data-channel="template"]')).to_have_count(2)
    await expect(told.locator('li[data-channel="template"]').first).to_contain_text("the approved template")


async def test_the_card_names_each_customers_channel_in_arabic(start_console: StartConsole) -> None:
    console = await start_console(limits=EffectLimits.uniform(2))
    console.llm.script(Reply(calls=(MOVE,)), Reply("Understood: nothing was moved."))
    page = await open_in_arabic(console)
    await write(page, f"انقل جميع مواعيد {D1} إلى {D3} وأخبر العملاء")
    told = page.locator('.confirm-card [data-preview="notices"]')
    await expect(told.locator('li[data-channel="text"]')).to_contain_text("نافذة الـ24 ساعة مفتوحة حتى")
    await expect(told.locator('li[data-channel="template"]').first).to_contain_text("القالب المعتمد")
