"""The system agent's MCP server: privileged batch calendar tools, resources and workflow prompts."""

from __future__ import annotations

from collections.abc import Sequence

from mcp.server import MCPServer

from domain.services import Services
from domain.rules.capacity import slot_capacity
from domain.config import BookingSource, ClinicConfig
from domain.system_agent.batch import SystemAgentBatchService
from domain.system_agent.queries import SystemAgentQueryService
from mcp_server.attendance_tools import AttendanceTools
from mcp_server.batch_tools import BatchTools
from mcp_server.clinic_tools import ClinicTools
from mcp_server.completions import add_completions
from mcp_server.dashboard_tool import DashboardTool
from mcp_server.operator_prompts import add_operator_prompts
from mcp_server.query_tools import QueryTools
from mcp_server.recall_tools import RecallTools
from mcp_server.resources import add_calendar_resources
from mcp_server.subscriptions import DaySubscriptions
from mcp_server.schemas import JsonSchema, shared_arguments_note
from mcp_server.toolkit import ClinicServer
from mcp_server.toolsets import ToolsetGateway
from mcp_server.views.surface import BINDINGS, AppsSurface, views_extension
from mcp_server.views.week import WeekView
from mcp_server.waitlist_tools import SystemWaitlistTools


def build_system_server(
    services: Services,
    batch: SystemAgentBatchService,
    queries: SystemAgentQueryService,
    toolsets: Sequence[str] = (),
    views: bool = True,
) -> MCPServer:
    """An MCPServer exposing the system agent's tools over these services (no transport attached): the core
    tools and the `toolsets` named listed, the others reached through `more_tools` (`mcp_server.toolsets`);
    with `views`, the MCP Apps views too, for the clients that negotiate them (`mcp_server.views`)."""
    config = services.config
    query_tools = QueryTools(queries, config).tools()
    tools = (ClinicTools(services).tools() + query_tools[:1] + BatchTools(batch, config, services.notice_reports).tools()
             + query_tools[1:] + RecallTools(services.recall, config).tools() + DashboardTool(services.dashboard).tools()
             + AttendanceTools(batch).tools() + SystemWaitlistTools(services.waitlist, config).tools())
    gateway = ToolsetGateway(tools, toolsets)
    subscriptions = DaySubscriptions(services.events)
    served = tools + ([gateway.tool()] if gateway.toolsets else []) + ([WeekView(queries).tool()] if views else [])
    server = ClinicServer("clinic-calendar-system", title="Clinic calendar (system agent)",
                          instructions=instructions(config, [tool.parameters for tool in tools]), tools=served,
                          subscriptions=subscriptions.bus, extensions=[views_extension()] if views else None)
    if views:
        server.serve_views(AppsSurface(BINDINGS))
    server.unlisted = gateway.unlisted
    server.audit = services.audit.record  # a call its principal may not make: a refused line of the audit log
    server.serve_resource_subscriptions(subscriptions.subscribe, subscriptions.unsubscribe)
    add_calendar_resources(server, services, queries)
    add_operator_prompts(server)
    add_completions(server, services)
    return server


def instructions(config: ClinicConfig, schemas: list[JsonSchema]) -> str:
    """What a model should know before using the tools (whose argument `schemas` are given)."""
    capacity = slot_capacity(config, BookingSource.AGENT)
    return (
        f"Privileged calendar tools of a clinic; dates and times are local to {config.timezone} "
        f"(get_current_datetime says what today is). A slot holds at most {capacity} reservations booked by an "
        "agent. The user confirms by effect, not by call: what you change, message or close without asking adds "
        "up over the turn and the hour, the call that would pass a limit asks, and splitting a change into smaller "
        "calls asks just the same. A needs_confirmation answer says the next step. Every applied batch has a "
        f"batch_id that system_undo_batch reverts. {shared_arguments_note(schemas)}")
