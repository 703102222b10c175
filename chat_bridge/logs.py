"""The service's log lines: one JSON object per line on stderr (or plain text), each naming the request and the
conversation it belongs to.

No line carries a query string's values: a browser can only pass the operator token to the WebSocket as
`?token=`, Meta's verification passes its token the same way, and a search's `?q=` is a customer's name.
Every query is written with its names only (`/ws?token=[redacted]`), in uvicorn's lines and the app's.

`request_id` is the caller's `X-Request-ID` when it is a sane token (else one made here), sent back on the
response; a turn run by the work queue is `job-<id>`. `conversation_id` is the contact (`wa_id`) whose turn
or message is being handled. Both live in context variables, so every line logged while handling them
carries them, whichever module logs it.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

from pythonjsonlogger.json import JsonFormatter
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LogFormat = Literal["json", "text"]
REQUEST_ID_HEADER = "x-request-id"
HANDLER_NAME = "calendar-agent"
# A request id a client may choose: short, printable, nothing a log reader could mistake for structure.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(conversation_id)s"
TEXT = "%(asctime)s %(levelname)s %(name)s [request=%(request_id)s conversation=%(conversation_id)s] %(message)s"

# A URL path and its query inside a log line (`/ws?token=abc`, `http://host/x?q=1`).
QUERY_IN_TEXT = re.compile(r"(/[^\s?\"'#]*)\?([^\s\"'#]+)")
REDACTED = "[redacted]"

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_conversation_id: ContextVar[str | None] = ContextVar("conversation_id", default=None)


class LogContext(logging.Filter):
    """Adds the current request id and conversation id to every record (None outside them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.conversation_id = _conversation_id.get()
        return True


def query_names(query: str) -> str:
    """A query string with its values taken out: `token=abc&q=x` -> `token=[redacted]&q=[redacted]`."""
    names = [part.partition("=")[0][:40] for part in re.split(r"[&;]", query) if part]
    return "&".join(f"{name}={REDACTED}" if name else REDACTED for name in names)


def redacted_path(path: str) -> str:
    """A request target as logged: the path, and of its query the names only."""
    target, mark, query = path.partition("?")
    return f"{target}?{query_names(query)}" if mark else path


def redacted_text(text: str) -> str:
    """Every URL query inside `text` with its values taken out."""
    return QUERY_IN_TEXT.sub(lambda found: f"{found[1]}?{query_names(found[2])}", text)


class QueryRedaction(logging.Filter):
    """Takes the values out of every query string a record carries. uvicorn passes the request target as an
    argument (`"WebSocket %s"`), which is redacted whole, whatever characters it holds; any other URL in the
    finished line is caught by its shape."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redacted_path(a) if isinstance(a, str) and a.startswith("/") else a
                                for a in record.args)
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = redacted_text(message), None
        return True


def configure_logging(fmt: LogFormat = "json", level: str = "INFO") -> None:
    """Send every logger's records (uvicorn's included) to stderr in `fmt`; stdout stays free (MCP stdio)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(LogContext())
    handler.addFilter(QueryRedaction())
    if fmt == "json":
        handler.setFormatter(JsonFormatter(FIELDS, rename_fields={"levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(TEXT))
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)  # configured again (a test's second run): one line per record, not two
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def request_id_from(value: str | None) -> str:
    """The caller's request id when it is sane, else a new one."""
    if value is not None and SANE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


@contextmanager
def conversation(wa_id: str | None, request_id: str | None = None) -> Iterator[None]:
    """Log the block as handling `wa_id`'s conversation (and, given, under `request_id`)."""
    token = _conversation_id.set(wa_id)
    request = _request_id.set(request_id) if request_id is not None else None
    try:
        yield
    finally:
        _conversation_id.reset(token)
        if request is not None:
            _request_id.reset(request)


class RequestIds:
    """ASGI middleware: each HTTP request and WebSocket gets its request id (the caller's `X-Request-ID` when
    sane), sent back in the response's `X-Request-ID`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope).get(REQUEST_ID_HEADER))

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        token = _request_id.set(request_id)
        try:
            await self.app(scope, receive, sending if scope["type"] == "http" else send)
        finally:
            _request_id.reset(token)
