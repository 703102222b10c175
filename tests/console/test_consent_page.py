"""The OAuth consent page in real Chromium, on the service as `serve` builds it: a person who is not signed in
signs in on the page, sees the application and where it sends them back, approves, and their browser goes back to
the application with a code; in Arabic the page reads right to left."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
from playwright.async_api import Browser, Page, Route, expect

from tests.console.conftest import StartService

PASSWORD = "correct horse battery"
CALLBACK = "http://127.0.0.1:3030/callback"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


async def authorization_url(url: str) -> str:
    """A client registered as "Test client", and the address it sends its person to."""
    async with httpx2.AsyncClient() as http:
        client = (await http.post(f"{url}/register", json={"client_name": "Test client",
                                                           "redirect_uris": [CALLBACK]})).json()
    query = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": CALLBACK, "state": "st4te",
             "code_challenge": CHALLENGE, "code_challenge_method": "S256", "scope": "calendar.read calendar.write"}
    return f"{url}/authorize?{urlencode(query)}"


async def open_page(browser: Browser, locale: str, errors: list[str]) -> tuple[Page, list[str]]:
    """A fresh browser context in `locale`; the application's callback answers with a blank page, and the
    addresses it was sent to are collected."""
    context = await browser.new_context(locale=locale)
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    reached: list[str] = []

    async def callback(route: Route) -> None:
        reached.append(route.request.url)
        await route.fulfill(status=200, content_type="text/html", body="<p>back in the application</p>")

    await page.route(f"{CALLBACK}**", callback)
    return page, reached


async def sign_in(page: Page, username: str) -> None:
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def test_a_person_signs_in_on_the_consent_page_approves_and_goes_back_with_a_code(
        start_service: StartService, browser: Browser) -> None:
    service = await start_service(model=False)
    await service.services.staff.add("amal", "operator", PASSWORD)
    errors: list[str] = []
    page, reached = await open_page(browser, "en-GB", errors)
    await page.goto(await authorization_url(service.url))
    await expect(page.get_by_text("Test client asks to use the clinic calendar. Sign in to answer.")).to_be_visible()
    await sign_in(page, "amal")
    await expect(page.get_by_text("Test client asks to use the clinic calendar as amal.")).to_be_visible()
    await expect(page.locator("#redirect-host")).to_have_text("127.0.0.1:3030")
    await expect(page.get_by_role("checkbox", name="Change the calendar", exact=False)).to_be_checked()
    await page.get_by_role("button", name="Approve").click()
    await page.wait_for_url(f"{CALLBACK}**")
    query: dict[str, Any] = parse_qs(urlsplit(reached[0]).query)
    assert query["state"] == ["st4te"] and len(query["code"][0]) > 30
    assert errors == []


async def test_a_viewer_is_told_they_grant_reading_only(start_service: StartService, browser: Browser) -> None:
    service = await start_service(model=False)
    await service.services.staff.add("huda", "viewer", PASSWORD)
    errors: list[str] = []
    page, _ = await open_page(browser, "en-GB", errors)
    await page.goto(await authorization_url(service.url))
    await sign_in(page, "huda")
    await expect(page.get_by_text("As a viewer you can grant reading only")).to_be_visible()
    await expect(page.get_by_role("checkbox", name="Change the calendar", exact=False)).to_be_disabled()
    await expect(page.get_by_role("checkbox", name="Read the calendar", exact=False)).to_be_checked()
    assert errors == []


async def test_the_arabic_consent_page_reads_right_to_left(start_service: StartService, browser: Browser) -> None:
    service = await start_service(model=False)
    await service.services.staff.add("amal", "operator", PASSWORD)
    errors: list[str] = []
    page, _ = await open_page(browser, "ar-SA", errors)
    await page.goto(await authorization_url(service.url))
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.get_by_role("heading", name="تفويض تطبيق")).to_be_visible()
    await expect(page.get_by_role("button", name="تسجيل الدخول")).to_be_visible()
    assert errors == []
