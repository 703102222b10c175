"""What a POST to `/mcp` may carry, checked before the SDK reads it: at most `MAX_BODY_BYTES`, and a large body
decoded once off the event loop, where a list longer than any tool takes (or nesting too deep to decode) is
refused before the SDK decodes and validates it on the loop.

A call of 200,000 empty items is 800 KB: decoding and validating it on the loop held every other request,
`/health` included, for seconds. Decoded in a worker thread, it holds nothing; the SDK then decodes only
bodies whose lists are within bounds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp_types import INVALID_PARAMS, PARSE_ERROR
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Message, Receive

from domain.system_agent.requests import MAX_ITEMS

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # a batch of 10,000 items with a few fields each is about 700 KB
OFF_LOOP_BYTES = 64 * 1024  # a smaller body decodes in well under a millisecond: a thread would cost more


async def read_body(receive: Receive) -> tuple[bytes, list[Message]] | None:
    """The whole body and the messages that carried it, or None once it passes `MAX_BODY_BYTES`."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        size += len(message.get("body", b""))
        if size > MAX_BODY_BYTES:
            return None
        if message["type"] != "http.request" or not message.get("more_body", False):
            return b"".join(m.get("body", b"") for m in messages), messages


def replaying(messages: list[Message], receive: Receive) -> Callable[[], Awaitable[Message]]:
    """A `receive` that gives the messages already read again, then the connection's own."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()
    return replay


async def refusal(body: bytes) -> Response | None:
    """The answer to a body that must not reach the SDK, or None. Only a large body is looked at, off the loop."""
    if len(body) <= OFF_LOOP_BYTES:
        return None
    return await anyio.to_thread.run_sync(_refusal_of_large, body)


def too_large() -> Response:
    return PlainTextResponse("Request body too large", status_code=413)


def _refusal_of_large(body: bytes) -> Response | None:
    logger.debug("decoding a %d-byte MCP request off the event loop", len(body))
    try:
        message = json.loads(body)
    except RecursionError:
        return _error(None, PARSE_ERROR, "Parse error: the JSON is nested too deeply.")
    except ValueError:
        return None  # not JSON: the SDK answers its parse error at once
    found = oversized_list(message, MAX_ITEMS)
    if found is None:
        return None
    logger.warning("refused an MCP request with a list of %d items (at most %d)", found, MAX_ITEMS)
    return _error(message.get("id") if isinstance(message, dict) else None, INVALID_PARAMS,
                  f"A list in this request has {found} items; at most {MAX_ITEMS} per call.")


def oversized_list(value: Any, limit: int) -> int | None:
    """The length of a list longer than `limit` anywhere in a decoded JSON value, or None when there is none."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            if len(node) > limit:
                return len(node)
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
    return None


def _error(request_id: Any, code: int, message: str) -> Response:
    known = isinstance(request_id, str | int) and not isinstance(request_id, bool)
    body = {"jsonrpc": "2.0", "id": request_id if known else None, "error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=400)
