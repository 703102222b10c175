"""The WhatsApp Cloud API client against the fake Graph API on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chat_bridge.whatsapp import MAX_TEXT, WhatsAppAccount, WhatsAppClient, WhatsAppError, split_text
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
