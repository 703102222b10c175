"""The batch preview's side of a confirmation: for an MCP Apps host that shows the preview, a batch that needs
confirmation answers the model without its token, and hands the preview the token and the call to repeat with it."""

from __future__ import annotations

from typing import Any

from mcp.server.apps import client_supports_apps
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult

from domain.system_agent.batch import BatchReport
from mcp_server.batch_answers import UNBOUNDED, Verbosity, batch_text, structured
from mcp_server.confirmation import question
from mcp_server.customer_data import marked
from mcp_server.rendering import TEXT_BUDGET
from mcp_server.toolkit import answer
from mcp_server.views import CONFIRMATION_META_KEY
from mcp_server.views.surface import PREVIEWED_TOOLS, AppsSurface

PREVIEWED_EN = ("Nothing was written. The person decides in the preview shown to them: confirming there applies "
                "exactly this change, declining writes nothing. Do not call {tool} again for this change; wait for "
                "their decision.")
PREVIEWED_AR = ("لم يُكتب شيء. يقرر الشخص في المعاينة المعروضة له: تأكيده هناك يطبّق هذا التغيير بعينه، ورفضه "
                "لا يكتب شيئًا. لا تستدعِ {tool} مرة أخرى لهذا التغيير؛ انتظر قراره.")


def shows_preview(ctx: Context[Any], tool: str) -> bool:
    """Whether the person answers this call's question in the batch preview: the client negotiated MCP Apps,
    the server lists the views, and `tool` is what it called (through `more_tools` no preview is shown)."""
    serves_views = isinstance(getattr(ctx.mcp_server, "views", None), AppsSurface)
    called = (ctx.request_context.params or {}).get("name")
    return serves_views and called == tool and tool in PREVIEWED_TOOLS and client_supports_apps(ctx)


def called_arguments(ctx: Context[Any]) -> dict[str, Any]:
    """The arguments of this `tools/call` as sent, but a confirmation token: what the preview's Confirm sends
    again, with the token of the change it shows."""
    arguments = (ctx.request_context.params or {}).get("arguments") or {}
    return {name: value for name, value in arguments.items() if name != "confirmation_token"}


def previewed_answer(report: BatchReport, verbosity: Verbosity, tool: str, arguments: dict[str, Any]
                     ) -> CallToolResult:
    """A needs_confirmation answer the person decides in an MCP Apps host's batch preview: the model reads the
    change and that the person decides, never the token; the preview gets the token, the call to repeat with it
    and the question, in the result's `_meta` (`mcp_server.views.CONFIRMATION_META_KEY`)."""
    assert report.confirmation is not None
    step = (PREVIEWED_AR if report.ar else PREVIEWED_EN).format(tool=tool)
    data: dict[str, Any] = dict(report.to_dict(verbosity))
    data.update(confirmation=dict(data["confirmation"], instructions=step), next_step=step)
    data = marked(data)
    text = batch_text(data, report.ar, TEXT_BUDGET if verbosity == "summary" else UNBOUNDED)  # the token not in it
    kept = {key: value for key, value in data["confirmation"].items() if key != "token"}
    confirmation = {"token": report.confirmation.token, "tool": tool, "arguments": arguments,
                    "question": question(report, report.ar)}
    result = answer(text, structured(dict(data, confirmation=kept), verbosity))
    return result.model_copy(update={"meta": {CONFIRMATION_META_KEY: confirmation}})
