"""What a batch tells its customers: one notice per customer whose booking it moved, cancelled or made, in the
customer's language, leaving out blocked customers and those who opted out; or an operator's own text, as free
text inside WhatsApp's 24-hour window and as the notice template outside it.

Planning reads and never writes: the plan is previewed with the batch, and `domain.notices.outbox.queue_notices` inserts
it in the batch's own transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.storage.models import ConversationMessage, Customer, MessageRole
from domain.notices.templates import NO_NAME, NoticeConfig, NoticePurpose, language_of, weekday
from domain.rules.planning import ACTIVE, Booking

_CHUNK = 500
_LANGUAGE_MESSAGES = 5  # a customer's newest messages read to tell their language
SHOWN = 10  # people a preview names (who is left out and why); the rest are counted
WINDOW = timedelta(hours=24)  # WhatsApp's customer-service window: free text only this long after their message


def purpose_of(before: Booking | None, after: Booking | None) -> NoticePurpose | None:
    """What a change tells its customer: a booking moved, cancelled or made for them; None for a change they
    need not hear of (a new type, a rename)."""
    was = before is not None and before.status == ACTIVE
    now = after is not None and after.status == ACTIVE
    if was and now and before is not None and after is not None:
        return NoticePurpose.MOVED if before.slot != after.slot else None
    if was:
        return NoticePurpose.CANCELLED
    return NoticePurpose.BOOKED if now else None


def notice_values(config: NoticeConfig, language: str, name: str | None, before: Booking | None,
                  after: Booking | None, text: str = "") -> dict[str, str]:
    """What a notice's template may say, in `language`."""
    values = {"customer_name": (name or "").strip() or NO_NAME[language], "clinic_name": config.clinic_name,
              "text": text}
    for prefix, booking in (("old", before), ("new", after)):
        if booking is not None:
            values |= {f"{prefix}_date": booking.date.isoformat(), f"{prefix}_time": booking.time_slot,
                       f"{prefix}_weekday": weekday(booking.date, language)}
    return values


@dataclass
class PlannedNotice:
    """A notice a batch will queue: to whom, why, about which reservation (`item` is the batch's row, whose
    reservation id is final once the batch is written) and what it says."""

    wa_id: str
    purpose: NoticePurpose
    language: str
    parameters: tuple[str, ...]
    text: str
    slot: tuple[date, str] | None
    item: Any = None
    template: str | None = None  # None: sent as the free text itself (the customer wrote within 24 hours)
    # How it would go now: "text" (free form or interactive, inside the customer's 24-hour window, which closes at
    # `window_closes_at`) or "template". The sender decides again when it sends (`domain.workers.outbox`).
    channel: str = "template"
    window_closes_at: datetime | None = None
    name: str | None = None


@dataclass
class NoticePlan:
    """The notices of one batch: what will be queued, who is left out and why, one example per language."""

    notices: list[PlannedNotice] = field(default_factory=list)
    left_out: Counter[str] = field(default_factory=Counter)
    left_out_people: list[dict[str, str | None]] = field(default_factory=list)  # the first SHOWN: who and why
    excluded: dict[str, str] = field(default_factory=dict)  # every customer left out: wa_id -> why

    def leave_out(self, wa_id: str, name: str | None, why: str) -> None:
        self.left_out[why] += 1
        self.excluded[wa_id] = why
        if len(self.left_out_people) < SHOWN:
            self.left_out_people.append({"wa_id": wa_id, "name": name, "why": why})

    def preview(self) -> dict[str, Any]:
        examples: dict[str, str] = {}
        for notice in self.notices:
            examples.setdefault(notice.language, notice.text)
        kinds = Counter(n.channel for n in self.notices)
        return {"customers": len(self.notices), "by_kind": dict(kinds), "recipients": self.recipients(),
                "by_purpose": dict(Counter(n.purpose.value for n in self.notices)),
                "by_language": dict(Counter(n.language for n in self.notices)),
                "left_out": dict(self.left_out), "left_out_customers": list(self.left_out_people),
                "examples": examples}


    def recipients(self) -> list[dict[str, str | None]]:
        """The first SHOWN customers told: who, by which channel, and when their 24-hour window closes."""
        return [{"wa_id": n.wa_id, "name": n.name, "channel": n.channel,
                 "window_closes_at": n.window_closes_at.isoformat() if n.window_closes_at else None}
                for n in self.notices[:SHOWN]]


def window_closes(last_message: datetime | None, now: datetime) -> datetime | None:
    """When the customer's 24-hour window closes, if it is open at `now` (their last message is newer than 24 h)."""
    if last_message is None or last_message + WINDOW <= now:
        return None
    return last_message + WINDOW


