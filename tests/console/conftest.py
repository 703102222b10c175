"""The operator console in real Chromium, against the service exactly as `calendar-agent serve` builds it
(`build_service_app`) on loopback: the real system agent and MCP tools, a scripted fake Anthropic API and
the fake WhatsApp Graph API."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from calendar_agent.bootstrap.serve import build_service_app
from calendar_agent.settings import Settings
from domain.config import ClinicConfig
from domain.storage.database import Database, create_database
from domain.services import Services, build_services
from domain.system_agent.effects import EffectLimits
from tests.conftest import PER_CALL, FixedClock
from tests.fakes.fixtures import anthropic_api, anthropic_server  # noqa: F401 (fixtures)
from tests.fakes.loopback import serve_on_loopback
from tests.fakes.graph_api import FakeGraphApi, bridge_settings, graph_api  # noqa: F401
from tests.fakes.llm import ScriptedLLM

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
AGENT_NAME = "Calendar AI Assistant"
# The clinic's "now" is Tuesday 2026-12-01 (tests/conftest.py); D1 and D3 are the Sunday and Tuesday after.
D1, D2, D3 = "2026-12-06", "2026-12-07", "2026-12-08"
FATIMA, OMAR, SARA, LAYLA, KHALID = "966501110001", "966501110002", "966501110003", "966501110004", "966501110005"
CUSTOMERS = {FATIMA: "فاطمة الزهراني", OMAR: "Omar Haddad", SARA: "Sara Khan", LAYLA: "ليلى العتيبي",
             KHALID: "Khalid Al-Harbi"}
# (wa_id, day, slot): three people on D1 at 11:00 move to D3, where Layla already is.
BOOKINGS = [(FATIMA, D1, "11:00"), (OMAR, D1, "11:00"), (SARA, D1, "11:00"), (LAYLA, D3, "15:00"),
            (KHALID, D2, "13:00")]
FATIMA_HISTORY = [("user", "مرحبا، أريد موعد فحص يوم الأحد من فضلك"),
                  ("assistant", "تم الحجز يوم الأحد 2026-12-06 الساعة 11:00 صباحًا.")]
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
async def db(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    """The browser tests run on SQLite only: storage on both databases is covered by the domain tests."""
    path = tmp_path / "calendar.db"
    shutil.copy(sqlite_template, path)
    database = create_database(f"sqlite+aiosqlite:///{path}")
    yield database
    await database.dispose()


@asynccontextmanager
async def chromium(*more_args: str) -> AsyncIterator[Browser]:
    """Debian's Chromium, headless (never a downloaded browser), with `more_args` beside the usual ones."""
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: in CI the browser tests must run (scripts/browser.sh installs it)")
        pytest.skip(f"{CHROMIUM} is missing: run `bash scripts/browser.sh`")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                    args=[*CHROMIUM_ARGS, *more_args])
        yield launched
        await launched.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless."""
    async with chromium() as launched:
        yield launched


@dataclass
class Service:
    """The service running on loopback, and what it talks to."""

    url: str
    services: Services
    settings: Settings
    llm: ScriptedLLM
    graph: FakeGraphApi


class StartService(Protocol):
    async def __call__(self, *, limits: EffectLimits = PER_CALL, model: bool = True, **settings: Any) -> Service: ...


@pytest.fixture
async def start_service(db: Database, clock: FixedClock, anthropic_api: ScriptedLLM,  # noqa: F811 (fixture)
                        graph_api: FakeGraphApi,  # noqa: F811 (fixture)
                        ) -> AsyncIterator[StartService]:
    """Starts the service on a loopback port over a seeded calendar; `model=False`: no LLM key is set.
    Other keyword arguments are settings. Everything is shut down after the test."""
    async with AsyncExitStack() as stack:
        async def start(*, limits: EffectLimits = PER_CALL, model: bool = True, **overrides: Any) -> Service:
            llm_settings = anthropic_api.settings_overrides() if model else {"anthropic_api_key": ""}
            settings = bridge_settings(graph_api, **llm_settings, llm_timeout_seconds=5.0, llm_max_retries=1,
                                       confirmation_limits=limits.describe(),
                                       confirmation_timeout_seconds=30.0, **overrides)
            services = build_services(ClinicConfig(), db, clock, limits=settings.effect_limits())
            await seed(services)
            app = build_service_app(settings, services=services)
            url = await stack.enter_async_context(serve_on_loopback(app))
            return Service(url, services, settings, anthropic_api, graph_api)

        yield start


@dataclass
class Console(Service):
    """The service, and a browser to open pages on it."""

    browser: Browser
    script_errors: list[str]

    async def open(self, *, signed_in: bool = True, width: int = 1440, height: int = 900) -> Page:
        """A page on the console in a fresh browser context (its own sessionStorage), connected when signed in."""
        context = await self.browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
        page = await context.new_page()
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))
        await page.goto(self.url)
        if signed_in:
            await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
        return page


class StartConsole(Protocol):
    async def __call__(self, *, limits: EffectLimits = PER_CALL, model: bool = True, **settings: Any) -> Console: ...


@pytest.fixture
async def start_console(start_service: StartService, browser: Browser) -> AsyncIterator[StartConsole]:
    """`start_service` with a browser; after the test, no page may have thrown a script error."""
    script_errors: list[str] = []

    async def start(**options: Any) -> Console:
        service = await start_service(**options)
        return Console(**vars(service), browser=browser, script_errors=script_errors)

    yield start
    assert not script_errors, f"the console page threw: {script_errors}"


async def seed(services: Services) -> None:
    for wa_id, name in CUSTOMERS.items():
        await services.customers.ensure(wa_id, name)
    for wa_id, day, slot in BOOKINGS:
        await services.reservations.reserve(wa_id, day, slot)
    for role, text in FATIMA_HISTORY:
        await services.conversations.append(FATIMA, role, text)


async def choose_conversation(page: Page, query: str, option_text: str) -> None:
    """Pick a conversation with the keyboard: type in the combobox, arrow to the matching option, Enter."""
    box = page.get_by_role("combobox", name="Conversation")
    await box.click()
    await box.fill(query)
    await expect(page.locator("#contact-listbox")).not_to_have_attribute("aria-busy", "true")
    option = page.get_by_role("option").filter(has_text=option_text).first
    await expect(option).to_be_visible()
    wanted = await option.get_attribute("id")
    for _ in range(20):
        if await box.get_attribute("aria-activedescendant") == wanted:
            break
        await box.press("ArrowDown")
    await expect(box).to_have_attribute("aria-activedescendant", wanted or "")
    await box.press("Enter")
    await expect(page.locator("#conversation-title")).to_have_text(option_text)


async def send(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    await box.fill(text)
    await box.press("Enter")


def day_total(page: Page, day: str) -> Any:
    return page.locator(f'.day[data-date="{day}"] .day-total')

