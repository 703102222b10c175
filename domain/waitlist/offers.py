"""The notices of the waitlist: an offer (with Accept and Decline buttons) and "the place has gone".

Each is an outbox row written in the transaction that makes the offer or ends it, so a rolled-back wave tells
nobody. Inside quiet hours they wait for the morning (and a wave's hold starts then), unless the place is soon. Each is stored
with its template; the sender picks the channel when it sends, by the customer's 24-hour window as it then stands
(interactive inside it, the template with its quick replies outside), like every notice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.notices.buttons import OFFER, Button, payload
from domain.notices.plans import Recipient, notice_values, recipients
from domain.notices.quiet import is_soon, send_after
from domain.notices.templates import NoticeConfig, NoticePurpose, NoticeTemplate
from domain.rules.planning import Booking
from domain.storage.models import Notice

ACCEPT, DECLINE = "accept", "decline"


@dataclass(frozen=True)
class Told:
    """A customer to tell about one offer: the offer's id and whom."""

    offer_id: int
    wa_id: str


class OfferNotices:
    """Writes the offer and gone notices of one transaction, reading each customer's language once."""

    def __init__(self, session: AsyncSession, config: NoticeConfig, now: datetime) -> None:
        self.session, self.config, self.now = session, config, now

    async def queue(self, purpose: NoticePurpose, told: Iterable[Told], day: date, slot: str) -> dict[int, int]:
        """One notice per offer in `told`; each offer's notice id."""
        told = list(told)
        people = await recipients(self.session, self.config, {t.wa_id for t in told})
        ids: dict[int, int] = {}
        for one in told:
            person = people.get(one.wa_id) or Recipient(None, self.config.default_language, None)
            if person.excluded:  # blocked or opted out since the wave began: told nothing
                continue
            notice = self._notice(purpose, one, person, day, slot)
            self.session.add(notice)
            await self.session.flush()
            ids[one.offer_id] = notice.id
        return ids

    def _notice(self, purpose: NoticePurpose, one: Told, person: Recipient, day: date, slot: str) -> Notice:
        template = self.config.templates[purpose]
        language = person.language if person.language in template.bodies else self.config.default_language
        values = notice_values(self.config, language, person.name, None, Booking(0, one.wa_id, day, slot, 0))
        buttons = offer_buttons(template, one.offer_id, language) if purpose is NoticePurpose.OFFER else None
        return Notice(batch_id=None, wa_id=one.wa_id, purpose=purpose.value, reservation_id=None, slot_date=day,
                      slot_time=slot, template=template.name, language=language,
                      parameters=list(template.parameters(values)),
                      text=template.render(language, values), buttons=buttons,
                      dedupe_key=f"{purpose.value}:{one.offer_id}", status="queued", attempts=0,
                      available_at=sent_at(self.config, self.now, day, slot), created_at=self.now,
                      updated_at=self.now)


def sent_at(config: NoticeConfig, now: datetime, day: date, slot: str) -> datetime:
    """When a waitlist notice about the slot `day` at `slot`, queued at `now`, goes out: at once, or when the quiet
    hours end unless the slot is soon."""
    return send_after(config, config.zone, now, urgent=is_soon(config, config.zone, now, (day, slot)))


def offer_buttons(template: NoticeTemplate, offer_id: int, language: str) -> list[dict[str, str]]:
    """Accept and Decline with the offer template's titles in `language`, as `notices.buttons` keeps them."""
    return [Button(payload(OFFER, offer_id, action), title).stored()
            for action, title in template.button_titles(language)]