async def last_messages(session: AsyncSession, wa_ids: Iterable[str]) -> dict[str, datetime]:
    """Each customer's newest message of their own (what opens WhatsApp's 24-hour window)."""
    wanted = sorted(set(wa_ids))
    found: dict[str, datetime] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = await session.execute(
            select(ConversationMessage.wa_id, func.max(ConversationMessage.timestamp))
            .where(ConversationMessage.wa_id.in_(wanted[start:start + _CHUNK]),
                   ConversationMessage.role == MessageRole.USER)
            .group_by(ConversationMessage.wa_id))
        found.update({wa_id: last for wa_id, last in rows.all()})
    return found


@dataclass(frozen=True)
class Recipient:
    name: str | None
    language: str
    excluded: str | None  # why no notice may go to them: blocked, opted_out


async def recipients(session: AsyncSession, config: NoticeConfig, wa_ids: Iterable[str]) -> dict[str, Recipient]:
    """Each customer's name, language (from their newest messages, else the clinic's default) and whether they
    may be messaged."""
    wanted = sorted(set(wa_ids))
    found: dict[str, Recipient] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        rows = (await session.execute(select(Customer.wa_id, Customer.name, Customer.is_blocked,
                                             Customer.notices_opt_out).where(Customer.wa_id.in_(chunk)))).all()
        newest = func.row_number().over(partition_by=ConversationMessage.wa_id,
                                        order_by=ConversationMessage.id.desc()).label("n")
        recent = (select(ConversationMessage.wa_id, ConversationMessage.text, newest)
                  .where(ConversationMessage.wa_id.in_(chunk), ConversationMessage.role == MessageRole.USER)
                  .subquery())
        texts: dict[str, list[str]] = {}
        for wa_id, text, _ in (await session.execute(
                select(recent).where(recent.c.n <= _LANGUAGE_MESSAGES).order_by(recent.c.wa_id, recent.c.n))).all():
            texts.setdefault(wa_id, []).append(text)
        for wa_id, name, blocked, opted_out in rows:
            excluded = "blocked" if blocked else "opted_out" if opted_out else None
            found[wa_id] = Recipient(name, language_of(texts.get(wa_id, []), config.default_language), excluded)
    return found


async def plan_notices(session: AsyncSession, config: NoticeConfig, items: Sequence[Any],
                       names: dict[str, str | None] | None = None, *, now: datetime | None = None) -> NoticePlan:
    """The notices for a batch's applied items (each with `wa_id`, `before`, `after`): one per customer, for the
    first of their changes that tells them something; each says its channel at `now` (as free text inside the
    customer's 24-hour window, else the template)."""
    plan = NoticePlan()
    told: set[str] = set()
    wanted = [(i, p) for i in items if i.wa_id and (p := purpose_of(i.before, i.after)) is not None]
    people = await recipients(session, config, {i.wa_id for i, _ in wanted})
    last = await last_messages(session, {i.wa_id for i, _ in wanted}) if now is not None else {}
    for item, purpose in wanted:
        if item.wa_id in told:
            continue
        told.add(item.wa_id)
        person = people.get(item.wa_id) or Recipient((names or {}).get(item.wa_id), config.default_language, None)
        if person.excluded:
            plan.leave_out(item.wa_id, person.name, person.excluded)
            continue
        template = config.templates[purpose]
        language = person.language if person.language in template.bodies else config.default_language
        values = notice_values(config, language, person.name, item.before, item.after)
        shown = item.after if purpose is not NoticePurpose.CANCELLED else item.before
        closes = window_closes(last.get(item.wa_id), now) if now is not None else None
        plan.notices.append(PlannedNotice(item.wa_id, purpose, language, template.parameters(values),
                                          template.render(language, values), shown.slot if shown else None, item,
                                          template.name, "text" if closes else "template", closes, person.name))
    return plan


async def plan_message(session: AsyncSession, config: NoticeConfig, wa_ids: Sequence[str], text: str,
                       now: datetime) -> NoticePlan:
    """A message from the clinic to each of `wa_ids`: the text itself to a customer who wrote within WhatsApp's
    24-hour window, else the free-notice template carrying it."""
    plan = NoticePlan()
    people = await recipients(session, config, wa_ids)
    last = await last_messages(session, wa_ids)
    template = config.templates[NoticePurpose.NOTICE]
    for wa_id in wa_ids:
        person = people.get(wa_id) or Recipient(None, config.default_language, None)
        if person.excluded:
            plan.leave_out(wa_id, person.name, person.excluded)
            continue
        if closes := window_closes(last.get(wa_id), now):
            plan.notices.append(PlannedNotice(wa_id, NoticePurpose.NOTICE, person.language, (), text, None,
                                              channel="text", window_closes_at=closes, name=person.name))
            continue
        language = person.language if person.language in template.bodies else config.default_language
        values = notice_values(config, language, person.name, None, None, text)
        plan.notices.append(PlannedNotice(wa_id, NoticePurpose.NOTICE, language, template.parameters(values),
                                          template.render(language, values), None, None, template.name,
                                          name=person.name))
    return plan


__all__ = ["NoticePlan", "PlannedNotice", "Recipient", "last_messages", "notice_values", "plan_message", "plan_notices",
           "purpose_of", "recipients", "window_closes"]
