"""The operator console in real Chromium against the running service (see conftest.py for what runs)."""

from __future__ import annotations

import asyncio
import os
import re

from playwright.async_api import Route, WebSocketRoute, expect

from domain.system_agent.effects import EffectLimits
from tests.console.conftest import (
    AGENT_NAME, D1, D2, D3, FATIMA, OMAR, StartConsole, choose_conversation, day_total, send,
)
from tests.fakes.llm import Call, Failure, Hold, Reply

LOOK = Call("system_get_reservations", {"dates": [D1], "include": ["reservations"]})
MOVE = Call("system_batch_modify", {"filters": {"dates": [D1]}, "updates": {"new_date": D3}})
MOVE_REQUEST = f"move all users from {D1} to {D3}"


async def test_agent_reply_and_moved_reservations_appear_without_a_reload(start_console: StartConsole) -> None:
    console = await start_console()
    console.llm.script(Reply(calls=(LOOK,)), Reply(calls=(MOVE,)),
                       Reply(f"Done: the 3 reservations of Sunday {D1} are now on Tuesday {D3}, same times."))
    page = await console.open()
    await choose_conversation(page, "Calendar", AGENT_NAME)
    await page.evaluate("window.notReloaded = true")

    await send(page, MOVE_REQUEST)

    await expect(page.locator('[data-role="assistant"]').last).to_contain_text(f"are now on Tuesday {D3}")
    await expect(day_total(page, D1)).to_have_text("0 booked")
    await expect(day_total(page, D3)).to_have_text("4 booked")
    assert await page.evaluate("window.notReloaded") is True
    tool = page.locator('details[data-tool="system_batch_modify"]')
    await tool.locator("summary").click()
    await expect(tool.locator(".tool-arguments")).to_contain_text(f'"new_date": "{D3}"')
    await expect(tool.locator(".tool-result")).to_contain_text("3 ok")
    if path := os.environ.get("CONSOLE_SCREENSHOT"):
        await page.screenshot(path=path, animations="disabled")


async def test_a_second_page_on_the_same_conversation_receives_the_messages_live(start_console: StartConsole) -> None:
    console = await start_console()
    console.llm.script(Reply(f"Sunday {D1} has 3 reservations, all at 11:00."))
    sender, watcher = await console.open(), await console.open()

    await send(sender, "How busy is Sunday?")

    for page in (sender, watcher):
        await expect(page.locator('[data-role="secretary"]').last).to_contain_text("How busy is Sunday?")
        await expect(page.locator('[data-role="assistant"]').last).to_contain_text("has 3 reservations")


async def test_customer_conversation_shows_its_history_and_sends_through_whatsapp(start_console: StartConsole) -> None:
    console = await start_console()
    page = await console.open()
    await choose_conversation(page, "فاطمه", "فاطمة الزهراني")
    history = page.locator('[data-role="user"] .msg-text')
    await expect(history).to_contain_text("أريد موعد فحص")
    assert await history.evaluate("element => getComputedStyle(element).direction") == "rtl"

    await send(page, "See you on Sunday at 11:00.")

    await expect(page.locator('[data-role="secretary"] [data-delivery]').last).to_have_text("Sent")
    assert console.graph.texts_to(FATIMA) == ["See you on Sunday at 11:00."]


async def test_a_customer_is_found_by_digits_of_the_number(start_console: StartConsole) -> None:
    console = await start_console()
    page = await console.open()

    await choose_conversation(page, OMAR[-7:], "Omar Haddad")

    await expect(page.locator("#conversation-sub")).to_contain_text(f"+{OMAR}")


async def test_a_message_whatsapp_refuses_is_shown_as_not_delivered(start_console: StartConsole) -> None:
    console = await start_console()
    console.graph.fail_next(500)
    page = await console.open()
    await choose_conversation(page, "Omar", "Omar Haddad")

    await send(page, "Your appointment is confirmed.")

    await expect(page.locator('[data-role="secretary"] [data-delivery]').last).to_have_text("Not delivered")
    await expect(page.locator("#composer-error")).to_contain_text("not delivered")


