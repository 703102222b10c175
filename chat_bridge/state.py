"""What the bridge's endpoints and agent turns can reach, as opened by the process's bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from chat_bridge.config import BridgeConfig
from chat_bridge.events import Hub
from chat_bridge.messages import OperatorDesk, Outbox
from chat_bridge.ports import AgentTurn, ConfirmationAnswers, EventSink
from chat_bridge.queue import AgentKind, AgentTurns, InProcessQueue
from chat_bridge.webhook import Inbox
from chat_bridge.whatsapp import WhatsAppClient
from domain.services import Services


class State(TypedDict):
    """What every request and WebSocket of the bridge can reach (`Request[State]`)."""

    config: BridgeConfig
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
    """What an agent turn may use: the domain, the realtime channel, WhatsApp delivery."""

    services: Services
    events: EventSink
    outbox: Outbox


AgentTurnFactory = Callable[[AgentKind, BridgeContext], AgentTurn]
