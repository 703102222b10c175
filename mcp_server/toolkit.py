"""How a tool is declared here: strict arguments, clean schemas, honest annotations, one-line answers."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from importlib.metadata import PackageNotFoundError, version

from mcp import MCPError
from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from mcp_types import (INVALID_PARAMS, CallToolResult, SetLevelRequestParams, SubscribeRequestParams, TextContent,
                       ToolAnnotations, UnsubscribeRequestParams)
from pydantic import ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from domain.errors import DomainError
from domain.staff.audit import REFUSED, AuditEvent
from domain.staff.roles import signed
from mcp_server.principals import allowed, caller, refusal
from mcp_server.client_log import ClientLogging
from mcp_server.schemas import described, input_schema, output_schema, without_shared
from mcp_server.views.surface import AppsNegotiation, AppsSurface

# A read-only tool says only that (the spec gives destructiveHint and idempotentHint meaning for writes only).
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
# Writing tools can move or cancel existing reservations. Repeating a call has no further effect: the
# same booking again is "unchanged", a cancelled one is "already cancelled", moved rows no longer match.
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)
MAX_ERRORS = 10  # invalid arguments reported per call: a batch of 10,000 bad items is not 10,000 lines
Audit = Callable[[AuditEvent], Awaitable[None]]  # writes one line of the audit log


def declare(
    fn: Callable[..., Awaitable[Any]],
    *,
    title: str,
    annotations: ToolAnnotations,
    notes: dict[str, str] | None = None,
) -> Tool:
    """A Tool from `fn` (its docstring is the description) that refuses unknown arguments, publishes inline
    schemas (the shared arguments and formats described once, by `schemas.shared_arguments_note`) and answers a
    domain error as a tool error (in Arabic when the call's `ar` argument is true).
    `notes` lead the description of every property so named, at any depth (e.g. the configured type names).

    The SDK has no public way to refuse unknown arguments, so this is the one place that reaches under it: it
    replaces `Tool.fn_metadata.arg_model` and the published schemas. `tests/mcp_server/test_toolkit.py` drives a
    declared tool through the SDK's client and fails, naming the SDK's version, when that stops working."""
    tool = Tool.from_function(_answering_domain_errors(fn), title=title, annotations=annotations,
                              description=inspect.cleandoc(fn.__doc__ or ""), structured_output=True)
    metadata = tool.fn_metadata
    metadata.arg_model = _strict(metadata.arg_model, tool.name)
    tool.parameters = described(without_shared(input_schema(metadata.arg_model.model_json_schema(by_alias=True))),
                                notes or {})
    if metadata.output_schema is not None:
        metadata.output_schema = output_schema(metadata.output_schema)
    return tool


def _answering_domain_errors(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """`fn` with every expected failure raised as a ToolError, in the language its `ar` argument asks for."""
    @functools.wraps(fn)
    async def run(**arguments: Any) -> Any:
        with domain_errors(arguments.get("ar") is True):
            return await fn(**arguments)
    return run


def _strict(model: type[ArgModelBase], tool: str) -> type[ArgModelBase]:
    """The same argument model, refusing names the tool does not take, its errors short and named by the tool."""
    config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    def model_validate(cls: type[ArgModelBase], /, obj: Any, **options: Any) -> ArgModelBase:
        try:
            return super(strict, cls).model_validate(obj, **options)
        except ValidationError as error:
            raise _concise(error, tool) from None

    strict: type[ArgModelBase] = type(model.__name__, (model,), {
        "model_config": config, "__module__": model.__module__, "model_validate": classmethod(model_validate)})
    return strict


def _concise(error: ValidationError, tool: str) -> ValidationError:
    """At most `MAX_ERRORS` problems, each where it is (the field path) and what is wrong, without links."""
    problems = error.errors(include_url=False)
    shown = problems[:MAX_ERRORS]
    title = tool if len(problems) == len(shown) else f"{tool} (the first {len(shown)} of {len(problems)})"
    return ValidationError.from_exception_data(title, [
        {"type": PydanticCustomError(p["type"], p["msg"]), "loc": _readable(p["loc"]), "input": _shown(p["input"])}
        for p in shown])


def _shown(value: Any) -> Any:
    """The refused input as the error quotes it; a long list or object by its size, since writing out the
    repr of 200,000 items costs more than refusing them."""
    if isinstance(value, list | dict) and len(value) > MAX_ERRORS:
        return f"<{type(value).__name__} of {len(value)} items>"
    return value


def _readable(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The path of field names and list indexes, without pydantic's names for the branches of a union."""
    return tuple(part for part in loc if isinstance(part, int) or part.isidentifier())


@contextmanager
def domain_errors(ar: bool = False) -> Iterator[None]:
    """An expected failure becomes a ToolError carrying its sentence (Arabic when `ar`)."""
    try:
        yield
    except DomainError as error:
        raise ToolError(error.message(ar)) from error


def answer(text: str, data: dict[str, Any]) -> CallToolResult:
    """A result with a one-line summary for people and the structured data for programs; a top-level
    field without a value is left out (the output schemas mark such fields optional)."""
    structured = {key: value for key, value in data.items() if value is not None}
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


def package_version() -> str:
    """This package's version, as `serverInfo.version` reports it."""
    try:
        return version("calendar-agent")
    except PackageNotFoundError:
        return "0+unknown"


class ClinicServer(MCPServer):
    """The SDK's server, with a version, with the logging capability (`mcp_server.client_log`), and with errors
    a client can rely on: an unknown prompt or bad prompt arguments are invalid params (-32602) with a sentence,
    not an internal error."""

    def __init__(self, name: str, **options: Any) -> None:
        super().__init__(name, version=package_version(), **options)
        self.unlisted: set[str] = set()  # tools `tools/list` leaves out, still called by name (`mcp_server.toolsets`)
        self.audit: Audit | None = None  # where a refused call is written down (`build_system_server` sets it)
        self.views: AppsSurface | None = None  # what an MCP Apps client sees beyond the others (`serve_views`)
        logs = ClientLogging()
        # The SDK's own way to serve a method its 2026 revision removed (see `mcp.server.extension.MethodBinding`).
        self._lowlevel_server.add_request_handler("logging/setLevel", SetLevelRequestParams, logs.set_level)
        self.middleware.append(logs)

    async def list_tools(self) -> list[Any]:
        """The tools listed to this caller: not the unlisted ones, nor those its principal may not call
        (`mcp_server.principals`)."""
        who = caller().principal
        tools = [tool for tool in await super().list_tools()
                 if tool.name not in self.unlisted and allowed(who, tool.name, tool.annotations)]
        return tools if self.views is None else self.views.tools(tools)

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        """A tool's answer, once its caller's principal may call it (a refusal names why; nothing runs)."""
        if self.views is not None and self.views.hides_tool(name):
            raise ToolError(f"Unknown tool: {name}")  # the SDK's words for a tool that does not exist
        tool = self._tool_manager.get_tool(name)
        who = caller()
        if tool is not None and not allowed(who.principal, name, tool.annotations):
            if self.audit is not None:
                signature = signed(who.principal, who.actor)
                await self.audit(AuditEvent(actor=signature.actor, role=signature.role, action=f"tool {name}",
                                            outcome=REFUSED, target=name))
            raise refusal(who.principal, name)
        return await super().call_tool(name, arguments, context)

    async def list_resources(self) -> list[Any]:
        """The resources listed to this caller: the views only to a client that negotiated MCP Apps."""
        listed = await super().list_resources()
        return [r for r in listed if self.views is None or not self.views.hides_resource(str(r.uri))]

    async def read_resource(self, uri: Any, context: Any = None) -> Any:
        """A resource's contents; a view, to a client that did not negotiate MCP Apps, is not found."""
        if self.views is not None and self.views.hides_resource(str(uri)):
            raise ResourceNotFoundError(f"Unknown resource: {uri}")  # the SDK's words for a missing one
        return await super().read_resource(uri, context)

    def serve_views(self, views: AppsSurface) -> None:
        """Show `views` (`mcp_server.views`) to the clients that negotiate MCP Apps, and to them only."""
        self.views = views
        self.middleware.append(AppsNegotiation())  # lets a listing ask whether its client negotiated Apps

    def serve_resource_subscriptions(self, subscribe: Any, unsubscribe: Any) -> None:
        """Serve 2025-era `resources/subscribe` and `resources/unsubscribe` (the SDK serves only the
        2026 `subscriptions/listen`, whose events come from the `subscriptions` bus given at construction)."""
        self._lowlevel_server.add_request_handler("resources/subscribe", SubscribeRequestParams, subscribe)
        self._lowlevel_server.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None,
                         context: Any = None) -> Any:
        try:
            return await super().get_prompt(name, arguments, context)
        except ValueError as error:
            known = ", ".join(sorted(p.name for p in await self.list_prompts()))
            raise MCPError(code=INVALID_PARAMS, message=f"{error}. Prompts: {known}.") from error


def invalid_params(error: DomainError) -> MCPError:
    """An expected failure of a resource read, as the invalid-params error a client can act on."""
    return MCPError(code=INVALID_PARAMS, message=error.message())
