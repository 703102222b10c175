"""The MCP Apps views in real Chromium, shown by an ext-apps host (AppBridge) whose tool calls go through the SDK
client to /mcp of the service exactly as `calendar-agent serve` builds it, over the seeded calendar."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import pytest
from playwright.async_api import Browser, FrameLocator, Locator, expect
from sqlalchemy import func, select

from domain.storage.models import Notice, Reservation
from domain.system_agent.effects import EffectLimits
from tests.conftest import PER_CALL
from tests.console.conftest import CUSTOMERS, D1, D3, FATIMA, OMAR, SARA, Service, StartService
from tests.console.mcp_host import McpHost, build_host_page, host_browser, mcp_host

TOKEN = "mcp-apps-host-token"
NEXT_SUNDAY = "2026-12-13"
NOUR, NOUR_NAME, NOUR_DAY = "966501110006", "Nour Saleh", "2026-12-14"  # booked only in the week after D1's
D1_ELEVEN = (FATIMA, OMAR, SARA)  # every booking of D1: cancelling the whole day asks the person first
WHOLE_DAY_CANCEL = {"filters": {"dates": [D1]}}
ASKING = EffectLimits()  # the product's limits: taking every booking off a day asks the person


@dataclass
class Hosted:
    """The service, and the MCP Apps host connected to its /mcp."""

    service: Service
    host: McpHost


class HostFor(Protocol):
    def __call__(self, *, limits: EffectLimits = PER_CALL) -> AbstractAsyncContextManager[Hosted]: ...


@pytest.fixture(scope="session")
def host_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_host_page(tmp_path_factory.mktemp("mcp-host"))


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """The console tests' Chromium, but with each view's frame in the page's process (`host_browser`)."""
    async with host_browser() as chromium:
        yield chromium


@pytest.fixture
def host_for(start_service: StartService, browser: Browser, host_page: Path) -> HostFor:
    """The seeded service with a host page on it, for the test's own `async with` (the SDK client must close in
    the task that opened it); on leaving, no page may have thrown or logged an error, nor a view have asked for a
    tool the listing does not offer it."""
    @asynccontextmanager
    async def hosted(*, limits: EffectLimits = PER_CALL) -> AsyncIterator[Hosted]:
        service = await start_service(limits=limits, model=False, mcp_auth_token=TOKEN)
        async with mcp_host(browser, host_page, service.url, TOKEN) as host:
            yield Hosted(service, host)
            assert not host.script_errors, f"the host or a view threw or logged an error: {host.script_errors}"
            assert await host.refused_calls() == []

    return hosted


def cell(view: FrameLocator, day: str, slot: str) -> Locator:
    return view.locator(f'.board-cell[data-date="{day}"][data-slot="{slot}"]')


async def bookings(service: Service) -> list[tuple[str, str, str]]:
    """Every booking in the database as (wa_id, date, status)."""
    async with service.services.db.reading() as session:
        rows = (await session.execute(select(Reservation.wa_id, Reservation.date, Reservation.status))).all()
    return sorted((wa_id, day.isoformat() if isinstance(day, date) else str(day), status)
                  for wa_id, day, status in rows)


async def screenshot(host: McpHost, variable: str) -> None:
    """The host's views as a PNG when `variable` names an absolute path (how docs/mcp-app-*.png are made)."""
    if path := os.environ.get(variable):
        await host.page.locator("#views").screenshot(path=path, animations="disabled")


async def test_the_week_view_shows_the_asked_weeks_customers_load_and_hijri_dates(host_for: HostFor) -> None:
    async with host_for() as hosted:
        view = await hosted.host.open_view("system_get_reservations", {"dates": [D1]})

        eleven = cell(view, D1, "11:00")
        await expect(eleven.locator(".booking")).to_have_text([CUSTOMERS[FATIMA], CUSTOMERS[OMAR], CUSTOMERS[SARA]])
        await expect(eleven.locator(".board-count")).to_have_text("3 / 6")
        await expect(view.locator(".board-day")).to_have_count(7)
        await expect(view.locator(".board-day").first).to_have_attribute("data-date", D1)
        await expect(view.locator(f'.board-day[data-date="{D1}"]')).to_contain_text("6 Dec 2026")
        hijri = view.locator(f'.board-day[data-date="{D1}"] .board-hijri')
        await expect(hijri).to_have_text("26 Jumada al-Akhirah 1448")
        await screenshot(hosted.host, "MCP_APP_WEEK_SCREENSHOT")


