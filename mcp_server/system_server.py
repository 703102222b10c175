"""The system agent's MCP server: privileged batch calendar tools, resources and workflow prompts."""

from __future__ import annotations

from mcp.server import MCPServer

from domain.services import Services
from domain.capacity import slot_capacity
from domain.config import BookingSource, ClinicConfig
from domain.system_agent.batch import SystemAgentBatchService
from domain.system_agent.queries import SystemAgentQueryService
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


def build_system_server(
    services: Services,
    batch: SystemAgentBatchService,
    queries: SystemAgentQueryService,
) -> MCPServer:
    """An MCPServer exposing the system agent's tools over these services (no transport attached)."""
    config = services.config
    query_tools = QueryTools(queries, config).tools()
    tools = (ClinicTools(services).tools() + query_tools[:1] + BatchTools(batch, config, services.notice_reports).tools()
             + query_tools[1:] + RecallTools(services.recall, config).tools() + DashboardTool(services.dashboard).tools())
    subscriptions = DaySubscriptions(services.events)
    server = ClinicServer("clinic-calendar-system", title="Clinic calendar (system agent)",
                          instructions=instructions(config, [tool.parameters for tool in tools]), tools=tools,
                          subscriptions=subscriptions.bus)
    server.serve_resource_subscriptions(subscriptions.subscribe, subscriptions.unsubscribe)
    add_calendar_resources(server, services, queries)
    add_operator_prompts(server)
    add_completions(server, services)
    return server


def instructions(config: ClinicConfig, schemas: list[JsonSchema]) -> str:
    """What a model should know before using the tools (whose argument `schemas` are given)."""
    capacity = slot_capacity(config, BookingSource.AGENT)
    return (
        f"Privileged calendar tools of a clinic. Dates and times are local to {config.timezone}; call "
        f"get_current_datetime before reasoning about relative dates. A slot holds at most {capacity} "
        "reservations booked by an agent. Look before you write: "
        "system_get_reservations or system_get_reservation_snapshot, then a batch tool with dry_run. The user "
        "confirms by effect, not by call: what you change, message or close without asking adds up over the "
        "turn and the hour, and the call that would pass a limit asks the user, showing the totals so far; "
        "splitting a change into smaller calls asks just the same. A call that needs confirmation answers "
        "needs_confirmation: follow its next_step. Every applied batch has a batch_id that system_undo_batch "
        f"reverts. {shared_arguments_note(schemas)}")
