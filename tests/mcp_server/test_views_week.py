"""`system_view_week`, the week view's own tool: the seeded week from its Sunday, refusing anything but a real day."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp_types import CallToolResult

from chat_bridge.agent.acting import acting_for
from domain.clock import Clock
from domain.config import ClinicConfig
from domain.services import Services, build_services
from domain.staff.roles import Principal, Role
from domain.storage.database import Database
from mcp_server.system_server import build_system_server
from mcp_server.views import VIEW_WEEK_TOOL
from tests.console.conftest import CUSTOMERS, D1, D3, FATIMA, LAYLA, seed

APPS = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
VIEWER = Principal("huda", Role.VIEWER)
SATURDAY = "2026-12-12"


@pytest.fixture
async def seeded(db: Database, config: ClinicConfig, clock: Clock) -> Services:
    """The console's seeded week (`tests/console/conftest.py`): D1 is Sunday 2026-12-06, today Tuesday 12-01."""
    services = build_services(config, db, clock)
    await seed(services)
    return services


async def view_week(services: Services, arguments: dict[str, Any]) -> CallToolResult:
    server = build_system_server(services, services.batch, services.queries)
    async with Client(server, extensions=[APPS]) as client:
        return await client.call_tool(VIEW_WEEK_TOOL, arguments)


def names_on(day: dict[str, Any], slot: str) -> set[str | None]:
    [booked] = [s for s in day["slots"] if s["time_slot"] == slot]
    return {r["customer_name"] for r in booked["reservations"]}


@pytest.mark.parametrize("day", [D1, D3, SATURDAY])
async def test_any_day_shows_its_week_from_the_sunday_with_who_is_booked(seeded: Services, day: str) -> None:
    result = await view_week(seeded, {"day": day})
    assert not result.is_error, result.content
    week = result.structured_content or {}
    assert (week["week_start"], week["today"]) == (D1, "2026-12-01")
    assert week["snapshot"] == json.loads(json.dumps(await seeded.queries.reservation_snapshot(D1, SATURDAY)))
    days = {d["date"]: d for d in week["snapshot"]["days"]}
    assert list(days) == [f"2026-12-{n:02d}" for n in range(6, 13)]
    assert names_on(days[D1], "11:00") == {"فاطمة الزهراني", "Omar Haddad", "Sara Khan"}
    assert names_on(days[D3], "15:00") == {CUSTOMERS[LAYLA]}
    assert result.content[0].text == "Week of 2026-12-06: 5 reservation(s)."  # type: ignore[union-attr]


async def test_the_week_is_summed_up_in_arabic_when_asked(seeded: Services) -> None:
    result = await view_week(seeded, {"day": D1, "ar": True})
    assert result.content[0].text == "أسبوع 2026-12-06: 5 حجزًا."  # type: ignore[union-attr]


async def test_a_viewer_may_view_the_week(seeded: Services) -> None:
    with acting_for(VIEWER):
        result = await view_week(seeded, {"day": D1})
    assert not result.is_error and FATIMA in json.dumps(result.structured_content)


ISO = "a day is written YYYY-MM-DD"


@pytest.mark.parametrize(("arguments", "reason"), [
    ({"day": "next week"}, ISO),
    ({"day": "2026-02-30"}, "day value is outside expected range"),  # no such day
    ({"day": "٢٠٢٦-١٢-٠٦"}, ISO),  # Arabic-Indic digits: the view writes its days in ASCII, so they are refused
    ({"day": "06-12-2026"}, ISO),  # the models' DD-MM-YYYY is not the view's
    ({"day": "2026-12-06T10:00:00"}, ISO),
    ({"day": 1796428800}, ISO),  # a timestamp number
    ({"day": "2026-12-06" + "x" * 1_000_000}, ISO),
    ({"day": D1, "week": 2}, "Extra inputs are not permitted"),  # an argument the tool does not take
    ({"day": D1, "ar": [True]}, "valid boolean"),
    ({"day": "9999-12-31"}, "the week view shows days from 1924-08-08 to 2077-11-09"),  # beyond the Umm al-Qura
    ({"day": "0001-01-01"}, "the week view shows days from 1924-08-08 to 2077-11-09"),  # calendar's range
    ({}, "Field required"),
])
async def test_anything_but_a_real_day_is_refused_with_a_short_reason(
        seeded: Services, arguments: dict[str, Any], reason: str) -> None:
    result = await view_week(seeded, arguments)
    refusal = result.content[0].text  # type: ignore[union-attr]
    assert result.is_error and VIEW_WEEK_TOOL in refusal and reason in refusal
    assert len(refusal) < 1_000
