"""The bootstrap of `calendar-agent serve`: the bridge, both agents, the MCP server at /mcp and the console,
built and wired here and nowhere else."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from functools import partial

from mcp import Client
from mcp.server import MCPServer
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from calendar_agent.bootstrap import services_from, warm_search
from calendar_agent.bootstrap.mcp import system_server_for
from calendar_agent.migrate import answers, is_current
from calendar_agent.network import allowed_for, sdk_origins
from calendar_agent.settings import Settings, SettingsError
from chat_bridge.agent.agents import (NoModel, build_customer_turn, build_provider, build_system_agent_turn,
                                      system_agent_sessions)
from chat_bridge.agent.config import AgentConfig
from chat_bridge.agent.conversation import current_wa_id
from chat_bridge.agent.providers import CountedProvider, LLMProvider
from chat_bridge.app import build_app
from chat_bridge.confirmations import ConfirmationBroker
from chat_bridge.console import PUBLIC_PATHS, STATIC_DIR, console_routes
from chat_bridge.events import Hub
from chat_bridge.instances import InstanceLink
from chat_bridge.messages import OperatorDesk, Outbox
from chat_bridge.no_shows import NoShowSweeper
from chat_bridge.notices import NoticeSender
from chat_bridge.operations import BridgeMetrics, Check
from chat_bridge.ports import AgentTurn
from chat_bridge.principals import SESSION_COOKIE
from chat_bridge.queue import TEXT_ONLY, AgentKind, Handler, TurnWorkers
from chat_bridge.state import AgentTurnFactory, BridgeContext, State
from chat_bridge.waitlist_worker import WaitlistWorker
from chat_bridge.webhook import Inbox
from chat_bridge.whatsapp import WhatsAppClient
from domain.workers.broadcast import Broadcast, PostgresBroadcast, RedisBroadcast, asyncpg_dsn
from domain.workers.jobs import AgentJobs
from domain.services import Services
from domain.staff.oauth import OAuthStore
from mcp_server.customer_server import build_customer_server
from mcp_server.http import LocalCallers, MCPHttpApp, build_mcp_http_app
from mcp_server.oauth.consent import ConsentPage
from mcp_server.oauth.provider import StoreVerifier
from mcp_server.oauth.resource import ProtectedResource
from mcp_server.oauth.routes import OPEN_PATHS as OAUTH_PATHS, oauth_routes
from mcp_server.oauth.site import OAuthSite

SHUTDOWN_GRACE_SECONDS = 30.0


def build_service_app(settings: Settings, *, host: str = "127.0.0.1", public: bool = False,
                      services: Services | None = None, agents: AgentTurnFactory | None = None) -> Starlette:
    """Everything `calendar-agent serve` runs. `public`: it listens beyond loopback, so `OPERATOR_TOKEN` and
    `MCP_AUTH_TOKEN` are required (else `SettingsError`). Given `services` stay the caller's to close. `agents`
    stands in for the model-backed agents (a test's scripted runtime); everything else is built as in
    production."""
    require_tokens(settings, public)
    owned = services is None
    services = services or services_from(settings)
    server = system_server_for(services, settings)
    hosts, origins = allowed_for(host, settings.mcp_allowed_hosts, settings.allowed_origins)
    local = LocalCallers(settings.proxy_list())
    oauth = OAuthParts(settings, services, hosts)
    mcp = build_mcp_http_app(server, auth_token=settings.mcp_auth_token, allowed_hosts=hosts,
                             allowed_origins=sdk_origins(hosts, origins), local_caller=local, oauth=oauth.resource)
    metrics = BridgeMetrics()
    process = ServeProcess(settings, services, server, mcp, agents, metrics)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        async with AsyncExitStack() as stack:
            if owned:
                stack.push_async_callback(services.db.dispose)
            yield await process.open(stack)

    return build_app(lifespan, operator_token=settings.operator_token or None, local_caller=local,
                     allowed_hosts=hosts, allowed_origins=origins, mcp_app=mcp,
                     extra_routes=[*console_routes(settings.bridge_config(), settings.agent_config().model),
                                   *oauth.routes()],
                     open_paths=(*PUBLIC_PATHS, *OAUTH_PATHS), metrics=metrics)


class OAuthParts:
    """The OAuth server of `/mcp` over the service's database: its routes, and what `/mcp` checks tokens with."""

    def __init__(self, settings: Settings, services: Services, hosts: list[str]) -> None:
        self.store = OAuthStore(services.db, services.audit, services.clock, settings.oauth_lifetimes())
        self.site = OAuthSite(settings.public_url or None, tuple(hosts))
        self.resource = ProtectedResource(StoreVerifier(self.store), self.site, services.staff.exist)
        self.consent = ConsentPage(self.store, services.sessions, STATIC_DIR / "consent.html", SESSION_COOKIE)

    def routes(self) -> list[BaseRoute]:
        return oauth_routes(self.store, self.site, self.consent)


async def _stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def require_tokens(settings: Settings, public: bool) -> None:
    """A public service refuses to start without `OPERATOR_TOKEN` and `MCP_AUTH_TOKEN`: on a loopback service a
    missing token opens its door to this machine's own callers only, beyond loopback it would open to anyone."""
    if not public:
        return
    if not settings.operator_token:
        raise SettingsError("Invalid setting OPERATOR_TOKEN: it must be set when the service listens beyond "
                            "loopback, or anyone who can reach it could act as an operator.")
    if not settings.mcp_auth_token:
        raise SettingsError("Invalid setting MCP_AUTH_TOKEN: it must be set when the service listens beyond "
                            "loopback, or anyone who can reach /mcp could use the system agent's tools.")


class ServeProcess:
    """The running service's parts, opened by the app's lifespan in the order that lets shutdown drain the
    agents' queue first, then close what the turns used."""

    def __init__(self, settings: Settings, services: Services, server: MCPServer, mcp: MCPHttpApp,
                 agents: AgentTurnFactory | None, metrics: BridgeMetrics) -> None:
        self.settings, self.services, self.server, self.mcp, self.agents = settings, services, server, mcp, agents
        self.metrics = metrics

    async def open(self, stack: AsyncExitStack) -> State:
        config, services = self.settings.bridge_config(), self.services
        hub = Hub()
        stack.push_async_callback(hub.close)
        whatsapp = WhatsAppClient(self.settings.whatsapp_account())
        stack.push_async_callback(whatsapp.aclose)
        broker = ConfirmationBroker(services.conversations, services.confirmations, hub,
                                    config.confirmation_timeout_seconds)
        checks: dict[str, Check] = {"database": partial(answers, services.db),
                                    "migrations": partial(is_current, services.db), "search": self.search_ready}
        warming = asyncio.get_running_loop().create_task(warm_search(services.search))
        stack.push_async_callback(_stopped, warming)
        if (broadcast := self.broadcast()) is not None:  # other instances may share the database: join them
            link = InstanceLink(broadcast, hub, services.search, broker, services.events)
            await link.open()
            stack.push_async_callback(link.close)
            checks["broadcast"] = broadcast.is_connected
        services.events.listeners.append(hub.on_calendar_change)
        stack.callback(services.events.listeners.remove, hub.on_calendar_change)
        services.events.day_listeners.append(hub.on_days_changed)
        stack.callback(services.events.day_listeners.remove, hub.on_days_changed)
        factory = self.agents or await self.model_agents(broker, stack)
        await stack.enter_async_context(self.mcp.lifespan())
        outbox = Outbox(services.conversations, whatsapp, hub, services.events.notices_queued)
        context = BridgeContext(services, hub, outbox)
        handlers: dict[str, Handler] = {kind: factory(kind, context) for kind in AgentKind}
        jobs = AgentJobs(services.db, services.clock, lease=timedelta(seconds=self.settings.queue_lease_seconds),
                         max_attempts=self.settings.queue_max_attempts, quiet=self.settings.quiet_period())
        workers = TurnWorkers(jobs, services.conversations, hub, handlers, concurrency=self.settings.queue_workers,
                              poll_seconds=self.settings.queue_poll_seconds)
        inbox = Inbox(services, workers, outbox, hub)
        handlers[TEXT_ONLY] = inbox.reply_text_only
        workers.observers.append(self.metrics.turn)
        workers.before_turn.append(broker.abandon)
        services.events.batch_listeners.append(self.metrics.batch)
        stack.callback(services.events.batch_listeners.remove, self.metrics.batch)
        workers.start()
        stack.push_async_callback(workers.close, SHUTDOWN_GRACE_SECONDS)
        sender = NoticeSender(services.outbox, services.reminders, whatsapp, hub,
                             poll_seconds=self.settings.queue_poll_seconds)
        services.events.notice_listeners.append(sender.wake_for)
        stack.callback(services.events.notice_listeners.remove, sender.wake_for)
        sender.start()
        stack.push_async_callback(sender.close)
        waitlist = WaitlistWorker(services.waitlist, poll_seconds=self.settings.queue_poll_seconds)
        services.events.day_listeners.append(waitlist.days_changed)
        stack.callback(services.events.day_listeners.remove, waitlist.days_changed)
        waitlist.start()
        stack.push_async_callback(waitlist.close)
        if self.settings.auto_no_show_minutes:  # off by default
            sweeper = NoShowSweeper(services.batch, self.settings.auto_no_show_minutes)
            sweeper.start()
            stack.push_async_callback(sweeper.close)
            checks["no_shows"] = sweeper.is_running
        return State(
            config=config, services=services, hub=hub, workers=workers, whatsapp=whatsapp, outbox=outbox,
            desk=OperatorDesk(services.customers, services.conversations, outbox, workers, hub),
            inbox=inbox, confirmations=broker, metrics=self.metrics,
            checks={**checks, "workers": workers.is_running, "notices": sender.is_running}, notices=sender,
        )

    async def search_ready(self) -> bool:
        """The readiness check of the customer search: its index is built."""
        return self.services.search.ready

    def broadcast(self) -> Broadcast | None:
        """How this instance hears the others: Redis when `REDIS_URL` is set, else PostgreSQL's LISTEN/NOTIFY;
        none on SQLite (one process)."""
        if self.settings.redis_url:
            return RedisBroadcast(self.settings.redis_url)
        if self.services.db.is_sqlite:
            return None
        return PostgresBroadcast(asyncpg_dsn(self.services.db.engine.url.render_as_string(hide_password=False)))

    async def model_agents(self, broker: ConfirmationBroker, stack: AsyncExitStack) -> AgentTurnFactory:
        agents = ModelAgents(self.settings.agent_config(), self.services, self.server, broker,
                             self.metrics.provider_error)
        stack.push_async_callback(agents.close)
        return agents.turn


class ModelAgents:
    """The system agent and the customer assistant over one provider, or a plain notice without a model."""

    def __init__(self, config: AgentConfig, services: Services, server: MCPServer, broker: ConfirmationBroker,
                 on_provider_error: Callable[[str, str], None]) -> None:
        self.config, self.services, self.server, self.broker = config, services, server, broker
        self.provider: LLMProvider | None = None
        if config.model.configured:
            provider = build_provider(config.model)
            self.provider = CountedProvider(provider, config.model.provider, on_provider_error)

    def turn(self, kind: AgentKind, context: BridgeContext) -> AgentTurn:
        if self.provider is None:
            return NoModel(kind, context.events, self.config.model)
        if kind is AgentKind.SYSTEM:
            sessions = system_agent_sessions(self.config, self.broker, self.server)
            return build_system_agent_turn(self.config, self.services, self.provider, sessions, context.events)
        return build_customer_turn(self.config, self.services, self.provider, self.customer_session,
                                   context.events, context.outbox.reply)

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
