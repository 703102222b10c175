"""Customers, the contact list and conversations on real databases."""

import asyncio
import json

from sqlalchemy import select, text

from domain.rules.delivery import DeliveryStatus
from domain.storage.models import ConversationMessage, MessageRole
from domain.services import Services


async def test_contacts_list_the_system_agent_first_on_an_empty_database(services: Services) -> None:
    contacts = await services.customers.contacts()
    assert contacts == [services.customers.system_agent_contact()]
    assert contacts[0].wa_id == "12125550123"
    assert contacts[0].name == "Calendar AI Assistant"


async def test_contacts_put_the_latest_conversation_first(services: Services) -> None:
    await services.customers.ensure("966501111111", "Old")
    await services.customers.ensure("966502222222", "New")
    await services.conversations.append("966501111111", "user", "hi")
    services.clock.now = services.clock.now.replace(hour=8)  # type: ignore[attr-defined]
    await services.conversations.append("966502222222", "user", "hi")
    contacts = await services.customers.contacts()
    assert [c.name for c in contacts] == ["Calendar AI Assistant", "New", "Old"]


async def test_the_system_agent_is_never_listed_twice(services: Services) -> None:
    await services.conversations.append("12125550123", "secretary", "hello agent")
    await services.customers.ensure("12125550123")
    contacts = await services.customers.contacts()
    assert [c.wa_id for c in contacts].count("12125550123") == 1


async def test_customer_history_maps_user_to_user_and_the_rest_to_assistant(services: Services) -> None:
    wa_id = "966501234567"
    for role, text in [("user", "hi"), ("assistant", "hello"), ("tool", "{...}"), ("secretary", "from the desk"),
                       ("user", "book me")]:
        await services.conversations.append(wa_id, role, text)
    assert await services.conversations.history_for_model(wa_id) == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello\n\nfrom the desk"},
        {"role": "user", "content": "book me"},
    ]


async def test_system_agent_history_treats_the_operator_as_the_user(services: Services) -> None:
    agent = "12125550123"
    for role, text in [("secretary", "move day"), ("tool", "{...}"), ("assistant", "done")]:
        await services.conversations.append(agent, role, text)
    assert await services.conversations.history_for_model(agent) == [
        {"role": "user", "content": "move day"},
        {"role": "assistant", "content": "done"},
    ]


async def test_a_confirmation_question_is_neither_history_nor_an_answer(services: Services) -> None:
    agent = "12125550123"
    asked = await services.conversations.append(agent, "secretary", "cancel next week")
    assert asked is not None
    question = {"kind": "confirmation", "confirmation_id": "0" * 32, "state": "pending"}
    await services.conversations.append(agent, "assistant", "Cancel 25 reservations?", meta=question)
    assert await services.conversations.open_prompts(agent) == [asked.id]
    assert await services.conversations.history_for_model(agent) == [{"role": "user", "content": "cancel next week"}]
    await services.conversations.reply(agent, "assistant", "Cancelled the 25 reservations.", [asked.id])
    assert await services.conversations.open_prompts(agent) == []
    assert await services.conversations.history_for_model(agent) == [
        {"role": "user", "content": "cancel next week"},
        {"role": "assistant", "content": "Cancelled the 25 reservations."},
    ]


async def test_update_meta_keeps_the_keys_it_does_not_set(services: Services) -> None:
    stored = await services.conversations.append("12125550123", "assistant", "Cancel?",
                                                 meta={"kind": "confirmation", "state": "pending"})
    assert stored is not None
    updated = await services.conversations.update_meta(stored.id, {"state": "expired"})
    assert updated.meta == {"kind": "confirmation", "state": "expired"}
    [row] = await services.conversations.page("12125550123")
    assert row.meta == {"kind": "confirmation", "state": "expired"}


async def test_history_for_a_model_keeps_the_last_thirty(services: Services) -> None:
    wa_id = "966501234567"
    for n in range(40):
        await services.conversations.append(wa_id, "user" if n % 2 == 0 else "assistant", f"m{n}")
    history = await services.conversations.history_for_model(wa_id)
    assert len(history) == 30
    assert history[0]["content"] == "m10" and history[-1]["content"] == "m39"


