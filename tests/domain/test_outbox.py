"""The outbox's sending records over a real database: a claim, the committed start of a send, what a crash
leaves (sent again when the send never began, `unsure` when it had), a status settling an unsure notice, the
operator's decisions, and replies queued in the caller's transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from domain.errors import DomainError, ErrorKind
from domain.rules.delivery import DeliveryStatus
from domain.storage.models import ConversationMessage, MessageRole, Notice
from domain.notices.plans import NoticePlan, PlannedNotice
from domain.notices.templates import NoticePurpose
from domain.notices.outbox import Settled, queue_notices, queue_reply
from domain.services import Services
from tests.conftest import FixedClock

FATIMA, OMAR, LAYLA = "966501111111", "966502222222", "966503333333"
LEASE = timedelta(seconds=31)  # past the default 30-second lease


async def queue(services: Services, *wa_ids: str) -> list[int]:
    """A notice of an operator's text to each of `wa_ids`, queued as a batch queues it; their ids."""
    plan = NoticePlan([PlannedNotice(w, NoticePurpose.NOTICE, "en", (), "The clinic opens at noon.", None)
                       for w in wa_ids])
    async with services.db.unit_of_work() as session:
        await queue_notices(session, services.outbox.config, plan, None, services.clock())
    return [n.id for n in await stored(services) if n.wa_id in wa_ids]


async def stored(services: Services) -> list[Notice]:
    async with services.db.reading() as session:
        return list(await session.scalars(select(Notice).order_by(Notice.id)))


async def reply(services: Services, wa_id: str, text: str = "Your booking is on Sunday at 11:00.") -> tuple[int, int]:
    """An assistant's answer stored and queued in one transaction, as the reply path does: (message, notice)."""
    async with services.db.unit_of_work() as session:
        message = ConversationMessage(wa_id=wa_id, role=MessageRole.ASSISTANT, text=text, timestamp=services.clock())
        session.add(message)
        notice_id = await queue_reply(session, message, services.clock())
        return message.id, notice_id


async def message(services: Services, message_id: int) -> ConversationMessage:
    async with services.db.reading() as session:
        found = await session.get(ConversationMessage, message_id)
    assert found is not None
    return found


async def unsure_notice(services: Services, clock: FixedClock, wa_id: str = FATIMA) -> int:
    """A notice whose holder began its send and died: unsure once its lease ended and a claim came."""
    [notice_id] = await queue(services, wa_id)
    outbox = services.outbox
    await outbox.claim("dead", 10)
    assert await outbox.attempt(notice_id, "dead")
    clock.now += LEASE
    assert await outbox.claim("live", 10) == ([], [Settled(notice_id, "unsure")])
    return notice_id


async def test_a_notice_claimed_but_never_begun_by_a_dead_holder_is_claimed_again_once_its_lease_ends(
    services: Services, clock: FixedClock
) -> None:
    [notice_id] = await queue(services, FATIMA)
    outbox = services.outbox
    [dead] = (await outbox.claim("dead", 10))[0]
    assert await outbox.claim("live", 10) == ([], [])  # still the dead holder's while its lease runs
    clock.now += LEASE
    [again], settled = await outbox.claim("live", 10)
    assert (again.id, again.attempts, settled) == (dead.id, 1, [])  # the first attempt: none began before
    assert await outbox.attempt(notice_id, "dead") is False  # the old holder may not begin it any more
    assert await outbox.attempt(notice_id, "live") is True
    [notice] = await stored(services)
    assert (notice.status, notice.worker, notice.attempts, notice.attempted_at) == ("sending", "live", 1, clock.now)


async def test_a_notice_whose_send_began_before_its_holder_died_is_unsure_and_never_claimed_again(
    services: Services, clock: FixedClock
) -> None:
    notice_id = await unsure_notice(services, clock)
    clock.now += timedelta(days=1)
    assert await services.outbox.claim("live", 10) == ([], [])
    assert await services.outbox.attempt(notice_id, "live") is False
    [notice] = await stored(services)
    assert (notice.status, notice.attempts, notice.lease_until) == ("unsure", 1, None)
    assert notice.error == "its sender stopped after the send began: WhatsApp may have it"


