"""Pytest fixtures of the fake LLM APIs; a conftest imports the ones it needs.

Each server starts once per session; each test gets it with an empty script and no recorded requests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.llm import FakeAnthropic, FakeOpenAI, ScriptedLLM
from tests.fakes.loopback import serve_in_thread


def _served(fake: ScriptedLLM) -> Iterator[ScriptedLLM]:
    with serve_in_thread(fake.app) as url:
        fake.url = url
        yield fake
        fake.reset()


@pytest.fixture(scope="session")
def anthropic_server() -> Iterator[ScriptedLLM]:
    yield from _served(FakeAnthropic())


@pytest.fixture(scope="session")
def openai_server() -> Iterator[ScriptedLLM]:
    yield from _served(FakeOpenAI())


@pytest.fixture
def anthropic_api(anthropic_server: ScriptedLLM) -> ScriptedLLM:
    """The fake Anthropic Messages API, reset for this test."""
    anthropic_server.reset()
    return anthropic_server


@pytest.fixture
def openai_api(openai_server: ScriptedLLM) -> ScriptedLLM:
    """The fake OpenAI Chat Completions API, reset for this test."""
    openai_server.reset()
    return openai_server
