"""The console's notices panel in real Chromium: an operator asks the system agent to cancel a day and tell
everyone; the panel shows how far each notice got and which one failed, as WhatsApp's statuses arrive; and the
notices whose send is unsure wait there for the operator's decision."""

from __future__ import annotations

import os
from datetime import timedelta

from playwright.async_api import expect

from domain.config import ClinicConfig
from domain.storage.database import Database
from domain.notices.plans import NoticePlan, PlannedNotice
from domain.notices.templates import NoticePurpose
from domain.notices.outbox import STATUSES, queue_notices
from domain.services import build_services
from tests.conftest import FixedClock
from tests.console.conftest import D1, OMAR, SARA, StartConsole, send
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


async def test_the_operator_sends_one_unsure_notice_again_and_dismisses_the_other(
    start_console: StartConsole, db: Database, clock: FixedClock
) -> None:
    # Before this start, a sender began both sends and died: nothing says whether WhatsApp has them.
    outbox = build_services(ClinicConfig(), db, clock).outbox
    plan = NoticePlan([PlannedNotice(w, NoticePurpose.NOTICE, "en", (), "The clinic opens at noon on Sunday.", None)
                       for w in (SARA, OMAR)])
    async with db.unit_of_work() as session:
        await queue_notices(session, outbox.config, plan, None, clock())
    claimed, _ = await outbox.claim("dead", 10)
    assert [await outbox.attempt(n.id, "dead") for n in claimed] == [True, True]
    clock.now += timedelta(minutes=1)

    console = await start_console()
    console.graph.webhook_url = f"{console.url}/webhook"
    page = await console.open()
    unsure = page.locator("#notice-unsure")
    await expect(unsure.locator(".notice-unsure-item")).to_have_count(2)  # the restarted sender sent neither
    sara = unsure.locator(f'.notice-unsure-item[data-wa-id="{SARA}"]')
    await expect(sara).to_contain_text("Sara Khan")
    await expect(sara).to_contain_text("The clinic opens at noon on Sunday.")

    await sara.locator(".notice-resend").click()
    await expect(sara).to_have_count(0)
    await console.graph.wait_for_posted(2)  # sent and delivered
    await unsure.locator(f'.notice-unsure-item[data-wa-id="{OMAR}"] .notice-dismiss').click()
    await expect(unsure).to_be_hidden()
    assert [m.to for m in console.graph.sent] == [SARA]
    assert (await console.services.notice_reports.stats()).model_dump() == {
        "total": 2, "by_status": {**dict.fromkeys(STATUSES, 0), "delivered": 1, "dismissed": 1}, "failures": [],
        "unsure": []}
