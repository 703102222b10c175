"""The bridge's composition root: one Starlette app whose lifespan owns every shared resource."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol, TypedDict, runtime_checkable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from calendar_agent.composition import Services, build_services_from_settings
from calendar_agent.network import LOOPBACK_HOSTS, LOOPBACK_ORIGINS
from calendar_agent.settings import Settings
from chat_bridge.events import Hub, system_agent_error_event
from chat_bridge.messages import OperatorDesk, Outbox, send_message
from chat_bridge.ports import AgentTurn, EventSink
from chat_bridge.queue import AgentKind, AgentTurns, InProcessQueue
from chat_bridge.routes import (ConfirmationAnswers, RequestError, answer_confirmation, conversation, customer_names,
                                domain_error, health, realtime, request_error, search_customers)
from chat_bridge.security import OperatorGuard, SameSiteGuard, operator_token
from chat_bridge.webhook import Inbox, receive_webhook, verify_subscription
from chat_bridge.whatsapp import WhatsAppAccount, WhatsAppClient
from domain.errors import DomainError
from domain.events import CalendarEvents

logger = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 30.0
# Meta's deliveries and operators' messages are small; anything larger is refused (413) unread.
MAX_BODY_BYTES = 1024 * 1024


class State(TypedDict):
    """What every request and WebSocket of the bridge can reach (`Request[State]`)."""

    settings: Settings
    services: Services
    hub: Hub
    queue: InProcessQueue
    whatsapp: WhatsAppClient
    outbox: Outbox
    turns: AgentTurns
    desk: OperatorDesk
    inbox: Inbox
    confirmations: ConfirmationAnswers | None


@dataclass(frozen=True)
class BridgeContext:
    """What an agent turn may use: the domain, the realtime channel, WhatsApp delivery, confirmations."""

    settings: Settings
    services: Services
    events: EventSink
    outbox: Outbox
    confirmations: ConfirmationAnswers | None


AgentTurnFactory = Callable[[AgentKind, BridgeContext], AgentTurn]


@dataclass(frozen=True)
class BridgeOptions:
    settings: Settings
    services: Services | None
    agent_turn_factory: AgentTurnFactory
    mcp_app: ASGIApp | None
    confirmations: ConfirmationAnswers | None
    hub: Hub | None


def build_app(
    settings: Settings,
    *,
    services: Services | None = None,
    agent_turn_factory: AgentTurnFactory | None = None,
    mcp_app: ASGIApp | None = None,
    confirmations: ConfirmationAnswers | None = None,
    hub: Hub | None = None,
    public: bool = False,
    extra_routes: Sequence[BaseRoute] = (),
    open_paths: Sequence[str] = (),
    on_close: Sequence[Callable[[], Awaitable[None]]] = (),
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
    allowed_origins: Sequence[str] = LOOPBACK_ORIGINS,
) -> Starlette:
    """The bridge. `public`: it listens beyond loopback, so `OPERATOR_TOKEN` is required (else `SettingsError`).

    Given `services` stay the caller's to close; without them the app opens and closes its own. `hub`: share
    one with the confirmation broker. `extra_routes` (e.g. the console) are served too; `open_paths` among
    them need no operator token. `on_close` runs last at shutdown (the caller's provider, database).
    `allowed_hosts` and `allowed_origins`: the Host and Origin values operators' browsers may use."""
    token = operator_token(settings, public)
    factory = unconfigured_agent if agent_turn_factory is None else agent_turn_factory
    options = BridgeOptions(settings, services, factory, mcp_app, confirmations, hub)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        async with AsyncExitStack() as stack:
            for close in on_close:
                stack.push_async_callback(close)
            yield await open_state(options, stack)

    return Starlette(
        routes=[*bridge_routes(), *extra_routes, *mcp_routes(mcp_app)],
        middleware=[Middleware(SameSiteGuard, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins),
                    *([Middleware(OperatorGuard, token=token, open_paths=tuple(open_paths))] if token else [])],
        exception_handlers={RequestError: request_error, DomainError: domain_error},
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )


def bridge_routes() -> list[BaseRoute]:
    return [
        Route("/health", health),
        Route("/whatsapp/message", send_message, methods=["POST"]),
        Route("/customers/names", customer_names),
        Route("/customers/search", search_customers),
        Route("/conversations/{wa_id}", conversation),
        Route("/confirmations/{confirmation_id}", answer_confirmation, methods=["POST"]),
        Route("/webhook", verify_subscription, methods=["GET"]),
        Route("/webhook", receive_webhook, methods=["POST"]),
        WebSocketRoute("/ws", realtime),
    ]


def mcp_routes(mcp_app: ASGIApp | None) -> list[BaseRoute]:
    """The MCP app at `/mcp`: a Starlette app sees its requests at its own root `/` (and `/mcp/...`);
    an app with a lifespan of its own (`mcp_server.http.MCPHttpApp`) serves the `/mcp` path itself."""
    if mcp_app is None:
        return []
    if isinstance(mcp_app, ServesItsOwnPath):
        return [Route("/mcp", endpoint=mcp_app, methods=["GET", "POST", "DELETE"])]
    return [Route("/mcp", MountRoot(mcp_app, "/mcp")), Mount("/mcp", app=mcp_app)]


@runtime_checkable
class ServesItsOwnPath(Protocol):
    """An ASGI app whose lifespan the host enters itself."""

    def lifespan(self) -> AbstractAsyncContextManager[None]: ...

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...


class MountRoot:
    """Serves a mount's own root path without the trailing slash (`/mcp` as `/mcp/`), with no redirect."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        root_path = scope.get("root_path", "")
        child = dict(scope, path=root_path + self.prefix + "/", root_path=root_path + self.prefix)
        await self.app(child, receive, send)


async def open_state(options: BridgeOptions, stack: AsyncExitStack) -> State:
    """Open every resource on `stack`, in the order that lets shutdown drain the queue first."""
    services = own_services(options.settings, stack) if options.services is None else options.services
    hub = Hub() if options.hub is None else options.hub
    stack.push_async_callback(hub.close)
    whatsapp = WhatsAppClient(WhatsAppAccount.from_settings(options.settings))
    stack.push_async_callback(whatsapp.aclose)
    listen_to_calendar(services.events, hub, stack)
    await run_mounted_lifespan(options.mcp_app, stack)
    queue = InProcessQueue()
    stack.push_async_callback(queue.close, SHUTDOWN_GRACE_SECONDS)
    return wire(options, services, hub, queue, whatsapp)


def wire(options: BridgeOptions, services: Services, hub: Hub, queue: InProcessQueue,
         whatsapp: WhatsAppClient) -> State:
    outbox = Outbox(services.conversations, whatsapp, hub)
    context = BridgeContext(options.settings, services, hub, outbox, options.confirmations)
    agents = {kind: options.agent_turn_factory(kind, context) for kind in AgentKind}
    turns = AgentTurns(queue, hub, agents)
    return State(
        settings=options.settings, services=services, hub=hub, queue=queue, whatsapp=whatsapp, outbox=outbox,
        turns=turns, desk=OperatorDesk(services.customers, services.conversations, outbox, turns, hub),
        inbox=Inbox(services, turns, outbox, queue, hub), confirmations=options.confirmations,
    )


def own_services(settings: Settings, stack: AsyncExitStack) -> Services:
    services = build_services_from_settings(settings)
    stack.push_async_callback(services.db.dispose)
    return services


def listen_to_calendar(events: CalendarEvents, hub: Hub, stack: AsyncExitStack) -> None:
    """Broadcast every committed reservation change (single and batch) while the app runs."""
    events.listeners.append(hub.on_calendar_change)
    stack.callback(events.listeners.remove, hub.on_calendar_change)


async def run_mounted_lifespan(app: ASGIApp | None, stack: AsyncExitStack) -> None:
    """Starlette runs no lifespan of a mounted app: run the MCP app's (its session manager) here."""
    if isinstance(app, Starlette):
        await stack.enter_async_context(app.router.lifespan_context(app))
    elif isinstance(app, ServesItsOwnPath):
        await stack.enter_async_context(app.lifespan())


class UnconfiguredAgent:
    """Stands in until real agents are plugged in: the operator is told; customers are left unanswered."""

    def __init__(self, kind: AgentKind, events: EventSink) -> None:
        self.kind = kind
        self.events = events

    async def __call__(self, wa_id: str) -> None:
        logger.warning("no %s agent is configured; conversation %s left unanswered", self.kind, wa_id)
        if self.kind is AgentKind.SYSTEM:
            await self.events.publish(system_agent_error_event(wa_id, "No system agent is configured on this server."))


def unconfigured_agent(kind: AgentKind, context: BridgeContext) -> AgentTurn:
    return UnconfiguredAgent(kind, context.events)
