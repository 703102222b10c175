"""The WhatsApp Cloud API client against the fake Graph API on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from chat_bridge.whatsapp import MAX_TEXT, Template, WhatsAppAccount, WhatsAppClient, WhatsAppError, split_text
from tests.fakes.graph_api import ACCESS_TOKEN, PHONE_NUMBER_ID, FakeGraphApi, graph_api  # noqa: F401

CUSTOMER = "966501234567"


@pytest.fixture
async def client(graph_api: FakeGraphApi) -> AsyncIterator[WhatsAppClient]:
    whatsapp = WhatsAppClient(WhatsAppAccount(graph_api.base_url, PHONE_NUMBER_ID, ACCESS_TOKEN))
    yield whatsapp
    await whatsapp.aclose()


def test_short_text_is_one_part() -> None:
    assert split_text("  see you at 13:00  ") == ["see you at 13:00"]


def test_long_text_splits_on_whitespace_within_the_limit() -> None:
    words = " ".join(f"word{i}" for i in range(2000))
    parts = split_text(words)
    assert len(parts) > 1
    assert all(len(part) <= MAX_TEXT for part in parts)
    assert " ".join(parts) == words


def test_long_text_prefers_a_paragraph_break() -> None:
    first, second = "a" * 3000, "b" * 3000
    assert split_text(f"{first}\n\n{second}") == [first, second]


def test_text_without_whitespace_is_cut_at_the_limit() -> None:
    parts = split_text("x" * (MAX_TEXT * 2 + 5))
    assert [len(part) for part in parts] == [MAX_TEXT, MAX_TEXT, 5]


async def test_send_text_reaches_the_graph_api(client: WhatsAppClient, graph_api: FakeGraphApi) -> None:
    ids = await client.send_text(CUSTOMER, "Your appointment is confirmed.")
    assert [(m.phone_number_id, m.to, m.text, m.id) for m in graph_api.sent] == [
        (PHONE_NUMBER_ID, CUSTOMER, "Your appointment is confirmed.", ids[0])]


async def test_long_text_is_sent_in_parts(client: WhatsAppClient, graph_api: FakeGraphApi) -> None:
    ids = await client.send_text(CUSTOMER, "word " * 2000)
    assert len(ids) == len(graph_api.sent) == 3
    assert all(len(text) <= MAX_TEXT for text in graph_api.texts_to(CUSTOMER))


async def test_a_refused_send_raises_with_the_graph_reason(client: WhatsAppClient, graph_api: FakeGraphApi) -> None:
    graph_api.fail_next(500)
    with pytest.raises(WhatsAppError, match=r"HTTP 500.*Service temporarily unavailable"):
        await client.send_text(CUSTOMER, "hello")
    assert graph_api.sent == []


async def test_an_unreachable_api_raises() -> None:
    client = WhatsAppClient(WhatsAppAccount("http://127.0.0.1:9", PHONE_NUMBER_ID, ACCESS_TOKEN))
    with pytest.raises(WhatsAppError, match="could not be reached"):
        await client.send_text(CUSTOMER, "hello")
    await client.aclose()


async def test_a_missing_configuration_raises_before_any_request() -> None:
    client = WhatsAppClient(WhatsAppAccount("http://127.0.0.1:9", "", ""))
    with pytest.raises(WhatsAppError, match="WHATSAPP_PHONE_NUMBER_ID"):
        await client.send_text(CUSTOMER, "hello")
    await client.aclose()


REMINDER = "appointment_reminder"


async def test_an_approved_template_is_sent_with_its_parameters_in_order(client: WhatsAppClient,
                                                                         graph_api: FakeGraphApi) -> None:
    graph_api.approve(REMINDER, "ar", "مرحباً {{1}}، نذكّرك بموعدك يوم {{2}} الساعة {{3}}.")
    sent_id = await client.send_template(CUSTOMER, Template(REMINDER, "ar", ("فاطمة", "الأحد 06-12-2026", "11:00")))
    [message] = graph_api.sent
    assert (message.id, message.template, message.language) == (sent_id, REMINDER, "ar")
    assert message.text == "مرحباً فاطمة، نذكّرك بموعدك يوم الأحد 06-12-2026 الساعة 11:00."


async def test_a_template_not_approved_in_that_language_is_refused_for_good(client: WhatsAppClient,
                                                                            graph_api: FakeGraphApi) -> None:
    graph_api.approve(REMINDER, "en", "Hello {{1}}, see you on {{2}} at {{3}}.")
    with pytest.raises(WhatsAppError, match="132001.*does not exist") as refused:
        await client.send_template(CUSTOMER, Template(REMINDER, "ar", ("Fatima", "Sunday", "11:00")))
    assert (refused.value.retryable, refused.value.code) == (False, 132001)
    with pytest.raises(WhatsAppError, match="expected 3, got 1") as short:
        await client.send_template(CUSTOMER, Template(REMINDER, "en", ("Fatima",)))
    assert short.value.retryable is False
    assert graph_api.sent == []


async def test_a_rate_limit_is_retryable_and_says_how_long_to_wait(client: WhatsAppClient,
                                                                   graph_api: FakeGraphApi) -> None:
    graph_api.limit_next(1, retry_after=2.5)
    with pytest.raises(WhatsAppError, match="HTTP 429") as limited:
        await client.send_text(CUSTOMER, "hello")
    assert (limited.value.retryable, limited.value.retry_after, limited.value.code) == (True, 2.5, 130429)
    graph_api.fail_next(503)
    with pytest.raises(WhatsAppError) as unavailable:
        await client.send_text(CUSTOMER, "hello")
    assert unavailable.value.retryable is True and unavailable.value.retry_after is None
    assert await client.send_text(CUSTOMER, "hello") and graph_api.texts_to(CUSTOMER) == ["hello"]


async def test_an_unreachable_api_is_retryable_and_a_missing_template_name_is_not() -> None:
    client = WhatsAppClient(WhatsAppAccount("http://127.0.0.1:9", PHONE_NUMBER_ID, ACCESS_TOKEN))
    with pytest.raises(WhatsAppError, match="could not be reached") as unreachable:
        await client.send_template(CUSTOMER, Template(REMINDER, "en", ("Fatima",)))
    assert unreachable.value.retryable is True
    with pytest.raises(WhatsAppError, match="name and language") as nameless:
        await client.send_template(CUSTOMER, Template("", "en"))
    assert nameless.value.retryable is False
    await client.aclose()


async def test_each_part_of_a_text_carries_the_callback_data(client: WhatsAppClient, graph_api: FakeGraphApi) -> None:
    long = " ".join(f"word{i}" for i in range(1000))
    ids = await client.send_text(CUSTOMER, long, "notice:7")
    assert len(ids) == len(split_text(long)) > 1
    assert {m.callback_data for m in graph_api.sent} == {"notice:7"}


async def test_a_lost_answer_says_whatsapp_may_have_the_message_and_no_connection_says_it_cannot(
    graph_api: FakeGraphApi,  # noqa: F811
) -> None:
    graph_api.answer_delay = 1.0
    impatient = WhatsAppClient(WhatsAppAccount(graph_api.base_url, PHONE_NUMBER_ID, ACCESS_TOKEN),
                               httpx2.AsyncClient(timeout=0.1))
    with pytest.raises(WhatsAppError, match="may have taken the message") as lost:
        await impatient.send_text(CUSTOMER, "hello")
    await impatient.aclose()
    assert lost.value.maybe_taken is True and graph_api.texts_to(CUSTOMER) == ["hello"]
    unreachable = WhatsAppClient(WhatsAppAccount("http://127.0.0.1:9", PHONE_NUMBER_ID, ACCESS_TOKEN))
    with pytest.raises(WhatsAppError, match="could not be reached") as refused:
        await unreachable.send_text(CUSTOMER, "hello")
    await unreachable.aclose()
    assert (refused.value.maybe_taken, refused.value.retryable) == (False, True)


async def test_a_later_part_refused_leaves_the_text_maybe_taken(client: WhatsAppClient,
                                                                graph_api: FakeGraphApi) -> None:
    graph_api.after_record = lambda first: graph_api.fail_next(400)
    with pytest.raises(WhatsAppError, match="Part 2 of 2 was not sent") as partial:
        await client.send_text(CUSTOMER, "x" * MAX_TEXT + " tail", "notice:8")
    assert partial.value.maybe_taken is True and len(graph_api.sent) == 1
