"""Confirmations waiting for an operator's answer, kept in the database so that any instance can take the
answer: the one that asked waits for it, the one the operator reached records it.

A confirmation is answered at most once: `answer` and `expire` both change it only while it is pending,
so of two answers given at once (two sidebars, two instances) one wins and the other is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock, system_clock
from domain.storage.database import Database
from domain.storage.models import PendingConfirmation


class ConfirmationState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Question:
    """A confirmation asked in a conversation, stored with the message that asks it (`ConversationService.append`):
    a process that dies between the two never leaves a question shown pending that no turn can expire."""

    confirmation_id: str
    timeout: timedelta


def add_question(session: AsyncSession, question: Question, wa_id: str, message_id: int, now: datetime) -> None:
    """The pending row of `question`, asked by the message `message_id`, in the caller's transaction."""
    session.add(PendingConfirmation(id=question.confirmation_id, wa_id=wa_id, message_id=message_id,
                                    state=ConfirmationState.PENDING, asked_at=now, expires_at=now + question.timeout))


class PendingConfirmations:
    """The confirmations asked on every instance, and their answers."""

    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self.db = db
        self.clock = clock

    async def answer(self, confirmation_id: str, accept: bool) -> bool:
        """Record the operator's answer; False when nothing is pending under that id (unknown, answered or
        expired)."""
        state = ConfirmationState.ACCEPTED if accept else ConfirmationState.DECLINED
        now = self.clock()
        pending = (PendingConfirmation.id == confirmation_id,
                   PendingConfirmation.state == ConfirmationState.PENDING, PendingConfirmation.expires_at > now)
        return await self._settle(pending, state) > 0

    async def expire(self, confirmation_id: str) -> ConfirmationState:
        """End the wait: still pending becomes expired; an answer given meanwhile stands. The final state."""
        pending = (PendingConfirmation.id == confirmation_id, PendingConfirmation.state == ConfirmationState.PENDING)
        await self._settle(pending, ConfirmationState.EXPIRED)
        return await self.state(confirmation_id) or ConfirmationState.EXPIRED

    async def abandon(self, wa_id: str) -> list[tuple[str, int]]:
        """Expire the confirmations still pending in `wa_id`'s conversation: called when a turn of it starts,
        they were asked by a turn that can no longer hear the answer (its process died or was stopped). The
        `(id, message_id)` of each one expired here."""
        query = select(PendingConfirmation.id, PendingConfirmation.message_id).where(
            PendingConfirmation.wa_id == wa_id, PendingConfirmation.state == ConfirmationState.PENDING)
        async with self.db.reading() as session:
            found = [(str(row.id), int(row.message_id)) for row in await session.execute(query)]
        expired = []
        for confirmation_id, message_id in found:
            pending = (PendingConfirmation.id == confirmation_id, PendingConfirmation.state == ConfirmationState.PENDING)
            if await self._settle(pending, ConfirmationState.EXPIRED):
                expired.append((confirmation_id, message_id))
        return expired

    async def state(self, confirmation_id: str) -> ConfirmationState | None:
        query = select(PendingConfirmation.state).where(PendingConfirmation.id == confirmation_id)
        async with self.db.reading() as session:
            found = await session.scalar(query)
        return None if found is None else ConfirmationState(found)

    async def _settle(self, condition: tuple[ColumnElement[bool], ...], state: ConfirmationState) -> int:
        change = update(PendingConfirmation).where(*condition).values(state=state, answered_at=self.clock())
        async with self.db.unit_of_work() as session:
            result = await session.execute(change.execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)
