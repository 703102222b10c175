"""The composition root of `calendar-agent serve`: the bridge, both agents, the MCP server at /mcp, the console."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from mcp import Client
from mcp.server import MCPServer
from starlette.applications import Starlette

from calendar_agent.composition import Services, build_services_from_settings
from calendar_agent.settings import Settings
from chat_bridge.agent.agents import build_customer_turn, build_system_agent_turn, system_agent_sessions
from chat_bridge.agent.conversation import current_wa_id
from chat_bridge.agent.providers import LLMProvider, build_provider
from chat_bridge.app import BridgeContext, build_app
from chat_bridge.confirmations import ConfirmationBroker
from chat_bridge.console import PUBLIC_PATHS, agent_status, console_routes
from chat_bridge.events import Hub, system_agent_error_event
from chat_bridge.ports import AgentTurn, EventSink
from chat_bridge.queue import AgentKind
from mcp_server.customer_server import build_customer_server
from mcp_server.http import build_mcp_http_app
from calendar_agent.network import allowed_for
from mcp_server.runner import system_server_for


def build_service_app(settings: Settings, *, host: str = "127.0.0.1", public: bool = False,
                      services: Services | None = None) -> Starlette:
    """Everything `calendar-agent serve` runs, wired once. Given `services` stay the caller's to close."""
    owned = services is None
    services = services or build_services_from_settings(settings)
    server = system_server_for(services, settings)
    hosts, origins = allowed_for(host, settings.mcp_allowed_hosts)
    mcp = build_mcp_http_app(server, auth_token=settings.mcp_auth_token, allowed_hosts=hosts, allowed_origins=origins)
    hub = Hub()
    broker = ConfirmationBroker(services.conversations, hub, settings.confirmation_timeout_seconds)
    agents = Agents(settings, services, server, broker)
    return build_app(
        settings, services=services, agent_turn_factory=agents.turn, mcp_app=mcp, confirmations=broker, hub=hub,
        public=public, extra_routes=console_routes(settings), open_paths=PUBLIC_PATHS, allowed_hosts=hosts,
        allowed_origins=origins,
        on_close=[agents.close] + ([services.db.dispose] if owned else []),
    )


class Agents:
    """The system agent and the customer assistant over one provider, or a plain notice without a model."""

    def __init__(self, settings: Settings, services: Services, server: MCPServer, broker: ConfirmationBroker) -> None:
        self.settings, self.services, self.server, self.broker = settings, services, server, broker
        status = agent_status(settings)
        self.missing: str | None = status["message"]
        self.provider: LLMProvider | None = None if self.missing else build_provider(settings)

    def turn(self, kind: AgentKind, context: BridgeContext) -> AgentTurn:
        if self.provider is None:
            return NoModel(kind, context.events, self.missing or "")
        if kind is AgentKind.SYSTEM:
            sessions = system_agent_sessions(self.settings, self.broker, self.server)
            return build_system_agent_turn(self.settings, self.services, self.provider, sessions, context.events)
        deliver = partial(context.outbox.send, role="assistant")
        return build_customer_turn(self.settings, self.services, self.provider, self.customer_session,
                                   context.events, deliver)

    @asynccontextmanager
    async def customer_session(self) -> AsyncIterator[Client]:
        """The customer assistant's tools, bound to the customer being answered and no one else."""
        wa_id = current_wa_id()
        if wa_id is None:
            raise RuntimeError("a customer session was opened outside a conversation turn")
        async with Client(build_customer_server(self.services, wa_id), mode="legacy") as client:
            yield client

    async def close(self) -> None:
        if self.provider is not None:
            await self.provider.aclose()


class NoModel:
    """No language model is configured: the operator is told which variables to set; nothing pretends."""

    def __init__(self, kind: AgentKind, events: EventSink, message: str) -> None:
        self.kind, self.events, self.message = kind, events, message

    async def __call__(self, wa_id: str) -> None:
        if self.kind is AgentKind.SYSTEM:
            await self.events.publish(system_agent_error_event(wa_id, self.message))
