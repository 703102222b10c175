"""The agents' prompts: where the text comes from, the clinic's facts, and the date line of every turn."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

from chat_bridge.agent.agents import DatedPrompt, clinic_facts
from domain.config import ClinicConfig, OpeningHours
from prompts.loader import CUSTOMER_AGENT, PROMPTS, SYSTEM_AGENT, customer_agent_prompt, system_agent_prompt


def test_an_empty_setting_gives_the_shipped_prompt() -> None:
    assert system_agent_prompt("") == (PROMPTS / SYSTEM_AGENT).read_text(encoding="utf-8")


def test_a_setting_naming_a_file_gives_that_files_text(tmp_path: Path) -> None:
    path = tmp_path / "prompt.md"
    path.write_text("You are the clinic's night-shift agent.", encoding="utf-8")

    assert system_agent_prompt(str(path)) == "You are the clinic's night-shift agent."


def test_a_setting_that_is_not_a_file_is_the_prompt_itself() -> None:
    assert customer_agent_prompt("Be brief and kind.") == "Be brief and kind."


def test_a_long_prompt_is_never_mistaken_for_a_path() -> None:
    assert customer_agent_prompt("x" * 5000) == "x" * 5000


def test_the_system_prompt_teaches_the_batch_tools_and_the_confirmation_tokens() -> None:
    prompt = system_agent_prompt()

    for term in ("system_get_reservations", "system_batch_reserve", "system_batch_modify", "system_batch_cancel",
                 "dry_run", "verbosity", "confirmation_token", "Never invent"):
        assert term in prompt


def test_the_customer_prompt_speaks_arabic_and_english_and_names_only_its_tools() -> None:
    prompt = (PROMPTS / CUSTOMER_AGENT).read_text(encoding="utf-8")

    assert "أنت المساعد" in prompt and "reserve_time_slot" in prompt and "system_batch" not in prompt


def test_the_dated_prompt_ends_with_the_clinics_now_weekday_and_timezone() -> None:
    prompt = DatedPrompt("Be kind.", ClinicConfig(), lambda: datetime(2026, 12, 4, 20, 30, tzinfo=UTC))

    assert prompt() == "Be kind.\n\nNow: 2026-12-04T23:30:00+03:00 (Friday) in Asia/Riyadh"


def test_the_tool_servers_instructions_come_before_the_date_line() -> None:
    prompt = DatedPrompt("Be kind.", ClinicConfig(), lambda: datetime(2026, 12, 4, 20, 30, tzinfo=UTC))

    assert prompt("Undo with system_undo_batch.") == (
        "Be kind.\n\n## Notes from the tool server\nUndo with system_undo_batch.\n\n"
        "Now: 2026-12-04T23:30:00+03:00 (Friday) in Asia/Riyadh")


def test_the_dated_prompt_reads_the_clock_on_every_turn() -> None:
    moments = iter([datetime(2026, 12, 1, 7, tzinfo=UTC), datetime(2026, 12, 2, 7, tzinfo=UTC)])
    prompt = DatedPrompt("Be kind.", ClinicConfig(), lambda: next(moments))

    assert "(Tuesday)" in prompt() and "(Wednesday)" in prompt()


def test_the_clinic_facts_follow_the_configuration() -> None:
    week = dict(ClinicConfig().week, friday=OpeningHours(opens=time(9), closes=time(12)), saturday=None)

    facts = clinic_facts(ClinicConfig(week=week, slot_minutes=60, timezone="Asia/Dubai"), with_capacity=True)

    assert "Friday 09:00–12:00, Saturday closed." in facts
    assert "Slots are 60 minutes long" in facts and "Timezone: Asia/Dubai." in facts
    assert "Capacity per slot: 5 when an AI agent books, 6 from the operators' calendar UI." in facts


def test_the_customer_assistant_is_not_told_the_capacities() -> None:
    assert "Capacity" not in clinic_facts(ClinicConfig())
