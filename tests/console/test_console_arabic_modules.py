"""The console in Arabic (`?lang=ar`) in real Chromium: what an Arabic-speaking receptionist reads from the
conversation, the header and recent list, the calendar strip, the confirmation card and the dashboard; and the
avatars' initials of Arabic names, which must not join into one ligature."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from domain.system_agent.effects import EffectLimits
from tests.console.conftest import D1, D3, FATIMA, LAYLA, Console, StartConsole, day_total
from tests.fakes.llm import Call, Reply

ZWNJ = "\u200c"
ARABIC = re.compile("[\u0600-\u06ff]")
MOVE = Call("system_batch_modify", {"filters": {"dates": [D1]}, "updates": {"new_date": D3}})


async def open_in_arabic(console: Console) -> Page:
    """A signed-in page on the console, reloaded as `?lang=ar` (remembered for its browser context)."""
    page = await console.open()
    await page.goto(f"{console.url}/?lang=ar")
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    return page


async def write(page: Page, text: str) -> None:
    box = page.locator("#composer-input")
    await box.fill(text)
    await box.press("Enter")


async def test_the_agents_header_and_recent_line_are_in_arabic(start_console: StartConsole) -> None:
    page = await open_in_arabic(await start_console())

    await expect(page.locator("#conversation-kind")).to_have_text("المساعد الذكي")
    await expect(page.locator("#conversation-sub")).to_contain_text("داخلي: لا تُرسَل الرسائل إلى واتساب أبدًا")
    agent = page.locator("#recent-list .recent-item").filter(has=page.locator(".avatar-agent"))
    await expect(agent.locator(".option-sub")).to_have_text("مساعد التقويم الذكي")


async def test_an_arabic_names_initials_skip_the_article_and_stay_apart(start_console: StartConsole) -> None:
    page = await open_in_arabic(await start_console())

    avatar = page.locator(f'#recent-list [data-wa-id="{LAYLA}"] .avatar')

    await expect(avatar).to_have_text(f"ل{ZWNJ}ع")
    assert await avatar.evaluate("element => element.textContent") == f"ل{ZWNJ}ع"


async def test_initials_of_arabic_and_latin_names(start_console: StartConsole) -> None:
    page = await (await start_console(model=False)).open()

    found = await page.evaluate("""async () => {
        const { initials } = await import("/static/dom.js");
        return ["ليلى العتيبي", "فاطمة الزهراني", "Khalid Al-Harbi", "omar haddad", "ليلى", "العتيبي", "الي", ""]
            .map((name) => initials(name, "966501110004"));
    }""")

    assert found == [f"ل{ZWNJ}ع", f"ف{ZWNJ}ز", "KA", "OH", "ل", "ع", "ا", "04"]


async def test_a_customers_conversation_reads_in_arabic(start_console: StartConsole) -> None:
    page = await open_in_arabic(await start_console())

    await page.locator(f'#recent-list [data-wa-id="{FATIMA}"]').click()

    await expect(page.locator("#conversation-title")).to_have_text("فاطمة الزهراني")
    await expect(page.locator("#conversation-kind")).to_have_text("العميل")
    await expect(page.locator("#conversation-sub")).to_have_text(f"+{FATIMA} · واتساب")
    await expect(page.locator('[data-role="user"] .msg-author')).to_have_text("فاطمة الزهراني")  # a name is data
    await expect(page.locator('[data-role="assistant"] .msg-author')).to_have_text("المساعد")
    await expect(page.locator("#composer-input")).to_have_attribute("placeholder", ARABIC)


async def test_a_message_sent_to_a_customer_shows_its_author_and_delivery_in_arabic(
    start_console: StartConsole,
) -> None:
    console = await start_console()
    page = await open_in_arabic(console)
    await page.locator(f'#recent-list [data-wa-id="{FATIMA}"]').click()
    await expect(page.locator("#conversation-kind")).to_have_text("العميل")

    await write(page, "نراك يوم الأحد الساعة 11:00.")

    sent = page.locator('[data-role="secretary"]').last
    await expect(sent.locator("[data-delivery]")).to_have_text("أُرسلت")
    await expect(sent.locator(".msg-author")).to_have_text("موظف الاستقبال")
    assert console.graph.texts_to(FATIMA) == ["نراك يوم الأحد الساعة 11:00."]


async def test_the_calendar_strip_shows_hijri_months_and_counts_in_arabic(start_console: StartConsole) -> None:
    page = await open_in_arabic(await start_console())
    day = page.locator(f'.day[data-date="{D1}"]')

    await expect(day.locator(".day-hijri")).to_contain_text("جمادى")
    await expect(day_total(page, D1)).to_have_text("٣ حجوزات")
    await expect(day.locator('[data-slot="11:00"] .slot-count')).to_have_text("٣ / ٦")
    await expect(page.locator("#calendar-caption")).to_have_text("الأيام السبعة القادمة")


async def test_a_confirmation_card_asks_and_answers_in_arabic(start_console: StartConsole) -> None:
    console = await start_console(limits=EffectLimits.uniform(2))
    console.llm.script(Reply(calls=(MOVE,)), Reply("Understood: nothing was moved."))
    page = await open_in_arabic(console)

    await write(page, f"انقل جميع مواعيد {D1} إلى {D3}")
    card = page.locator(".confirm-card")
    await expect(card.locator("h3")).to_have_text("يلزم تأكيدك")
    await expect(card.locator('[data-preview="reservations"]')).to_have_text("٣")
    await expect(card.locator('[data-preview="days"] li').first).to_have_text(re.compile(r"^الأحد، ٦ ديسمبر ٢٠٢٦ \(٣\)$"))
    await expect(card.get_by_role("button", name="تأكيد")).to_be_enabled()
    await card.get_by_role("button", name="إلغاء").click()

    await expect(card).to_have_attribute("data-state", "declined")
    await expect(card.locator(".confirm-state")).to_have_text("أُلغي: لم يتغيّر شيء.")
    await expect(day_total(page, D1)).to_have_text("٣ حجوزات")


async def test_the_dashboard_labels_its_figures_in_arabic(start_console: StartConsole) -> None:
    page = await open_in_arabic(await start_console())

    await page.locator("#open-dashboard").click()

    dialog = page.locator("#dashboard")
    await expect(dialog.locator('[data-figure="bookings"] dt')).to_have_text("الحجوزات")
    await expect(dialog.locator('[data-figure="bookings"] dd')).to_have_text("٥")
    await expect(dialog.locator('[data-figure="new"] dt')).to_have_text("عملاء جدد")
    await expect(dialog.locator(".dash-section h3").first).to_have_text("الحجوزات يوميًا")
    await expect(dialog.locator('[data-chart="busiest"] li').first).to_have_attribute("data-label", "الأحد 11:00")
