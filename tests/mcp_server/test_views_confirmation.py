"""A batch that needs confirmation, for a host showing the batch preview (MCP Apps): the person decides there, the
model never reads the token, and the token the preview holds applies exactly the change it showed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp_types import CallToolResult
from sqlalchemy import select

from chat_bridge.agent.acting import acting_for
from domain.clock import Clock
from domain.config import ClinicConfig
from domain.services import Services, build_services
from domain.staff.roles import Principal, Role
from domain.storage.database import Database
from domain.storage.models import Reservation
from domain.system_agent.effects import EffectLimits
from mcp_scenario import answering
from mcp_server.system_server import build_system_server
from mcp_server.views import CONFIRMATION_META_KEY
from tests.console.conftest import D1, D3, FATIMA, KHALID, LAYLA, OMAR, SARA, seed

APPS = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
VIEWER = Principal("huda", Role.VIEWER)
CANCEL_D1 = {"filters": {"dates": [D1]}, "notify": False}  # takes every booking off D1 (3): the default limits ask
INVALID = "The confirmation token is invalid"
ALL_ACTIVE = {FATIMA, OMAR, SARA, LAYLA, KHALID}


@pytest.fixture
async def seeded(db: Database, config: ClinicConfig, clock: Clock) -> Services:
    """The console's seeded week (`tests/console/conftest.py`), with the product's default confirmation limits."""
    services = build_services(config, db, clock, limits=EffectLimits())
    await seed(services)
    return services


async def cancel(services: Services, arguments: dict[str, Any], **client: Any) -> CallToolResult:
    server = build_system_server(services, services.batch, services.queries)
    async with Client(server, extensions=[APPS], **client) as connected:
        return await connected.call_tool("system_batch_cancel", arguments)


async def active(services: Services) -> set[str]:
    """Who holds an active reservation."""
    async with services.db.reading() as session:
        return set(await session.scalars(select(Reservation.wa_id).where(Reservation.status == "active")))


def preview_of(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.meta is not None
    confirmation: dict[str, Any] = result.meta[CONFIRMATION_META_KEY]
    return confirmation


def model_reads(result: CallToolResult) -> str:
    """Everything of the answer a model reads: its content and structured content."""
    return json.dumps([c.model_dump(mode="json") for c in result.content] + [result.structured_content],
                      ensure_ascii=False)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_person_decides_in_the_preview_and_the_model_never_reads_the_token(
        seeded: Services, mode: str) -> None:
    callback, asked = answering("accept", {"confirm": True})  # a client that could elicit is still not asked
    result = await cancel(seeded, CANCEL_D1, elicitation_callback=callback, mode=mode)
    preview = preview_of(result)
    assert asked == [] and await active(seeded) == ALL_ACTIVE
    assert preview["tool"] == "system_batch_cancel" and preview["arguments"] == CANCEL_D1
    assert preview["token"] and preview["token"] not in model_reads(result)
    assert "would change 3 reservation(s)" in preview["question"] and '"Omar Haddad"' in preview["question"]
    structured = result.structured_content or {}
    assert structured["status"] == "needs_confirmation" and "token" not in structured["confirmation"]
    assert {p["wa_id"] for p in structured["confirmation"]["preview"]["affected"]} == {FATIMA, OMAR, SARA}
    assert "The person decides in the preview shown to them" in structured["next_step"]
    assert "The person decides in the preview shown to them" in result.content[0].text  # type: ignore[union-attr]
    assert "confirmation_token" not in model_reads(result)


async def test_the_model_is_told_in_arabic_when_the_call_asks_for_it(seeded: Services) -> None:
    result = await cancel(seeded, {**CANCEL_D1, "ar": True})
    assert "يقرر الشخص في المعاينة المعروضة له" in (result.structured_content or {})["next_step"]
    assert preview_of(result)["question"].endswith("لم يُكتب شيء بعد. هل تريد التنفيذ؟")


async def test_the_previews_confirm_applies_exactly_the_previewed_change(seeded: Services) -> None:
    preview = preview_of(await cancel(seeded, CANCEL_D1))
    confirmed = await cancel(seeded, {**preview["arguments"], "confirmation_token": preview["token"]})
    assert not confirmed.is_error and (confirmed.structured_content or {})["status"] == "applied"
    assert confirmed.meta is None or CONFIRMATION_META_KEY not in confirmed.meta
    assert await active(seeded) == {LAYLA, KHALID}


async def test_the_token_binds_the_previewed_change_and_no_other(seeded: Services) -> None:
    preview = preview_of(await cancel(seeded, CANCEL_D1))
    wider = {"filters": {"dates": [D1, D3]}, "notify": False}  # also a change that asks: D1 is emptied again
    other = {**wider, "confirmation_token": preview["token"]}
    result = await cancel(seeded, other)
    assert result.is_error and INVALID in result.content[0].text  # type: ignore[union-attr]
    assert await active(seeded) == ALL_ACTIVE


async def test_a_made_up_token_is_refused_and_nothing_changes(seeded: Services) -> None:
    preview = preview_of(await cancel(seeded, CANCEL_D1))
    forged = preview["token"][:-4] + ("AAAA" if not preview["token"].endswith("AAAA") else "BBBB")
    for token in (forged, "made-up"):
        result = await cancel(seeded, {**CANCEL_D1, "confirmation_token": token})
        assert result.is_error and INVALID in result.content[0].text  # type: ignore[union-attr]
    assert await active(seeded) == ALL_ACTIVE


async def test_a_viewer_cannot_confirm_the_previewed_change(seeded: Services) -> None:
    preview = preview_of(await cancel(seeded, CANCEL_D1))
    with acting_for(VIEWER):
        result = await cancel(seeded, {**preview["arguments"], "confirmation_token": preview["token"]})
    assert result.is_error and "huda is a viewer" in result.content[0].text  # type: ignore[union-attr]
    assert await active(seeded) == ALL_ACTIVE


async def test_through_more_tools_no_preview_is_shown_so_the_model_asks_as_before(seeded: Services) -> None:
    """`more_tools` opens no view: the model gets the preview and the token, and asks the person itself."""
    message = {"text": "The clinic opens at noon tomorrow.", "wa_ids": [FATIMA, OMAR]}  # free text to two: it asks
    server = build_system_server(seeded, seeded.batch, seeded.queries)
    async with Client(server, extensions=[APPS]) as client:
        result = await client.call_tool("more_tools", {"tool": "system_message_customers", "arguments": message})
    structured = result.structured_content or {}
    assert structured["status"] == "needs_confirmation" and structured["confirmation"]["token"]
    assert f"confirmation_token={structured['confirmation']['token']}" in structured["next_step"]
    assert result.meta is None or CONFIRMATION_META_KEY not in result.meta
