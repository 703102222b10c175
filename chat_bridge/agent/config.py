"""What the agent runtime needs to know: the language model and how far a turn may go."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Provider = Literal["anthropic", "openai"]
# The variable that holds each provider's key, named in what operators are told.
KEY_VARIABLES: dict[Provider, str] = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}


@dataclass(frozen=True)
class ModelConfig:
    """The language model behind both agents. `max_retries`: retries by the provider's own SDK."""

    provider: Provider
    model: str = ""
    api_key: str = ""
    base_url: str = ""
    timeout_seconds: float = 60.0
    max_retries: int = 2

    @property
    def key_variable(self) -> str:
        return KEY_VARIABLES[self.provider]

    @property
    def configured(self) -> bool:
        """A key is set, or a self-hosted base URL stands in for one."""
        return bool(self.api_key or self.base_url)

    def missing_sentence(self) -> str:
        """What the operator is told while no model is configured."""
        return (f"The system agent has no language model: LLM_PROVIDER is {self.provider!r} and "
                f"{self.key_variable} is not set. Set {self.key_variable} in .env (or choose another provider "
                "with LLM_PROVIDER), then restart the service.")


@dataclass(frozen=True)
class AgentConfig:
    """Both agents' prompts (empty: the packaged ones), the rounds a turn may take, and where the system
    agent's tools are (`system_mcp_url` empty: the in-process server)."""

    model: ModelConfig
    max_rounds: int = 10
    system_prompt: str = ""
    customer_prompt: str = ""
    system_mcp_url: str = ""
    system_mcp_token: str = ""
