"""Pending confirmations in the database: answered at most once, whichever instance takes the answer."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from domain.config import ClinicConfig
from domain.calendar.conversations import ConversationService
from domain.storage.database import Database
from domain.storage.models import MessageRole
from domain.calendar.pending_confirmations import ConfirmationState, PendingConfirmations, Question, add_question
from tests.conftest import FixedClock

ID = "0123456789abcdef0123456789abcdef"


async def ask(db: Database, clock: FixedClock, confirmation_id: str, wa_id: str, message_id: int) -> None:
    """A question as a turn's message stores it (`ConversationService.append(question=...)`), without the message."""
    async with db.unit_of_work() as session:
        add_question(session, Question(confirmation_id, timedelta(minutes=5)), wa_id, message_id, clock())


async def asked(db: Database, clock: FixedClock) -> PendingConfirmations:
    await ask(db, clock, ID, "12125550123", 1)
    return PendingConfirmations(db, clock)


async def test_a_confirmation_takes_the_first_answer_and_refuses_the_second(db: Database, clock: FixedClock) -> None:
    pending = await asked(db, clock)

    first, second = await pending.answer(ID, True), await pending.answer(ID, False)

    assert (first, second) == (True, False)
    assert await pending.state(ID) is ConfirmationState.ACCEPTED


async def test_of_answers_given_at_once_exactly_one_counts(db: Database, clock: FixedClock) -> None:
    pending = await asked(db, clock)

    answers = await asyncio.gather(*(pending.answer(ID, n % 2 == 0) for n in range(6)))

    assert answers.count(True) == 1


async def test_an_answer_after_the_confirmation_expired_is_refused(db: Database, clock: FixedClock) -> None:
    pending = await asked(db, clock)
    clock.now += timedelta(minutes=6)

    assert await pending.answer(ID, True) is False
    assert await pending.expire(ID) is ConfirmationState.EXPIRED


async def test_ending_the_wait_keeps_an_answer_given_just_before(db: Database, clock: FixedClock) -> None:
    pending = await asked(db, clock)
    await pending.answer(ID, False)

    assert await pending.expire(ID) is ConfirmationState.DECLINED


async def test_an_unknown_confirmation_takes_no_answer(db: Database, clock: FixedClock) -> None:
    pending = PendingConfirmations(db, clock)

    assert await pending.answer(ID, True) is False
    assert await pending.state(ID) is None


async def test_abandon_expires_only_the_pending_confirmations_of_its_conversation(db: Database,
                                                                                 clock: FixedClock) -> None:
    pending = await asked(db, clock)
    other, answered = "1" * 32, "2" * 32
    await ask(db, clock, other, "966501110001", 2)
    await ask(db, clock, answered, "12125550123", 3)
    await pending.answer(answered, True)

    assert await pending.abandon("12125550123") == [(ID, 1)]

    assert await pending.state(ID) is ConfirmationState.EXPIRED
    assert await pending.state(answered) is ConfirmationState.ACCEPTED
    assert await pending.state(other) is ConfirmationState.PENDING
    assert await pending.answer(ID, True) is False
    assert await pending.abandon("12125550123") == []


async def test_a_question_is_pending_from_the_transaction_that_stores_the_message_asking_it(
        db: Database, clock: FixedClock) -> None:
    conversations = ConversationService(db, ClinicConfig(), clock)
    pending = PendingConfirmations(db, clock)

    stored = await conversations.append("12125550123", MessageRole.ASSISTANT, "Apply it?",
                                        meta={"kind": "confirmation"}, question=Question(ID, timedelta(minutes=5)))

    assert stored is not None and await pending.state(ID) is ConfirmationState.PENDING
    assert await pending.abandon("12125550123") == [(ID, stored.id)]  # a dead turn's question: expired at once


async def test_a_question_whose_message_is_not_stored_is_not_pending(db: Database, clock: FixedClock) -> None:
    conversations = ConversationService(db, ClinicConfig(), clock)
    await conversations.append("12125550123", MessageRole.USER, "hi", external_id="wamid.1")

    again = await conversations.append("12125550123", MessageRole.ASSISTANT, "Apply it?", external_id="wamid.1",
                                       question=Question(ID, timedelta(minutes=5)))  # refused in the transaction

    assert again is None and await PendingConfirmations(db, clock).state(ID) is None
