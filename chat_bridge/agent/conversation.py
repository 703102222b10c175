"""Which conversation the current task is answering, for callbacks that the MCP client calls back into."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_answering: ContextVar[str | None] = ContextVar("answering", default=None)


@contextmanager
def answering(wa_id: str) -> Iterator[None]:
    """Mark the block as answering `wa_id`; MCP sessions opened inside it (and their callbacks) see it."""
    token = _answering.set(wa_id)
    try:
        yield
    finally:
        _answering.reset(token)


def current_wa_id() -> str | None:
    """The conversation being answered, or None outside `answering`."""
    return _answering.get()
