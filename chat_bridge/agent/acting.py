"""Who the system agent's turn acts for: the people whose messages it answers, their roles read as they are now.

An operator's message is stored with its author (`authored`). A turn answers every open message at once (a burst),
and acts for the author with the least reach among them, the latest of those on a tie: whoever wrote last, nobody's
words are carried out with another person's greater reach (a viewer's "cancel Sunday" sent just before an
operator's question stays a viewer's request). A message without an author was written without accounts (the
operator token, or this machine): for it the agent acts as the system agent, as before accounts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from chat_bridge.agent.reach import a_role
from domain.calendar.conversations import ConversationService
from domain.staff.accounts import StaffAccounts
from domain.staff.roles import ACTING_FOR, RANK, Principal, Role
from domain.views import MessageView

AUTHOR = "author"  # the meta key of an operator's message that names its author: {"username", "via"}
STAFF = "staff"
PAGE = 100  # messages read back per page while looking for the open ones


def authored(meta: dict[str, Any] | None, principal: Principal) -> dict[str, Any] | None:
    """`meta` naming the staff member who wrote the message; unchanged in the token and local modes."""
    if principal.via != STAFF:
        return meta
    return {**(meta or {}), AUTHOR: {"username": principal.name, "via": principal.via}}


def author_of(message: MessageView) -> str | None:
    """The username of the staff member who wrote `message`; None when it was written without accounts. A role
    stored with it is never read: the account's role now is what counts."""
    author = (message.meta or {}).get(AUTHOR)
    if not isinstance(author, dict) or author.get("via") != STAFF or not isinstance(author.get("username"), str):
        return None
    return str(author["username"])


@dataclass(frozen=True)
class Asker:
    """Who a turn acts for: `principal` (None: the system agent, as without accounts), unless `refused` says why
    it may not act at all."""

    principal: Principal | None = None
    refused: str | None = None

    @property
    def reach(self) -> int:
        """How far this asker reaches: a refused one not at all, the system agent as far as an admin."""
        if self.refused is not None:
            return -1
        return RANK[self.principal.role if self.principal is not None else Role.ADMIN]


SYSTEM_AGENT = Asker()


def disabled(username: str) -> Asker:
    return Asker(refused=f"I did nothing: {username} no longer has an enabled staff account, so I may not act on "
                         "their message. Nothing was read or changed; ask again from an enabled account.")


def least_reach(askers: Sequence[Asker]) -> Asker:
    """The asker who reaches least; the latest of them when several reach as far."""
    chosen = SYSTEM_AGENT
    for asker in askers:
        if asker.reach <= chosen.reach:
            chosen = asker
    return chosen


class Askers:
    """Who the authors of a turn's open messages are now (`StaffAccounts.principal`), and whom the turn acts for."""

    def __init__(self, conversations: ConversationService, staff: StaffAccounts) -> None:
        self.conversations, self.staff = conversations, staff

    async def __call__(self, wa_id: str, open_ids: Sequence[int]) -> Asker:
        """Whom a turn answering the messages `open_ids` of `wa_id` acts for."""
        names = [author_of(message) for message in await self._messages(wa_id, open_ids)]
        askers = {name: await self._asker(name) for name in set(names)}  # each account read once
        return least_reach([askers[name] for name in names])

    async def _asker(self, username: str | None) -> Asker:
        if username is None:
            return SYSTEM_AGENT
        principal = await self.staff.principal(username)
        return Asker(principal) if principal is not None else disabled(username)

    async def _messages(self, wa_id: str, open_ids: Sequence[int]) -> list[MessageView]:
        """The messages `open_ids`, oldest first, read back a page at a time from the newest of them."""
        wanted, found, before = set(open_ids), list[MessageView](), max(open_ids, default=0) + 1
        while wanted:
            page = await self.conversations.page(wa_id, before_id=before, limit=PAGE)
            found += [message for message in page if message.id in wanted]
            wanted -= {message.id for message in page}
            if len(page) < PAGE or page[0].id <= min(open_ids):
                break
            before = page[0].id
        return sorted(found, key=lambda message: message.id)


@contextmanager
def acting_for(principal: Principal | None) -> Iterator[None]:
    """Within the block, MCP tools run in this process act for `principal` (`ACTING_FOR`); the tasks an in-memory
    MCP session starts inside it inherit it (a task copies the context it is created in)."""
    token = ACTING_FOR.set(principal)
    try:
        yield
    finally:
        ACTING_FOR.reset(token)


def acting_line(principal: Principal | None) -> str:
    """The per-turn line of the system prompt that names the person the agent acts for (none without accounts)."""
    if principal is None:
        return ""
    reads_only = "" if principal.writes else ": they read the calendar but may not change it"
    return f"\nYou act for {principal.name}, {a_role(principal.role)}{reads_only}."