async def test_a_send_begins_once_per_claim_and_renews_the_lease(services: Services, clock: FixedClock) -> None:
    [notice_id] = await queue(services, FATIMA)
    await services.outbox.claim("w", 10)
    clock.now += timedelta(seconds=20)
    assert await services.outbox.attempt(notice_id, "w") is True
    assert await services.outbox.attempt(notice_id, "w") is False
    clock.now += timedelta(seconds=20)  # past the claim's lease, within the send's
    assert await services.outbox.claim("other", 10) == ([], [])


async def test_a_status_naming_an_unsure_notice_settles_it(services: Services, clock: FixedClock) -> None:
    notice_id = await unsure_notice(services, clock)
    settled = await services.notice_statuses.record_status("wamid.late", "delivered", f"notice:{notice_id}")
    assert settled is not None and settled.status == "delivered" and settled.message is not None
    [notice] = await stored(services)
    assert (notice.status, notice.external_id) == ("delivered", "wamid.late")
    assert (await message(services, settled.message.id)).delivery_status == DeliveryStatus.DELIVERED


async def test_a_refusal_queues_the_notice_again_with_no_send_begun(services: Services, clock: FixedClock) -> None:
    [notice_id] = await queue(services, FATIMA)
    await services.outbox.claim("w", 10)
    assert await services.outbox.attempt(notice_id, "w")
    assert (await services.outbox.retry(notice_id, "other", "HTTP 500", 2, 0)).status == "sending"  # not its own
    assert (await services.outbox.retry(notice_id, "w", "HTTP 500", 2, 0)).status == "queued"
    [notice] = await stored(services)
    assert (notice.attempted_at, notice.worker, notice.attempts) == (None, None, 1)
    [claimed], _ = await services.outbox.claim("w", 10)
    assert claimed.attempts == 2


async def test_shutting_down_gives_back_only_the_notices_whose_send_never_began(
    services: Services, clock: FixedClock
) -> None:
    begun, waiting = await queue(services, FATIMA, OMAR)
    await services.outbox.claim("w", 10)
    assert await services.outbox.attempt(begun, "w")
    assert await services.outbox.release("w") == 1
    assert [(n.id, n.status, n.attempted_at is None) for n in await stored(services)] == [
        (begun, "sending", False), (waiting, "queued", True)]


async def test_a_lost_answer_makes_the_notice_unsure_at_once(services: Services, clock: FixedClock) -> None:
    [notice_id] = await queue(services, FATIMA)
    await services.outbox.claim("w", 10)
    assert await services.outbox.attempt(notice_id, "w")
    assert (await services.outbox.unsure(notice_id, "w", "the answer was lost")).status == "unsure"
    assert await services.outbox.claim("w", 10) == ([], [])


async def test_an_operator_resends_an_unsure_notice_afresh(services: Services, clock: FixedClock) -> None:
    notice_id = await unsure_notice(services, clock)
    assert (await services.notice_statuses.resend(notice_id)).status == "queued"
    [notice] = await stored(services)
    assert (notice.status, notice.attempted_at, notice.attempts, notice.worker) == ("queued", None, 0, None)
    [claimed], _ = await services.outbox.claim("live", 10)
    assert (claimed.id, claimed.attempts) == (notice_id, 1)


async def test_an_operator_dismisses_an_unsure_notice_and_decides_nothing_else(
    services: Services, clock: FixedClock
) -> None:
    notice_id = await unsure_notice(services, clock)
    [other] = await queue(services, OMAR)
    assert (await services.notice_statuses.dismiss(notice_id)).status == "dismissed"
    for decide, target, code in ((services.notice_statuses.resend, notice_id, "notice_not_unsure"),
                                 (services.notice_statuses.dismiss, other, "notice_not_unsure"),
                                 (services.notice_statuses.resend, 999_999, "notice_not_found"),
                                 (services.notice_statuses.dismiss, 2**40, "notice_not_found")):
        with pytest.raises(DomainError) as refused:
            await decide(target)
        assert refused.value.code == code
    assert refused.value.kind is ErrorKind.NOT_FOUND
    assert [(n.status, n.error) for n in await stored(services)] == [
        ("dismissed", "an operator chose not to send it again"), ("queued", None)]