async def test_next_and_previous_week_show_those_weeks(host_for: HostFor) -> None:
    async with host_for() as hosted:
        await hosted.service.services.customers.ensure(NOUR, NOUR_NAME)
        await hosted.service.services.reservations.reserve(NOUR, NOUR_DAY, "13:00")
        view = await hosted.host.open_view("system_get_reservations", {"dates": [D1]})
        await expect(view.locator(".booking", has_text=CUSTOMERS[OMAR])).to_be_visible()

        await view.get_by_role("button", name="Next week").click()
        await expect(view.locator(".board-day").first).to_have_attribute("data-date", NEXT_SUNDAY)
        await expect(cell(view, NOUR_DAY, "13:00").locator(".booking")).to_have_text([NOUR_NAME])
        await expect(view.locator(".booking", has_text=CUSTOMERS[OMAR])).to_have_count(0)

        await view.get_by_role("button", name="Previous week").click()
        await expect(view.locator(".board-day").first).to_have_attribute("data-date", D1)
        await expect(view.locator(".booking", has_text=CUSTOMERS[OMAR])).to_be_visible()
        await expect(view.locator(".booking", has_text=NOUR_NAME)).to_have_count(0)


async def test_an_arabic_host_gets_a_right_to_left_arabic_week(host_for: HostFor) -> None:
    async with host_for() as hosted:
        view = await hosted.host.open_view("system_get_reservations", {"dates": [D1]}, locale="ar-SA")

        await expect(cell(view, D1, "11:00").locator(".booking")).to_have_count(3)
        await expect(view.locator("html")).to_have_attribute("dir", "rtl")
        await expect(view.locator("html")).to_have_attribute("lang", "ar")
        await expect(view.locator(f'.board-day[data-date="{D1}"]')).to_contain_text("الأحد")
        await screenshot(hosted.host, "MCP_APP_ARABIC_SCREENSHOT")


async def open_whole_day_cancel(hosted: Hosted) -> FrameLocator:
    """The model cancels all of D1 under the default limits: the preview asks the person, naming each one."""
    view = await hosted.host.open_view("system_batch_cancel", WHOLE_DAY_CANCEL)
    await expect(view.locator("#view")).to_have_attribute("data-view-state", "pending")
    people = [re.compile(f"{CUSTOMERS[wa_id]}.*cancelled.*{D1} 11:00") for wa_id in D1_ELEVEN]
    await expect(view.locator('[data-preview="people"] li')).to_have_text(people)
    await expect(view.locator('[data-preview="actions"]')).to_have_text("cancelled: 3")
    return view


async def test_declining_the_preview_writes_nothing_and_tells_the_model(host_for: HostFor) -> None:
    async with host_for(limits=ASKING) as hosted:
        before = await bookings(hosted.service)
        view = await open_whole_day_cancel(hosted)

        await view.get_by_role("button", name="Decline").click()
        await expect(view.locator("#view")).to_have_attribute("data-view-state", "declined")
        await expect(hosted.host.model_context()).to_have_text([re.compile("declined.*nothing was written")])
        assert await bookings(hosted.service) == before


async def test_confirming_the_preview_applies_exactly_that_change(host_for: HostFor) -> None:
    async with host_for(limits=ASKING) as hosted:
        before = await bookings(hosted.service)
        view = await open_whole_day_cancel(hosted)
        await screenshot(hosted.host, "MCP_APP_PREVIEW_SCREENSHOT")

        await view.get_by_role("button", name="Confirm").click()
        await expect(view.locator("#view")).to_have_attribute("data-view-state", "applied")
        assert await bookings(hosted.service) == [(wa_id, day, "cancelled" if wa_id in D1_ELEVEN else status)
                                                  for wa_id, day, status in before]


