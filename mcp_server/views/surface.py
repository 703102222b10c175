"""What a client that negotiated MCP Apps sees beyond every other client, and nothing more.

The SDK's `Apps` extension serves the `ui://` documents (mime `text/html;profile=mcp-app`, `_meta.ui.csp`) and
advertises the capability; its `@apps.tool` decorator, though, registers a plain `Tool.from_function`, which would
drop the strict arguments every tool here has (`mcp_server.toolkit.declare`). So the tools stay declared as they
are, and `_meta.ui` is stamped on their listing here, for an Apps client only: a client that did not negotiate
Apps is listed, answered and read exactly as by a server built without views (no `_meta.ui`, no app-only tool,
no `ui://` resource). Whether the client negotiated Apps is read per request (`AppsNegotiation`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from mcp.server.apps import Apps, client_supports_apps
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import Tool as ListedTool

from mcp_server.views import PREVIEW_URI, VIEW_WEEK_TOOL, WEEK_URI, documents

# Every tool whose change the person confirms in the preview (`mcp_server.confirmation.run_confirmed`).
PREVIEWED_TOOLS = ("system_batch_reserve", "system_batch_modify", "system_batch_cancel", "system_undo_batch",
                   "system_message_customers", "system_close_days", "system_reopen_days", "system_mark_attendance")
BINDINGS: Mapping[str, Mapping[str, Any]] = {
    "system_get_reservations": {"resourceUri": WEEK_URI},
    VIEW_WEEK_TOOL: {"resourceUri": WEEK_URI, "visibility": ["app"]},
    **{name: {"resourceUri": PREVIEW_URI} for name in PREVIEWED_TOOLS},
}
UI_SCHEME = "ui://"

_REQUEST: ContextVar[ServerRequestContext[Any, Any] | None] = ContextVar("clinic_views_request", default=None)


class AppsNegotiation:
    """Middleware keeping the request being handled at hand, so a listing (which the SDK hands no context) can
    ask whether its client negotiated Apps."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        token = _REQUEST.set(ctx)
        try:
            return await call_next(ctx)
        finally:
            _REQUEST.reset(token)


def apps_client() -> bool:
    """Whether the client of the request being handled negotiated MCP Apps (`mcp.server.apps`)."""
    request = _REQUEST.get()
    return request is not None and client_supports_apps(request)


def app_only(name: str) -> bool:
    """Whether the tool `name` is the views' own, listed and called for an Apps client only."""
    return list(BINDINGS.get(name, {}).get("visibility", ())) == ["app"]


@dataclass(frozen=True)
class AppsSurface:
    """The Apps-only part of a server's listings: the `_meta.ui` bindings, the app-only tools, the views."""

    bindings: Mapping[str, Mapping[str, Any]]

    def tools(self, listed: Sequence[ListedTool]) -> list[ListedTool]:
        """`listed` as this client sees it: bound to the views for an Apps client, else without the app-only
        tools and untouched."""
        if not apps_client():
            return [tool for tool in listed if not app_only(tool.name)]
        return [self._bound(tool) for tool in listed]

    def hides_tool(self, name: str) -> bool:
        """An app-only tool is, to any other client, a tool that does not exist."""
        return app_only(name) and not apps_client()

    def hides_resource(self, uri: str) -> bool:
        """A view is, to a client that did not negotiate Apps, a resource that does not exist."""
        return uri.startswith(UI_SCHEME) and not apps_client()

    def _bound(self, tool: ListedTool) -> ListedTool:
        ui = self.bindings.get(tool.name)
        if ui is None:
            return tool
        return tool.model_copy(update={"meta": {**(tool.meta or {}), "ui": dict(ui)}})


def views_extension() -> Apps:
    """The SDK's Apps extension serving the two views: their HTML, mime and `_meta.ui.csp` (no network)."""
    apps = Apps()
    apps.add_html_resource(WEEK_URI, documents.week_document(), name="week", title="Calendar week",
                           description="The week's calendar, day by day and slot by slot.", csp=documents.VIEW_CSP)
    apps.add_html_resource(PREVIEW_URI, documents.preview_document(), name="batch-preview",
                           title="Batch preview", description="A batch's change, for the person to confirm or "
                           "decline.", csp=documents.VIEW_CSP)
    return apps