async def test_cancelling_a_large_batch_leaves_the_calendar_unchanged(start_console: StartConsole) -> None:
    console = await start_console(limits=EffectLimits.uniform(2))
    console.llm.script(Reply(calls=(MOVE,)), Reply("Understood: nothing was moved."))
    page = await console.open()
    await send(page, MOVE_REQUEST)
    card = page.locator(".confirm-card")
    await expect(card).to_contain_text("3 reservation(s)")
    await expect(card).to_contain_text("Asked because: reservations changed or made: 0 already in this turn")
    await expect(card.locator(".confirm-text")).to_contain_text(f"\nWho:\n- ")  # one person a line
    await expect(page.locator("#typing")).to_be_visible()

    await card.get_by_role("button", name="Cancel").click()

    await expect(card).to_have_attribute("data-state", "declined")
    await expect(page.locator('[data-role="assistant"]').last).to_contain_text("nothing was moved")
    await expect(page.locator("#typing")).to_be_hidden()
    await expect(day_total(page, D1)).to_have_text("3 booked")
    await expect(day_total(page, D3)).to_have_text("1 booked")


async def test_confirming_a_large_batch_applies_it(start_console: StartConsole) -> None:
    console = await start_console(limits=EffectLimits.uniform(2))
    console.llm.script(Reply(calls=(MOVE,)), Reply("Moved the 3 reservations."))
    page = await console.open()
    await send(page, MOVE_REQUEST)
    card = page.locator(".confirm-card")

    await card.get_by_role("button", name="Confirm").click()

    await expect(card).to_have_attribute("data-state", "accepted")
    await expect(day_total(page, D1)).to_have_text("0 booked")
    await expect(day_total(page, D3)).to_have_text("4 booked")
    await expect(page.locator('[data-role="assistant"]').last).to_contain_text("Moved the 3 reservations.")


async def test_an_agent_failure_shows_an_error_and_keeps_the_operators_message(start_console: StartConsole) -> None:
    console = await start_console()
    console.llm.script(Failure(500), Failure(500))
    page = await console.open()

    await send(page, "Cancel everyone on Sunday")

    await expect(page.locator(".log-error")).to_contain_text("unavailable")
    await expect(page.locator("#typing")).to_be_hidden()
    await page.reload()
    await expect(page.locator('[data-role="secretary"] .msg-text')).to_have_text(["Cancel everyone on Sunday"])
    await expect(page.locator('[data-role="assistant"]')).to_have_count(0)


async def test_without_a_model_key_choosing_the_agent_names_the_variable_to_set(start_console: StartConsole) -> None:
    console = await start_console(model=False)
    page = await console.open()

    await choose_conversation(page, "Calendar", AGENT_NAME)

    await expect(page.locator("#agent-notice")).to_contain_text("ANTHROPIC_API_KEY")
    await expect(page.get_by_role("textbox", name="Message")).to_be_disabled()
    await expect(page.get_by_role("button", name="Send")).to_be_disabled()


async def test_the_calendar_strip_follows_bookings_made_elsewhere(start_console: StartConsole) -> None:
    console = await start_console()
    page = await console.open()
    await expect(day_total(page, D2)).to_have_text("1 booked")

    await console.services.reservations.reserve(FATIMA, D2, "15:00")

    await expect(day_total(page, D2)).to_have_text("2 booked")
    await expect(day_total(page, D1)).to_have_text("2 booked")


async def test_with_an_operator_token_the_console_asks_for_it_once_per_tab(start_console: StartConsole) -> None:
    console = await start_console(operator_token="clinic-operator-token")
    page = await console.open(signed_in=False)
    dialog = page.get_by_role("dialog", name="Sign in to the operator console")
    await expect(dialog).to_be_visible()

    await dialog.get_by_label("Operator token").fill("a wrong guess")
    await dialog.get_by_role("button", name="Sign in").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("not accepted")
    await dialog.get_by_label("Operator token").fill("clinic-operator-token")
    await dialog.get_by_role("button", name="Sign in").click()

    await expect(dialog).to_be_hidden()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    await expect(page.locator("#conversation-title")).to_have_text(AGENT_NAME)
    await page.reload()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    await expect(dialog).to_be_hidden()


