"""The logging capability: the server's own log records reach the client, at the level the client sets.

While a request of a client runs (a tool call, a resource read), every record the product's loggers write
(`domain.*`, `mcp_server.*`) is also sent to that client as `notifications/message` on the request's own stream,
in the order written and before the request's answer, when it is at or above the client's level:

- on a handshake-era connection (protocol before 2026-07-28) the level is the one the client last set with
  `logging/setLevel` on that connection, `DEFAULT_LEVEL` until it sets one;
- from 2026-07-28 on there is no `logging/setLevel`: each request names its level in `_meta`, and the SDK sends
  nothing the request did not ask for.

A record is sent only if the process writes it at all (LOG_LEVEL): a client cannot make the server chattier
than its operator configured. A request's records past `MAX_RECORDS` are dropped, so a runaway loop in a tool
cannot queue without bound.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, get_args
from weakref import WeakKeyDictionary

import anyio
from anyio.streams.memory import MemoryObjectSendStream
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types.version import is_version_at_least
from mcp_types import EmptyResult, LoggingLevel, SetLevelRequestParams

LEVELS: Final[tuple[LoggingLevel, ...]] = get_args(LoggingLevel)  # least severe first (RFC 5424)
DEFAULT_LEVEL: Final[LoggingLevel] = "warning"  # until a client sets one: what needs its attention only
PRODUCT_LOGGERS: Final = ("domain", "mcp_server")
MAX_RECORDS: Final = 1_000  # per request
_FORWARDED_METHODS: Final = frozenset({"tools/call", "resources/read", "prompts/get"})
_REQUEST_SCOPED_LOGS: Final = "2026-07-28"  # from this version on the request's `_meta` names the level


def level_of(record: logging.LogRecord) -> LoggingLevel:
    """The MCP level of a Python log record."""
    if record.levelno >= logging.CRITICAL:
        return "critical"
    if record.levelno >= logging.ERROR:
        return "error"
    if record.levelno >= logging.WARNING:
        return "warning"
    return "info" if record.levelno >= logging.INFO else "debug"


def at_least(level: LoggingLevel, threshold: LoggingLevel) -> bool:
    return LEVELS.index(level) >= LEVELS.index(threshold)


@dataclass(frozen=True)
class _Sink:
    """Where the records of the running request go, and from which level."""

    records: MemoryObjectSendStream[logging.LogRecord]
    threshold: LoggingLevel


_SINK: ContextVar[_Sink | None] = ContextVar("mcp_client_log_sink", default=None)


class _Forwarder(logging.Handler):
    """Hands each record written inside a request to that request's sink; elsewhere it does nothing."""

    def emit(self, record: logging.LogRecord) -> None:
        sink = _SINK.get()
        if sink is None or not at_least(level_of(record), sink.threshold):
            return
        try:
            sink.records.send_nowait(record)
        except (anyio.WouldBlock, anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # past MAX_RECORDS, or the request has answered: dropped, never blocking the writer


_FORWARDER: Final = _Forwarder()


def _attach(loggers: Iterable[str]) -> None:
    for name in loggers:
        logger = logging.getLogger(name)
        if _FORWARDER not in logger.handlers:
            logger.addHandler(_FORWARDER)


class ClientLogging:
    """`logging/setLevel` for a server, and the middleware that sends a request's records to its client."""

    def __init__(self, loggers: Iterable[str] = PRODUCT_LOGGERS) -> None:
        self._levels: WeakKeyDictionary[object, LoggingLevel] = WeakKeyDictionary()
        _attach(loggers)

    async def set_level(self, ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams) -> EmptyResult:
        """`logging/setLevel`: from now on this connection receives records at `params.level` and above."""
        connection = connection_of(ctx.session)
        if connection is not None:
            self._levels[connection] = params.level
        return EmptyResult()

    def threshold(self, ctx: ServerRequestContext[Any, Any]) -> LoggingLevel:
        """The least severe level this request's client receives."""
        if is_version_at_least(ctx.protocol_version, _REQUEST_SCOPED_LOGS):
            return LEVELS[0]  # the SDK keeps to the level the request's `_meta` names
        connection = connection_of(ctx.session)
        return self._levels.get(connection, DEFAULT_LEVEL) if connection is not None else DEFAULT_LEVEL

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.request_id is None or ctx.method not in _FORWARDED_METHODS:
            return await call_next(ctx)
        send, receive = anyio.create_memory_object_stream[logging.LogRecord](MAX_RECORDS)
        outcome: HandlerResult | None = None
        failure: Exception | None = None
        async with anyio.create_task_group() as group:
            group.start_soon(self._deliver, ctx, receive)
            token = _SINK.set(_Sink(send, self.threshold(ctx)))
            try:
                outcome = await call_next(ctx)
            except Exception as error:  # re-raised below, unwrapped, once every record has gone out
                failure = error
            finally:
                _SINK.reset(token)
                send.close()
        if failure is not None:
            raise failure
        return outcome

    @staticmethod
    async def _deliver(ctx: ServerRequestContext[Any, Any], records: Any) -> None:
        """Sends the request's records in order; a client that is gone costs the request nothing."""
        async with records:
            async for record in records:
                with warnings.catch_warnings():  # deprecated from 2026-07-28 on, and what clients before it use
                    warnings.simplefilter("ignore", MCPDeprecationWarning)
                    sending = ctx.session.send_log_message(level_of(record), record.getMessage(),
                                                           logger=record.name, related_request_id=ctx.request_id)
                try:
                    await sending
                except Exception:  # the client went away: the answer's own delivery reports that
                    continue


def connection_of(session: object) -> object | None:
    """The client connection a request's session belongs to. The SDK keeps one `Connection` per client connection
    and wraps it in a new session object for each request; it offers no public handle on it, so the session's own
    reference is read."""
    return getattr(session, "_connection", None)

