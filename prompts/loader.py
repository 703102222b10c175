"""The agents' system prompts: a setting's text, the file it names, or the prompt shipped here."""

from __future__ import annotations

from pathlib import Path

PROMPTS = Path(__file__).resolve().parent
SYSTEM_AGENT = "system_agent.md"
CUSTOMER_AGENT = "customer_agent.md"


def load_prompt(setting: str, default_file: str) -> str:
    """`setting` when it is prompt text, the file's text when it names an existing file, else `default_file`."""
    value = setting.strip()
    if not value:
        return (PROMPTS / default_file).read_text(encoding="utf-8")
    path = _existing_file(value)
    return path.read_text(encoding="utf-8") if path is not None else value


def system_agent_prompt(setting: str = "") -> str:
    """The system agent's prompt (SYSTEM_AGENT_PROMPT)."""
    return load_prompt(setting, SYSTEM_AGENT)


def customer_agent_prompt(setting: str = "") -> str:
    """The customer assistant's prompt (CUSTOMER_AGENT_PROMPT)."""
    return load_prompt(setting, CUSTOMER_AGENT)


def _existing_file(value: str) -> Path | None:
    if "\n" in value:
        return None
    path = Path(value).expanduser()
    try:
        return path if path.is_file() else None
    except OSError:  # a long prompt is not a valid path on every system
        return None
