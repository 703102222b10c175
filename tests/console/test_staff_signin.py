"""Staff sign-in in real Chromium against the service as `serve` builds it: the sign-in form, a refusal in the page's
language, the signed-in name and role in the header, an HttpOnly cookie no script reads, sign-out; a viewer's
console without write controls, whose change the server refuses anyway; an admin's audit log and staff list."""

from __future__ import annotations

from playwright.async_api import Locator, Page, expect
from sqlalchemy import select

from domain.staff.audit import AuditEvent
from domain.storage.models import Reservation, StaffSession
from tests.console.conftest import AGENT_NAME, D1, FATIMA, Console, StartConsole, choose_conversation

PASSWORD = "correct horse battery"
STAFF = (("amal", "admin", "Amal Saleh"), ("omar", "operator", "Omar Haddad"), ("vera", "viewer", "Vera Nasser"))
WRONG = "The username or password is wrong, or the account is disabled."
WRONG_AR = "اسم المستخدم أو كلمة المرور غير صحيحة، أو الحساب معطّل."


async def staffed_console(start_console: StartConsole) -> Console:
    console = await start_console()
    for username, role, name in STAFF:
        await console.services.staff.add(username, role, PASSWORD, name)
    return console


def sign_in_dialog(page: Page) -> Locator:
    return page.locator("#login")


async def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    dialog = sign_in_dialog(page)
    await dialog.locator("#login-username").fill(username)
    await dialog.locator("#login-password").fill(password)
    await dialog.locator("#staff-login button[type=submit]").click()


async def signed_in_page(console: Console, username: str, path: str = "/") -> Page:
    page = await console.open(signed_in=False)
    if path != "/":
        await page.goto(f"{console.url}{path}")
    await sign_in(page, username)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    return page


async def test_a_staff_member_signs_in_sees_their_name_and_role_and_signs_out(start_console: StartConsole) -> None:
    console = await staffed_console(start_console)
    page = await console.open(signed_in=False)
    dialog = page.get_by_role("dialog", name="Sign in to the operator console")
    await expect(dialog.get_by_label("Username")).to_be_visible()
    await expect(dialog.get_by_label("Operator token")).to_be_hidden()

    await dialog.get_by_label("Username").fill("omar")
    await dialog.get_by_label("Password").fill("a wrong guess")
    await dialog.get_by_role("button", name="Sign in").click()
    await expect(dialog.get_by_role("alert")).to_have_text(WRONG)
    await dialog.get_by_label("Password").fill(PASSWORD)
    await dialog.get_by_role("button", name="Sign in").click()

    await expect(dialog).to_be_hidden()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    await expect(page.locator("#conversation-title")).to_have_text(AGENT_NAME)
    await expect(page.locator("#who-name")).to_have_text("Omar Haddad")
    await expect(page.locator("#who-role")).to_have_text("Operator")
    await expect(page.locator("#open-audit")).to_be_hidden()
    [cookie] = await page.context.cookies()
    assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == ("calendar_session", True, "Strict")
    assert await page.evaluate("document.cookie") == ""
    await page.reload()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    await expect(dialog).to_be_hidden()

    await page.get_by_role("button", name="Sign out").click()
    await expect(dialog.get_by_label("Username")).to_be_visible()
    assert await page.context.cookies() == []
    async with console.services.db.reading() as session:
        ended = list(await session.scalars(select(StaffSession.ended_at)))
    assert len(ended) == 1 and ended[0] is not None


