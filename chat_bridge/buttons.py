"""The customer's presses of quick-reply buttons, sent on to the handler of their kind (`domain.notices.buttons`):
`r`, a reminder's, answered by `domain.notices.replies`; other kinds are registered by whoever owns them (the
waitlist's offers). A payload that is garbled, or of a kind nobody handles, reaches no handler and no agent: it
gets the fallback's polite answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from domain.notices.buttons import ButtonAnswer, ButtonHandler, read_payload

Fallback = Callable[[str], Awaitable[ButtonAnswer]]


class ButtonRouter:
    """Kind -> handler; `press` answers one press."""

    def __init__(self, fallback: Fallback, handlers: Mapping[str, ButtonHandler] | None = None) -> None:
        self.fallback = fallback
        self.handlers: dict[str, ButtonHandler] = dict(handlers or {})

    def register(self, kind: str, handler: ButtonHandler) -> None:
        """`handler` answers the presses of `kind` from now on."""
        self.handlers[kind] = handler

    async def press(self, wa_id: str, payload: object) -> ButtonAnswer:
        """What the press of `payload` by `wa_id` did, as the customer is told."""
        press = read_payload(payload)
        handler = self.handlers.get(press.kind) if press is not None else None
        if press is None or handler is None:
            return await self.fallback(wa_id)
        return await handler(wa_id, press)