async def test_a_redelivered_message_id_is_stored_once(services: Services) -> None:
    first = await services.conversations.append("966501234567", "user", "hi", external_id="wamid.1")
    again = await services.conversations.append("966501234567", "user", "hi", external_id="wamid.1")
    assert first is not None and again is None
    assert len(await services.conversations.page("966501234567")) == 1


async def test_conversation_pages_go_back_in_time(services: Services) -> None:
    for n in range(5):
        await services.conversations.append("966501234567", "user", f"m{n}")
    newest = await services.conversations.page("966501234567", limit=2)
    older = await services.conversations.page("966501234567", limit=2, before_id=newest[0].id)
    assert [m.text for m in newest] == ["m3", "m4"]
    assert [m.text for m in older] == ["m1", "m2"]


async def test_phone_search_finds_arabic_english_and_digits(services: Services) -> None:
    await services.customers.ensure("966501234567", "محمد العتيبي")
    await services.customers.ensure("966509876543", "Sarah Johnson")
    await services.conversations.append("966509876543", "user", "hi")
    arabic = await services.search.search("محمد")
    english = await services.search.search("sara")
    digits = await services.search.search("98765")
    assert arabic[0].wa_id == "966501234567"
    assert english[0].wa_id == "966509876543" and english[0].last_message_at is not None
    assert digits[0].wa_id == "966509876543" and digits[0].similarity == 0.9


async def test_phone_search_sees_customers_created_after_the_index(services: Services) -> None:
    await services.customers.ensure("966501234567", "Khalid")
    assert await services.search.search("Layla") == []
    await services.reservations.reserve("966507654321", "2026-12-06", "11:00", customer_name="Layla Hassan")
    hits = await services.search.search("Layla")
    assert hits[0].wa_id == "966507654321"
    assert hits[0].last_reservation == "2026-12-06 11:00"


async def test_whatsapp_from_the_agents_number_reaches_its_assistant_without_the_operators_chat(
    services: Services,
) -> None:
    agent = "12125550123"
    await services.conversations.append(agent, "secretary", "cancel every booking of Ahmed")
    await services.conversations.append(agent, "assistant", "Done: 1 cancelled.")
    await services.conversations.append(agent, "user", "hi, I want an appointment")
    await services.conversations.append(agent, "assistant", "Welcome!", delivery_status="sent")
    await services.conversations.append(agent, "user", "tomorrow please")
    assert await services.conversations.history_for_model(agent, audience="customer") == [
        {"role": "user", "content": "hi, I want an appointment"},
        {"role": "assistant", "content": "Welcome!"},
        {"role": "user", "content": "tomorrow please"},
    ]
    assert await services.conversations.history_for_model(agent) == [
        {"role": "user", "content": "cancel every booking of Ahmed"},
        {"role": "assistant", "content": "Done: 1 cancelled."},
    ]


async def test_a_late_delivery_report_never_moves_a_message_back(services: Services) -> None:
    sent = await services.conversations.append("966501234567", "secretary", "see you", delivery_status="sent",
                                               external_id="wamid.out-1")
    assert sent is not None
    await services.conversations.record_delivery("wamid.out-1", "read")
    await services.conversations.record_delivery("wamid.out-1", "delivered")
    [message] = await services.conversations.page("966501234567")
    assert message.delivery_status == "read"


async def test_a_delivery_state_this_service_does_not_track_is_ignored(services: Services) -> None:
    await services.conversations.append("966501234567", "secretary", "see you", delivery_status="sent",
                                        external_id="wamid.out-2")
    await services.conversations.record_delivery("wamid.out-2", "deleted")
    [message] = await services.conversations.page("966501234567")
    assert message.delivery_status == DeliveryStatus.SENT


async def test_roles_and_states_are_stored_as_their_strings_and_read_back_as_members(services: Services) -> None:
    await services.conversations.append("966501234567", MessageRole.SECRETARY, "hi", delivery_status="pending")
    async with services.db.reading() as session:
        raw = (await session.execute(text("SELECT role, delivery_status FROM conversation_messages"))).one()
        stored = (await session.scalars(select(ConversationMessage))).one()
    assert tuple(raw) == ("secretary", "pending")
    assert (type(stored.role), type(stored.delivery_status)) == (MessageRole, DeliveryStatus)
    assert json.dumps({"role": stored.role}) == '{"role": "secretary"}'