async def test_a_reply_is_queued_in_the_callers_transaction_once(services: Services) -> None:
    message_id, notice_id = await reply(services, OMAR, "Yes, Sunday at 11:00 is free.")
    async with services.db.unit_of_work() as session:
        stored_message = await session.get(ConversationMessage, message_id)
        assert stored_message is not None
        assert await queue_reply(session, stored_message, services.clock()) == notice_id
    [notice] = await stored(services)
    assert (notice.purpose, notice.template, notice.text, notice.message_id, notice.language) == (
        "reply", None, "Yes, Sunday at 11:00 is free.", message_id, "en")
    assert (await message(services, message_id)).delivery_status == DeliveryStatus.PENDING

    with pytest.raises(RuntimeError):
        async with services.db.unit_of_work() as session:
            session.add(unsent := ConversationMessage(wa_id=OMAR, role=MessageRole.ASSISTANT, text="rolled back",
                                                      timestamp=services.clock()))
            await queue_reply(session, unsent, services.clock())
            raise RuntimeError("the turn failed before its commit")
    assert len(await stored(services)) == 1


async def test_a_reply_reaches_a_customer_who_opted_out_of_notices_but_not_a_blocked_one(services: Services) -> None:
    for wa_id in (OMAR, LAYLA):
        await services.customers.ensure(wa_id)
    await services.customers.set_flags(OMAR, notices_opt_out=True)
    await services.customers.set_flags(LAYLA, blocked=True)
    (_, to_omar), (to_layla_message, to_layla) = await reply(services, OMAR), await reply(services, LAYLA)
    claimed, settled = await services.outbox.claim("w", 10)
    assert [c.id for c in claimed] == [to_omar] and claimed[0].template is None
    assert [(s.notice_id, s.status) for s in settled] == [(to_layla, "skipped")]
    assert (await message(services, to_layla_message)).delivery_status == DeliveryStatus.FAILED


async def test_a_sent_reply_moves_its_own_message_and_adds_no_copy(services: Services) -> None:
    message_id, notice_id = await reply(services, OMAR)
    await services.outbox.claim("w", 10)
    assert await services.outbox.attempt(notice_id, "w")
    [settled] = await services.outbox.sent_many([(notice_id, "wamid.reply1")])
    assert settled.message is not None and settled.message.id == message_id
    assert settled.message.delivery_status == "sent"
    await services.notice_statuses.record_status("wamid.reply1", "read")
    answer = await message(services, message_id)
    assert (answer.delivery_status, answer.external_id) == (DeliveryStatus.READ, "wamid.reply1")
    async with services.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(ConversationMessage)) == 1


async def test_a_refused_reply_shows_its_own_message_failed(services: Services) -> None:
    message_id, notice_id = await reply(services, OMAR)
    await services.outbox.claim("w", 10)
    assert await services.outbox.attempt(notice_id, "w")
    settled = await services.outbox.failed(notice_id, "w", "HTTP 400: re-engagement message", 131047)
    assert settled.message is not None and settled.message.id == message_id
    assert (await message(services, message_id)).delivery_status == DeliveryStatus.FAILED


async def test_a_customers_replies_are_claimed_one_at_a_time_in_the_order_they_were_written(
    services: Services, clock: FixedClock
) -> None:
    """The reply a dead sender held keeps the customer's later replies waiting until it is taken again and sent:
    WhatsApp gets them in order. Another customer's reply and the notices are not held up."""
    _, first = await reply(services, FATIMA, "re: 4")
    _, second = await reply(services, FATIMA, "re: 5")
    _, third = await reply(services, FATIMA, "re: 6")
    _, others = await reply(services, OMAR, "re: 1")
    notice = (await queue(services, FATIMA))[-1]  # an operator's text to her, queued after her replies
    outbox = services.outbox
    dead, _ = await outbox.claim("dead", 10)
    assert [c.id for c in dead] == [first, others, notice]  # one reply a customer in one claim
    assert await outbox.claim("live", 10) == ([], [])  # the dead holder's lease still runs: the later ones wait
    clock.now += LEASE
    again, _ = await outbox.claim("live", 10)
    assert [c.id for c in again] == [first, others, notice]  # taken again as the dead holder left them
    assert await outbox.attempt(first, "live")
    assert await outbox.claim("live", 10) == ([], [])  # "re: 5" waits while "re: 4" is being sent
    await outbox.sent_many([(first, "wamid.four")])
    assert [c.id for c in (await outbox.claim("live", 10))[0]] == [second]
    await outbox.sent_many([(second, "wamid.five")])
    assert [c.id for c in (await outbox.claim("live", 10))[0]] == [third]
