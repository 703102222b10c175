"""What the bridge's endpoints and agent turns can reach, as opened by the process's bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from chat_bridge.config import BridgeConfig
from chat_bridge.events import Hub
from chat_bridge.messages import OperatorDesk, Outbox
from chat_bridge.notices import NoticeSender
from chat_bridge.operations import BridgeMetrics, Check
from chat_bridge.ports import AgentTurn, ConfirmationAnswers, EventSink
from chat_bridge.queue import AgentKind, TurnWorkers
from chat_bridge.webhook import Inbox
from chat_bridge.whatsapp import WhatsAppClient
from domain.services import Services


class State(TypedDict):
    """What every request and WebSocket of the bridge can reach (`Request[State]`)."""

    config: BridgeConfig
    services: Services
    hub: Hub
    workers: TurnWorkers
    whatsapp: WhatsAppClient
    outbox: Outbox
    desk: OperatorDesk
    inbox: Inbox
    confirmations: ConfirmationAnswers | None
    metrics: BridgeMetrics
    checks: dict[str, Check]
    notices: NoticeSender


@dataclass(frozen=True)
class BridgeContext:
    """What an agent turn may use: the domain, the realtime channel, WhatsApp delivery."""

    services: Services
    events: EventSink
    outbox: Outbox


AgentTurnFactory = Callable[[AgentKind, BridgeContext], AgentTurn]
