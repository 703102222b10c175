"""The console's own endpoints (`chat_bridge.console`), over HTTP on loopback without a browser."""

from __future__ import annotations

import httpx2
import pytest
from pydantic import TypeAdapter

from calendar_agent.settings import load_settings
from chat_bridge.console import ConsoleConfig, agent_status
from tests.console.conftest import AGENT_NAME, D1, D3, FATIMA, OMAR, SARA, StartService


@pytest.mark.parametrize(("provider", "variable"), [("anthropic", "ANTHROPIC_API_KEY"), ("openai", "OPENAI_API_KEY")])
def test_agent_status_names_the_key_the_chosen_provider_needs(provider: str, variable: str) -> None:
    status = agent_status(load_settings(llm_provider=provider).agent_config().model)

    assert (status["configured"], status["provider"], status["missing"]) == (False, provider, [variable])
    assert status["message"] is not None and variable in status["message"]


def test_agent_status_is_configured_with_a_key() -> None:
    status = agent_status(load_settings(llm_provider="openai", openai_api_key="sk-test").agent_config().model)

    assert (status["configured"], status["missing"], status["message"]) == (True, [], None)


def test_a_self_hosted_base_url_needs_no_key() -> None:
    settings = load_settings(llm_provider="openai", openai_base_url="http://127.0.0.1:11434/v1")
    status = agent_status(settings.agent_config().model)

    assert status["configured"] is True


async def test_calendar_lists_each_days_active_reservations_by_slot(start_service: StartService) -> None:
    service = await start_service()
    async with httpx2.AsyncClient(base_url=service.url) as http:
        response = await http.get("/calendar", params={"start": D1, "end": D3})

    days = {day["date"]: day for day in response.json()["days"]}
    assert list(days) == [D1, "2026-12-07", D3]
    eleven = next(slot for slot in days[D1]["slots"] if slot["time_slot"] == "11:00")
    assert sorted(r["wa_id"] for r in eleven["reservations"]) == [FATIMA, OMAR, SARA]
    assert (days[D1]["booked"], days[D3]["booked"]) == (3, 1)


async def test_calendar_refuses_an_unreadable_date(start_service: StartService) -> None:
    service = await start_service()
    async with httpx2.AsyncClient(base_url=service.url) as http:
        missing = await http.get("/calendar")
        unreadable = await http.get("/calendar", params={"start": "next week"})

    assert (missing.status_code, missing.json()["error"]["code"]) == (422, "missing_parameter")
    assert (unreadable.status_code, unreadable.json()["error"]["code"]) == (422, "invalid_date")


async def test_the_page_and_config_are_public_and_operator_data_needs_the_token(start_service: StartService) -> None:
    service = await start_service(operator_token="clinic-operator-token")
    async with httpx2.AsyncClient(base_url=service.url) as http:
        page, script = await http.get("/"), await http.get("/static/app.js")
        config = (await http.get("/config")).json()
        refused = await http.get("/calendar", params={"start": D1})
        allowed = await http.get("/calendar", params={"start": D1},
                                 headers={"Authorization": "Bearer clinic-operator-token"})

    assert (page.status_code, script.status_code) == (200, 200)
    assert "javascript" in script.headers["content-type"]
    assert config["token_required"] is True
    assert config["system_agent"] == {"wa_id": "12125550123", "name": AGENT_NAME, "display": "+12125550123"}
    assert (refused.status_code, allowed.status_code) == (401, 200)


async def test_config_gives_the_clinics_today(start_service: StartService) -> None:
    service = await start_service()
    async with httpx2.AsyncClient(base_url=service.url) as http:
        config = (await http.get("/config")).json()

    assert (config["today"], config["timezone"], config["token_required"]) == ("2026-12-01", "Asia/Riyadh", False)
    assert TypeAdapter(ConsoleConfig).validate_python(config) == config  # its declared shape, no key more
