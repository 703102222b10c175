"""JSON request bodies of the bridge's endpoints: a large one is decoded in a worker thread, so that reading it
never holds the other requests (`/health` included); one nested too deeply is unreadable, never a 500.

The body's size is bounded before this by the app (`chat_bridge.app.MAX_BODY_BYTES`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio

logger = logging.getLogger(__name__)

OFF_LOOP_BYTES = 64 * 1024  # a smaller body decodes in well under a millisecond: a thread would cost more


class UnreadableBody(ValueError):
    """The body is not JSON, or is nested deeper than the decoder goes; the message says which."""


async def decode_json(body: bytes) -> Any:
    """The decoded body, off the event loop when it is large; `UnreadableBody` when it cannot be decoded."""
    if len(body) <= OFF_LOOP_BYTES:
        return _decode(body)
    return await anyio.to_thread.run_sync(_decode_large, body)


def _decode_large(body: bytes) -> Any:
    logger.debug("decoding a %d-byte JSON body off the event loop", len(body))
    return _decode(body)


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except RecursionError:
        raise UnreadableBody("it is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise UnreadableBody("it is not JSON") from None