async def test_a_viewers_console_hides_its_write_controls_and_the_server_refuses_a_change(
        start_console: StartConsole) -> None:
    console = await staffed_console(start_console)
    page = await signed_in_page(console, "vera", f"/?view=week&date={D1}")
    await expect(page.locator("#who-role")).to_have_text("Viewer")
    await expect(page.locator(".board-week")).to_be_visible()
    await expect(page.locator(".booking").first).to_be_visible()
    assert await page.locator(".board-book").count() > 0
    await expect(page.locator(".board-book:visible, .board-select:visible, #board-close-days:visible")).to_have_count(0)
    await expect(page.locator(".waitlist-add")).to_be_hidden()

    await page.locator(".booking").first.click()
    sheet = page.locator("#booking-dialog")
    await expect(sheet).to_be_visible()
    await expect(sheet.get_by_role("button", name="Cancel the booking")).to_be_hidden()
    await expect(sheet.get_by_role("button", name="Change the type")).to_be_hidden()
    reservation_id = int(await page.locator(".booking").first.get_attribute("data-reservation-id") or 0)
    status = await page.evaluate("""(id) => fetch("/batches/cancel", {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({requests: [{reservation_id: id}]})})
        .then((r) => r.status)""", reservation_id)
    assert status == 403
    async with console.services.db.reading() as session:
        assert await session.scalar(select(Reservation.status).where(Reservation.id == reservation_id)) == "active"


async def test_a_viewer_may_ask_the_agent_but_not_write_to_a_customer(start_console: StartConsole) -> None:
    console = await staffed_console(start_console)
    page = await signed_in_page(console, "vera")
    box = page.get_by_role("textbox", name="Message")
    await expect(box).to_be_enabled()

    await choose_conversation(page, FATIMA[-7:], "فاطمة الزهراني")

    await expect(box).to_be_disabled()
    await expect(box).to_have_attribute("placeholder", "Your role reads only: ask the agent, or an operator, to change things.")


async def test_an_admin_reads_the_audit_log_newest_first_with_refusals_marked_and_the_staff(
        start_console: StartConsole) -> None:
    console = await staffed_console(start_console)
    for n in range(55):
        await console.services.audit.record(AuditEvent("operator:omar", f"http POST /waitlist/{n}", target="/waitlist"))
    viewer = await signed_in_page(console, "vera")
    assert await viewer.evaluate("""() => fetch("/closures", {method: "POST", headers: {"Content-Type":
        "application/json"}, body: JSON.stringify({start_date: "2026-12-20", end_date: "2026-12-31", title: "x"})})
        .then((r) => r.status)""") == 403
    page = await signed_in_page(console, "amal")
    await expect(page.locator("#who-role")).to_have_text("Admin")

    await page.get_by_role("button", name="Audit log").click()

    panel = page.get_by_role("dialog", name="Audit log")
    lines = panel.locator(".audit-line")
    await expect(lines).to_have_count(50)
    await expect(lines.nth(0)).to_contain_text("amal")
    await expect(lines.nth(0)).to_contain_text("sign-in")
    refused = panel.locator(".audit-refused")
    await expect(refused).to_have_count(1)
    await expect(refused).to_contain_text("vera")
    await expect(refused).to_contain_text("http POST /closures")
    await expect(refused).to_contain_text("Refused")
    await expect(panel.locator(".audit-person")).to_have_text([
        "Amal Saleh (amal) Admin", "Omar Haddad (omar) Operator", "Vera Nasser (vera) Viewer"])
    await panel.get_by_role("button", name="Load more").click()
    await expect(lines).to_have_count(len(await console.services.audit.recent(limit=200)))
    await expect(panel.get_by_role("button", name="Load more")).to_be_hidden()


async def test_the_arabic_sign_in_is_right_to_left_and_refuses_in_arabic(start_console: StartConsole) -> None:
    console = await staffed_console(start_console)
    page = await console.open(signed_in=False)
    await page.goto(f"{console.url}/?lang=ar")
    dialog = sign_in_dialog(page)
    await expect(dialog.get_by_label("اسم المستخدم")).to_be_visible()
    assert await page.evaluate("document.documentElement.dir") == "rtl"

    await sign_in(page, "vera", "a wrong guess")
    await expect(dialog.get_by_role("alert")).to_have_text(WRONG_AR)
    await sign_in(page, "vera")

    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    await expect(page.locator("#who-role")).to_have_text("مشاهد")
