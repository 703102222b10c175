"""The two agents, built from the same loop: the operators' system agent and the customers' assistant."""

from __future__ import annotations

from dataclasses import dataclass

from mcp.server import MCPServer

from domain.services import Services
from chat_bridge.agent.acting import Askers
from chat_bridge.agent.config import AgentConfig, ModelConfig
from chat_bridge.agent.loop import AgentLoop, SessionFactory
from chat_bridge.agent.providers import TURN_FACTS, LLMProvider
from chat_bridge.agent.sessions import in_memory_sessions, remote_sessions
from chat_bridge.agent.turns import ConversationTurn, ReplyDelivery
from chat_bridge.confirmations import ConfirmationBroker
from chat_bridge.events import system_agent_error_event
from chat_bridge.ports import EventSink
from chat_bridge.queue import AgentKind
from domain.clock import Clock
from domain.calendar.conversations import Audience
from domain.config import WEEKDAY_NAMES, BookingSource, ClinicConfig
from prompts.loader import customer_agent_prompt, system_agent_prompt

CLINIC_WEEK = WEEKDAY_NAMES[6:] + WEEKDAY_NAMES[:6]  # the clinic's week begins on Sunday


@dataclass(frozen=True)
class DatedPrompt:
    """A system prompt, then the tool server's instructions, then the clinic's date, weekday and timezone now."""

    text: str
    config: ClinicConfig
    clock: Clock

    def __call__(self, server_instructions: str | None = None) -> str:
        now = self.clock().astimezone(self.config.zone)
        notes = f"\n\n## Notes from the tool server\n{server_instructions}" if server_instructions else ""
        return f"{self.text}{notes}{TURN_FACTS}{now.isoformat(timespec='seconds')} ({now:%A}) in {self.config.timezone}"


def clinic_facts(config: ClinicConfig, *, with_capacity: bool = False) -> str:
    """The configured hours, slots, types (and capacities), so a prompt never repeats them as constants."""
    days = ", ".join(f"{day.capitalize()} {_hours(config, day)}" for day in CLINIC_WEEK)
    ramadan, capacity = config.ramadan_hours, config.capacity
    types = ", ".join(f"{t.id} = {t.name}" + (f" ({t.name_ar})" if t.name_ar else "") for t in config.reservation_types)
    lines = [
        f"- Timezone: {config.timezone}.",
        f"- Opening hours: {days}.",
        f"- In Ramadan an open day runs {ramadan.opens:%H:%M}–{ramadan.closes:%H:%M}." if ramadan else "",
        f"- Slots are {config.slot_minutes} minutes long, the first one at opening time.",
        f"- Capacity per slot: {capacity[BookingSource.AGENT]} when an AI agent books, "
        f"{capacity[BookingSource.OPERATOR]} from the operators' calendar UI." if with_capacity else "",
        f"- Reservation types: {types}.",
    ]
    return "## This clinic (from its configuration)\n" + "\n".join(line for line in lines if line)


def _hours(config: ClinicConfig, day: str) -> str:
    hours = config.week.get(day)
    return f"{hours.opens:%H:%M}–{hours.closes:%H:%M}" if hours else "closed"


def build_system_agent_turn(config: AgentConfig, services: Services, provider: LLMProvider, sessions: SessionFactory,
                            events: EventSink) -> ConversationTurn:
    """The operators' privileged calendar agent (the `SYSTEM_AGENT_WA_ID` chat), acting for the staff member who
    asked (`chat_bridge.agent.acting`)."""
    text = system_agent_prompt(config.system_prompt)
    facts = clinic_facts(services.config, with_capacity=True)
    prompt = DatedPrompt(f"{text.rstrip()}\n\n{facts}", services.config, services.clock)
    loop = AgentLoop(provider, prompt, sessions, max_rounds=config.max_rounds, remote_tools=bool(config.system_mcp_url))
    return ConversationTurn(loop, services.conversations, events, audience="system",
                            askers=Askers(services.conversations, services.staff))


def build_customer_turn(config: AgentConfig, services: Services, provider: LLMProvider, sessions: SessionFactory,
                        events: EventSink, deliver: ReplyDelivery) -> ConversationTurn:
    """The customers' WhatsApp assistant; `deliver` stores and sends each reply (the WhatsApp outbox)."""
    text = customer_agent_prompt(config.customer_prompt)
    facts = clinic_facts(services.config)
    return _turn(f"{text.rstrip()}\n\n{facts}", config, services, provider, sessions, events, deliver, "customer")


def _turn(text: str, config: AgentConfig, services: Services, provider: LLMProvider, sessions: SessionFactory,
          events: EventSink, deliver: ReplyDelivery | None = None,
          audience: Audience | None = None) -> ConversationTurn:
    prompt = DatedPrompt(text, services.config, services.clock)
    loop = AgentLoop(provider, prompt, sessions, max_rounds=config.max_rounds)
    return ConversationTurn(loop, services.conversations, events, deliver, audience)


def system_agent_sessions(config: AgentConfig, broker: ConfirmationBroker,
                          server: MCPServer | None = None) -> SessionFactory:
    """SYSTEM_AGENT_MCP_URL's server with its bearer token when set, else `server` in memory."""
    if config.system_mcp_url:
        return remote_sessions(config.system_mcp_url, config.system_mcp_token, broker.elicit)
    if server is None:
        raise ValueError("SYSTEM_AGENT_MCP_URL is empty and no in-process MCP server was given")
    return in_memory_sessions(server, broker.elicit)


class NoModel:
    """No language model is configured: the operator is told which variable to set; nothing pretends.
    Customers are left unanswered (their messages stay stored for when a model is configured)."""

    def __init__(self, kind: AgentKind, events: EventSink, model: ModelConfig) -> None:
        self.kind, self.events, self.model = kind, events, model

    async def __call__(self, wa_id: str) -> None:
        if self.kind is AgentKind.SYSTEM:
            await self.events.publish(system_agent_error_event(wa_id, self.model.missing_sentence()))


def build_provider(config: ModelConfig) -> LLMProvider:
    """The provider `config` names (its SDK retries `config.max_retries` times)."""
    # Imported here so that each SDK loads only when it is the one in use.
    if config.provider == "openai":
        from chat_bridge.agent.openai_chat import OpenAIProvider

        return OpenAIProvider.from_config(config)
    from chat_bridge.agent.anthropic_messages import AnthropicProvider

    return AnthropicProvider.from_config(config)
