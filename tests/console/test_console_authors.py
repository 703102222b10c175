"""The operators' chat with the system agent names who wrote each message: the staff member, with accounts."""

from __future__ import annotations

from playwright.async_api import expect

from chat_bridge.agent.acting import authored
from domain.staff.roles import SOLE_OPERATOR, Principal, Role
from tests.console.conftest import AGENT_NAME, StartConsole, choose_conversation

AGENT = "12125550123"


async def test_each_operator_message_to_the_agent_names_its_author(start_console: StartConsole) -> None:
    console = await start_console()
    chat = console.services.conversations
    await chat.append(AGENT, "secretary", "Cancel Sunday", meta=authored(None, Principal("amal", Role.OPERATOR)))
    await chat.append(AGENT, "secretary", "What is on Monday?",
                      meta=authored({"call_source": "phone"}, Principal("huda", Role.VIEWER)))
    await chat.append(AGENT, "secretary", "Hello", meta=authored(None, SOLE_OPERATOR))
    page = await console.open()

    await choose_conversation(page, "Calendar", AGENT_NAME)

    await expect(page.locator('[data-role="secretary"] .msg-author')).to_have_text(["amal", "huda · phone",
                                                                                   "Operator"])