async def test_a_message_written_while_its_turn_ran_stays_open_and_follows_the_reply(services: Services) -> None:
    agent = "12125550123"
    first = await services.conversations.append(agent, "secretary", "list tomorrow")
    assert first is not None
    started = await services.conversations.turn_context(agent)
    later = await services.conversations.append(agent, "secretary", "also cancel Fahad")
    assert later is not None
    reply = await services.conversations.reply(agent, "assistant", "Tomorrow: 3 bookings.", started.open_ids)
    assert reply is not None and reply.meta == {"answers": [first.id]}
    follow_up = await services.conversations.turn_context(agent)
    assert follow_up.open_ids == (later.id,)
    assert follow_up.history == [{"role": "user", "content": "list tomorrow"},
                                 {"role": "assistant", "content": "Tomorrow: 3 bookings."},
                                 {"role": "user", "content": "also cancel Fahad"}]


async def test_a_burst_is_answered_by_one_reply_and_never_again(services: Services) -> None:
    wa_id = "966501234567"
    burst = [await services.conversations.append(wa_id, "user", text) for text in ("hi", "book tomorrow", "evening")]
    context = await services.conversations.turn_context(wa_id)
    assert context.open_ids == tuple(m.id for m in burst if m is not None)
    assert context.history == [{"role": "user", "content": "hi\n\nbook tomorrow\n\nevening"}]
    assert await services.conversations.reply(wa_id, "assistant", "18:00 is free.", context.open_ids) is not None
    assert await services.conversations.reply(wa_id, "assistant", "18:00 is free.", context.open_ids) is None
    assert await services.conversations.reply(wa_id, "assistant", "Again.", context.open_ids[-1:]) is None
    assert (await services.conversations.turn_context(wa_id)).open_ids == ()


async def test_two_replies_racing_for_the_same_messages_keep_exactly_one(services: Services) -> None:
    wa_id = "966501234567"
    asked = await services.conversations.append(wa_id, "user", "hi")
    assert asked is not None
    stored = await asyncio.gather(*[services.conversations.reply(wa_id, "assistant", f"hello {n}", [asked.id])
                                    for n in range(8)])
    assert sum(reply is not None for reply in stored) == 1
    replies = [m for m in await services.conversations.page(wa_id) if m.role == "assistant"]
    assert len(replies) == 1


async def test_a_reply_cannot_answer_another_conversations_messages(services: Services) -> None:
    other = await services.conversations.append("966509876543", "user", "hi")
    assert other is not None
    assert await services.conversations.reply("966501234567", "assistant", "hello", [other.id]) is None
    assert await services.conversations.open_prompts("966509876543") == [other.id]


async def test_the_system_agents_replies_never_answer_a_customer_writing_from_its_number(services: Services) -> None:
    agent = "12125550123"
    operator = await services.conversations.append(agent, "secretary", "list today")
    customer = await services.conversations.append(agent, "user", "hi, I want an appointment")
    assert operator is not None and customer is not None
    await services.conversations.reply(agent, "assistant", "Today: none.", [operator.id])
    assert await services.conversations.open_prompts(agent) == []
    assert await services.conversations.open_prompts(agent, "customer") == [customer.id]


async def test_a_match_is_what_a_search_finds_with_the_names_only(services: Services) -> None:
    """`match` (listings' and batches' `search_query`) finds the customers `search` (the phone selector) finds,
    with the same names and similarities, without the selector's details."""
    for wa_id, name in (("966500000001", "فهد الرشيدي"), ("966500000002", "راشد فهد الرشيدي"),
                        ("966500000003", "Fahad Al-Rashidi"), ("966500000004", "Omar Haddad")):
        await services.customers.ensure(wa_id, name)
    found = await services.search.search("Fahad Al-Rashidi")
    matched = await services.search.match("Fahad Al-Rashidi")
    assert {h.wa_id: (h.name, h.similarity, h.matched) for h in found} == {
        m.wa_id: (m.name, m.similarity, m.matched) for m in matched}
    assert [m.wa_id for m in matched] == ["966500000003", "966500000001", "966500000002"]
    assert matched[1].matched == "فهد الرشيدي" and not hasattr(matched[1], "last_message_at")