async def test_a_console_that_lost_its_connection_shows_what_was_stored_meanwhile(
    start_console: StartConsole,
) -> None:
    console = await start_console()
    context = await console.browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    page = await context.new_page()
    page.on("pageerror", lambda error: console.script_errors.append(str(error)))
    sockets: list[WebSocketRoute] = []
    back = asyncio.Event()  # the network comes back: the console's next WebSocket may reach the service

    async def network(socket: WebSocketRoute) -> None:
        if sockets:
            await back.wait()
        socket.connect_to_server()
        sockets.append(socket)

    await page.route_web_socket(re.compile(r".*/ws$"), network)
    await page.goto(console.url)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    await choose_conversation(page, "Calendar", AGENT_NAME)

    await sockets[0].close()  # the connection drops
    await expect(page.locator("#connection")).to_have_attribute("data-state", "offline")
    # Stored while this console was away, and told to nobody (as by an instance that died before it could).
    await console.services.conversations.append(console.services.config.system_agent_wa_id, "assistant",
                                                "Stored while you were offline.")
    back.set()

    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    await expect(page.locator('[data-role="assistant"]').last).to_contain_text("Stored while you were offline.")
    assert len(sockets) == 2


async def test_a_line_written_while_the_agent_works_gets_its_own_reply_which_names_it(
    start_console: StartConsole,
) -> None:
    console = await start_console()
    hold = Hold(Reply(f"Sunday {D1} has 3 reservations."))
    console.llm.script(hold, Reply(f"Monday {D2} has 1 reservation."))
    page = await console.open()
    await choose_conversation(page, "Calendar", AGENT_NAME)

    await send(page, "How busy is Sunday?")
    await hold.wait_until_asked()
    await send(page, "And Monday?")
    await expect(page.locator('[data-role="secretary"]').last).to_contain_text("And Monday?")
    hold.release.set()

    replies = page.locator('[data-role="assistant"]')
    await expect(replies).to_have_count(2)
    await expect(replies.nth(0)).to_contain_text("has 3 reservations")
    await expect(replies.nth(1)).to_contain_text("has 1 reservation")
    asked = await page.locator('[data-role="secretary"]').evaluate_all(
        "rows => rows.map(row => row.dataset.messageId)")
    for reply, question, text in ((replies.nth(0), asked[0], "How busy is Sunday?"),
                                  (replies.nth(1), asked[1], "And Monday?")):
        chip = reply.locator(".msg-answers")
        await expect(chip).to_have_attribute("data-answers", question)
        await expect(chip).to_have_attribute("title", f"“{text}”")


async def test_lines_written_in_a_burst_are_all_sent_in_order_and_one_refused_comes_back_to_the_box(
    start_console: StartConsole,
) -> None:
    console = await start_console()
    page = await console.open()
    await choose_conversation(page, "Omar", "Omar Haddad")
    first_in_flight, release = asyncio.Event(), asyncio.Event()
    posted: list[str] = []

    async def hold_the_first(route: Route) -> None:
        text = (route.request.post_data_json or {}).get("message", "")
        posted.append(text)
        if text == "Refused line":
            await route.fulfill(status=503, json={"error": {"code": "unavailable", "message": "Try again."}})
            return
        if len(posted) == 1:
            first_in_flight.set()
            await release.wait()
        await route.continue_()

    await page.route("**/whatsapp/message", hold_the_first)
    await send(page, "One.")
    await first_in_flight.wait()  # the first line is still on its way while the others are written
    await send(page, "Two.")
    await send(page, "Refused line")
    await send(page, "Three.")
    box = page.get_by_role("textbox", name="Message")
    await expect(box).to_have_value("")
    release.set()

    sent = page.locator('[data-role="secretary"] .msg-text')
    await expect(sent).to_have_text(["One.", "Two.", "Three."])
    await expect(box).to_have_value("Refused line")
    await expect(page.locator("#composer-error")).to_contain_text("Try again.")
    assert posted == ["One.", "Two.", "Refused line", "Three."]
    assert console.graph.texts_to(OMAR) == ["One.", "Two.", "Three."]
