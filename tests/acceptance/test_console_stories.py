"""Two operator stories in the console, in real Chromium, against `build_service_app` on loopback.

SQLite only and the Anthropic fake only: both databases and both providers are covered by the other stories;
here the subject is what the operator's browser shows.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.acceptance.support import (
    MOHAMMED_ALI, MOHAMMED_SALEH, MONDAY, MONDAY_BOOKINGS, SLOT_FULL, SUNDAY, SUNDAY_BOOKINGS, TUESDAY, Clinic,
    active_on, book, calendar, fill,
)
from tests.console.conftest import browser, db, send  # noqa: F401 (fixtures: Debian's Chromium, SQLite)
from tests.fakes.llm import Call, Reply, ScriptedLLM

SCREENSHOT = os.environ.get("CONSOLE_STORY_SCREENSHOT", "")  # a path: keep a picture of the expanded row
MOVE_SUNDAY_TO_MONDAY = Call("system_batch_modify", {"filters": {"dates": [SUNDAY]}, "updates": {"new_date": MONDAY}})
CANCEL_RANGE = Call("system_batch_cancel", {"filters": {"start_date": SUNDAY, "end_date": TUESDAY}})


@pytest.fixture
def llm(anthropic_api: ScriptedLLM) -> ScriptedLLM:
    return anthropic_api


@pytest.fixture
async def page(clinic: Clinic, browser: Browser) -> AsyncIterator[Page]:  # noqa: F811 (fixture)
    """The console on the service, connected; after the story, the page must not have thrown."""
    script_errors: list[str] = []
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    console = await context.new_page()
    console.on("pageerror", lambda error: script_errors.append(str(error)))
    await console.goto(clinic.url)
    await expect(console.locator("#connection")).to_have_attribute("data-state", "open")
    yield console
    await context.close()
    assert not script_errors, f"the console page threw: {script_errors}"


async def test_an_overflowing_move_shows_the_one_that_stayed_in_its_tool_row(clinic: Clinic, page: Page) -> None:
    await book(clinic.services, MONDAY_BOOKINGS + SUNDAY_BOOKINGS)
    clinic.llm.script(Reply(calls=(MOVE_SUNDAY_TO_MONDAY,)), Reply("Moved 2 of 3; Monday 11:00 is full for the third."))

    await send(page, f"Move everyone from Sunday {SUNDAY} to Monday {MONDAY}")

    await expect(page.locator('[data-role="assistant"]').last).to_contain_text("Monday 11:00 is full")
    stayed = await active_on(clinic.services, SUNDAY)
    [failed] = [person for person, _, _ in SUNDAY_BOOKINGS if person.wa_id in stayed]
    tool = page.locator('details.tool[data-tool="system_batch_modify"]')
    await expect(tool.locator(".tool-outcome")).to_have_text("1 failed")
    await tool.locator("summary").click()
    result = tool.locator(".tool-result")
    await expect(result).to_be_visible()
    for shown in ("slot_full", SLOT_FULL, failed.name):
        await expect(result).to_contain_text(shown)
    if SCREENSHOT:
        await page.screenshot(path=SCREENSHOT)


async def test_a_large_cancellation_confirmed_on_its_card_is_applied(clinic: Clinic, page: Page) -> None:
    await fill(clinic.services, SUNDAY, 25)
    clinic.llm.script(Reply(calls=(CANCEL_RANGE,)), Reply("Cancelled the 25 reservations from Sunday to Tuesday."))

    await send(page, f"Cancel every reservation from {SUNDAY} to {TUESDAY}")
    card = page.locator(".confirm-card")
    await expect(card).to_contain_text("25")
    await card.get_by_role("button", name="Confirm").click()

    await expect(card).to_have_attribute("data-state", "accepted")
    await expect(page.locator('[data-role="assistant"]').last).to_contain_text("Cancelled the 25 reservations")
    assert {b.status for b in await calendar(clinic.services)} == {"cancelled"}


async def test_a_cancel_by_a_fuzzy_name_shows_whom_it_matched_and_a_no_changes_nothing(
        clinic: Clinic, page: Page) -> None:
    await book(clinic.services, [(MOHAMMED_ALI, MONDAY, "11:00"), (MOHAMMED_SALEH, MONDAY, "13:00")])
    clinic.llm.script(Reply(calls=(Call("system_batch_cancel", {"filters": {"search_query": "Mohammed"}}),)),
                      Reply("Nothing was cancelled."))

    await send(page, "Cancel Mohammed's appointment")
    card = page.locator(".confirm-card")
    matched = card.locator('[data-preview="matched"]')
    await expect(matched).to_contain_text(MOHAMMED_ALI.name)
    await expect(matched).to_contain_text(MOHAMMED_SALEH.name)
    await card.get_by_role("button", name="Cancel").click()

    await expect(card).to_have_attribute("data-state", "declined")
    await expect(page.locator('[data-role="assistant"]').last).to_contain_text("Nothing was cancelled.")
    assert len(await active_on(clinic.services, MONDAY)) == 2
