"""Quick-reply buttons on notices, and the customer's press of one.

A button's payload names what it answers: `<kind>:<id>:<action>`, where `kind` says whose it is (`r`: a reminder,
its id the notice's; `w`: a waitlist offer, its id the offer's), and `action` is one of that kind's verbs. The
payload comes back from WhatsApp as the customer's message, so it is read as hostile: anything not of that exact
shape is garbled, and the handler of its kind still checks that the id belongs to the sender and is current.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

MAX_PAYLOAD = 64
PAYLOAD = re.compile(r"([a-z]):([0-9]{1,12}):([a-z_]{1,16})")
REMINDER, OFFER = "r", "w"


@dataclass(frozen=True)
class Button:
    """One quick-reply button: the payload WhatsApp returns when it is pressed, and the text the customer reads
    (WhatsApp allows 20 characters)."""

    payload: str
    title: str

    def stored(self) -> dict[str, str]:
        """As kept in `notices.buttons`."""
        return {"id": self.payload, "title": self.title[:20]}


@dataclass(frozen=True)
class Press:
    """A button payload as read: its kind, the id it names and the action."""

    kind: str
    target: int
    action: str


@dataclass(frozen=True)
class ButtonAnswer:
    """What a press did: the text the customer is told (in their language), and whether the customer's assistant
    should take the conversation on afterwards (a reschedule). With `start_turn` the text is not sent: it is kept
    with the stored press for the assistant to read (which booking), and the assistant's reply is the answer."""

    text: str
    start_turn: bool = False


class ButtonHandler(Protocol):
    """Answers the presses of one kind of button; a press that names what is not the sender's, or no longer
    current, changes nothing and is answered politely."""

    async def __call__(self, wa_id: str, press: Press) -> ButtonAnswer: ...


def payload(kind: str, target: int, action: str) -> str:
    return f"{kind}:{target}:{action}"


def read_payload(text: object) -> Press | None:
    """The press a payload names, or None when it is not one of ours (too long, another shape, not text)."""
    if not isinstance(text, str) or len(text) > MAX_PAYLOAD:
        return None
    found = PAYLOAD.fullmatch(text)
    if found is None:
        return None
    return Press(found.group(1), int(found.group(2)), found.group(3))