async def test_the_views_make_no_network_request_and_carry_their_csp(host_for: HostFor) -> None:
    """A request the CSP refused would also be a console error, which `host_for` fails on."""
    async with host_for(limits=ASKING) as hosted:
        week = await hosted.host.open_view("system_get_reservations", {"dates": [D1]})
        await week.get_by_role("button", name="Next week").click()
        await expect(week.locator(".board-day").first).to_have_attribute("data-date", NEXT_SUNDAY)
        preview = await open_whole_day_cancel(hosted)

        for view in (week, preview):
            policy = view.locator('meta[http-equiv="Content-Security-Policy"]')
            await expect(policy).to_have_attribute("content", re.compile(r"default-src 'none'"))
            await expect(policy).to_have_attribute("content", re.compile(r"connect-src 'none'"))
            await expect(policy).to_have_attribute("content", re.compile(r"script-src 'sha256-[A-Za-z0-9+/=]+'"))
        assert hosted.host.frame_requests == []


# D1's three move to D3 and are told, but Sara opted out of notices; Omar wrote in English, Fatima in Arabic.
MOVE_AND_TELL = {"filters": {"dates": [D1]}, "updates": {"new_date": D3}, "notify": True}
OMAR_WROTE = "Hello, is my appointment on Sunday still at 11?"
TOLD = {
    "ar": (f"مرحباً {CUSTOMERS[FATIMA]}، قامت the clinic بنقل موعدك من الأحد {D1} الساعة 11:00 إلى الثلاثاء {D3} "
           "الساعة 11:00. ردّ هنا إن لم يناسبك الموعد."),
    "en": (f"Hello {CUSTOMERS[OMAR]}, the clinic has moved your appointment from Sunday {D1} at 11:00 to Tuesday "
           f"{D3} at 11:00. Reply here if that time does not suit you."),
}


async def queued_notices(service: Service) -> int:
    """Every WhatsApp notice the database holds, queued or sent."""
    async with service.services.db.reading() as session:
        return int((await session.execute(select(func.count()).select_from(Notice))).scalar_one())


async def test_a_move_that_tells_customers_previews_who_is_told_the_exact_text_and_who_is_left_out(
    host_for: HostFor,
) -> None:
    async with host_for(limits=ASKING) as hosted:
        await hosted.service.services.customers.set_flags(SARA, notices_opt_out=True)
        await hosted.service.services.conversations.append(OMAR, "user", OMAR_WROTE)
        before, notices_before = await bookings(hosted.service), await queued_notices(hosted.service)
        view = await hosted.host.open_view("system_batch_modify", MOVE_AND_TELL)
        await expect(view.locator("#view")).to_have_attribute("data-view-state", "pending")

        told = view.locator('[data-preview="notices"] li')
        await expect(told).to_have_text([re.compile(CUSTOMERS[FATIMA]), re.compile(CUSTOMERS[OMAR])])
        await expect(view.locator('[data-preview="text"] blockquote')).to_have_count(len(TOLD))
        for language, text in TOLD.items():
            await expect(view.locator(f'[data-preview="text"] blockquote[lang="{language}"]')).to_have_text(text)
        left_out = view.locator('[data-preview="left-out"] li')
        await expect(left_out).to_have_text([f"{CUSTOMERS[SARA]} · opted out of notices"])
        await expect(left_out).to_have_attribute("data-why", "opted_out")

        await view.get_by_role("button", name="Decline").click()
        await expect(view.locator("#view")).to_have_attribute("data-view-state", "declined")
        await expect(hosted.host.model_context()).to_have_text([re.compile("declined.*nothing was written")])
        assert await bookings(hosted.service) == before
        assert await queued_notices(hosted.service) == notices_before
