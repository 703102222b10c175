"""Fake LLM APIs speaking the real wire formats: Anthropic Messages and OpenAI Chat Completions.

Each is a Starlette app served on loopback (see `loopback.serving`). A test scripts what the model
answers, one step per request (a reply, an HTTP error, a stall that outlasts the client's timeout, or a
`Respond` that reads the request and decides the reply), and reads every request back, both raw
(`bodies`) and as `SeenRequest`, the same for both formats.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass(frozen=True)
class Call:
    """A tool call the fake model makes; `arguments` as a string is sent raw (OpenAI only)."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)


def more(tool: str, arguments: dict[str, Any]) -> Call:
    """A call of a tool the system server reaches through `more_tools` (a toolset's), as a model makes it."""
    return Call("more_tools", {"tool": tool, "arguments": arguments})


def read_toolset(toolset: str) -> Call:
    """The call a model makes to read a toolset's tools before it uses one."""
    return Call("more_tools", {"toolset": toolset})


@dataclass(frozen=True)
class Reply:
    text: str = ""
    calls: tuple[Call, ...] = ()


@dataclass(frozen=True)
class Failure:
    """An error status. `retry_after` (seconds) is sent as `retry-after-ms`, which both SDKs honour: the
    scripted failures ask for a near-immediate retry, so the SDKs' backoff never slows the tests."""

    status: int
    retry_after: float = 0.001


@dataclass(frozen=True)
class Stall:
    """Answer only after `seconds`: longer than the client waits."""

    seconds: float


@dataclass
class SeenRequest:
    """What the model was shown, whatever the wire format."""

    system: str
    tools: list[str]
    texts: list[tuple[str, str]]  # (role, text) of user and assistant messages
    tool_calls: list[tuple[str, str]]  # (call id, tool name) the assistant made
    tool_results: list[tuple[str, str]]  # (call id, result text) sent back

    @property
    def last_result(self) -> str:
        """The text of the newest tool result: what a model reads before deciding its next step."""
        if not self.tool_results:
            raise LookupError("the model was sent no tool result yet")
        return self.tool_results[-1][1]


@dataclass(frozen=True)
class Respond:
    """A reply decided when its request arrives: `decide` reads what the model was sent, as a model would.

    When `decide` raises, the fake answers HTTP 400 with the reason (a 400 is not retried), and keeps the
    reason in `ScriptedLLM.mistakes`, so the test fails saying why instead of waiting."""

    decide: Callable[[SeenRequest], Reply]


@dataclass(frozen=True)
class Hold:
    """A model still thinking: says so (`arrived`) when its request comes, answers `then` once `release` is set.
    Thread events, since the fake serves in a thread of its own; a test waits on `arrived` and sets `release`."""

    then: Reply | Respond
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def wait_until_asked(self, seconds: float = 20.0) -> None:
        if not await asyncio.to_thread(self.arrived.wait, seconds):
            raise AssertionError(f"the model was not asked within {seconds} s")


Step = Reply | Failure | Stall | Respond | Hold


class ScriptedLLM:
    """The common part of both fakes: the script, the recorded requests, the HTTP endpoint."""

    path = ""
    name = ""

    def __init__(self) -> None:
        self.url = ""
        self.generation = 0  # a new test: stalls of the previous one give up
        self.steps: deque[Step] = deque()
        self.bodies: list[dict[str, Any]] = []
        self.mistakes: list[str] = []  # why a `Respond` step could not decide
        self._ids = itertools.count(1)
        self.app = Starlette(routes=[Route(self.path, self._endpoint, methods=["POST"])])

    def script(self, *steps: Step) -> None:
        """Queue the answers of the next requests, in order."""
        self.steps.extend(steps)

    def reset(self) -> None:
        self.generation += 1
        self.steps.clear()
        self.bodies.clear()
        self.mistakes.clear()

    @property
    def seen(self) -> list[SeenRequest]:
        return [self.read(body) for body in self.bodies]

    def settings_overrides(self) -> dict[str, Any]:
        """The settings that point the project's provider at this fake."""
        raise NotImplementedError

    def read(self, body: dict[str, Any]) -> SeenRequest:
        raise NotImplementedError

    def render(self, reply: Reply, model: str) -> dict[str, Any]:
        raise NotImplementedError

    def error(self, status: int, message: str) -> dict[str, Any]:
        raise NotImplementedError

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):04d}"

    async def _endpoint(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.bodies.append(body)
        if not self.steps:
            return JSONResponse(self.error(400, f"the fake {self.name} script is exhausted"), status_code=400)
        step = self.steps.popleft()
        if isinstance(step, Hold):
            step.arrived.set()
            await self._held(step)
            step = step.then
        if isinstance(step, Stall):
            await self._stall(step.seconds)
            return JSONResponse(self.render(Reply("(too late)"), body["model"]))
        if isinstance(step, Failure):
            return JSONResponse(self.error(step.status, f"scripted failure {step.status}"), status_code=step.status,
                                headers={"retry-after-ms": f"{step.retry_after * 1000:g}"})
        if isinstance(step, Respond):
            return self._respond(step, body)
        return JSONResponse(self.render(step, body["model"]))

    def _respond(self, step: Respond, body: dict[str, Any]) -> JSONResponse:
        try:
            reply = step.decide(self.read(body))
        except Exception as error:  # noqa: BLE001 - any reason the script could not decide is reported
            mistake = f"the scripted model could not decide: {type(error).__name__}: {error}"
            self.mistakes.append(mistake)
            return JSONResponse(self.error(400, mistake), status_code=400)
        return JSONResponse(self.render(reply, body["model"]))

    async def _held(self, hold: Hold) -> None:
        """Until the test releases `hold`, or has ended."""
        generation = self.generation
        while self.generation == generation and not hold.release.is_set():
            await asyncio.sleep(0.01)

    async def _stall(self, seconds: float) -> None:
        """Wait `seconds`, or less when the test that scripted the stall is over."""
        generation, deadline = self.generation, time.monotonic() + seconds
        while self.generation == generation and time.monotonic() < deadline:
            await asyncio.sleep(0.01)


class FakeAnthropic(ScriptedLLM):
    """POST /v1/messages: content blocks text / tool_use, stop_reason tool_use / end_turn."""

    path = "/v1/messages"
    name = "Anthropic"

    def settings_overrides(self) -> dict[str, Any]:
        return {"llm_provider": "anthropic", "anthropic_base_url": self.url, "anthropic_api_key": "test-key"}

    def render(self, reply: Reply, model: str) -> dict[str, Any]:
        blocks: list[dict[str, Any]] = [{"type": "text", "text": reply.text}] if reply.text else []
        blocks += [{"type": "tool_use", "id": self.next_id("toolu_"), "name": c.name, "input": c.arguments}
                   for c in reply.calls]
        return {"id": self.next_id("msg_"), "type": "message", "role": "assistant", "model": model,
                "content": blocks, "stop_reason": "tool_use" if reply.calls else "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 10}}

    def error(self, status: int, message: str) -> dict[str, Any]:
        kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error" if status >= 500
                                                                       else "invalid_request_error")
        return {"type": "error", "error": {"type": kind, "message": message}}

    def read(self, body: dict[str, Any]) -> SeenRequest:
        seen = SeenRequest(_system_text(body.get("system", "")), [t["name"] for t in body.get("tools", [])],
                           [], [], [])
        for message in body["messages"]:
            blocks = message["content"]
            for block in [{"type": "text", "text": blocks}] if isinstance(blocks, str) else blocks:
                _read_block(seen, message["role"], block)
        return seen


def _system_text(system: str | list[dict[str, Any]]) -> str:
    return system if isinstance(system, str) else "".join(block["text"] for block in system)


def _read_block(seen: SeenRequest, role: str, block: dict[str, Any]) -> None:
    if block["type"] == "text":
        seen.texts.append((role, block["text"]))
    elif block["type"] == "tool_use":
        seen.tool_calls.append((block["id"], block["name"]))
    elif block["type"] == "tool_result":
        content = block["content"]
        text = content if isinstance(content, str) else "".join(part["text"] for part in content)
        seen.tool_results.append((block["tool_use_id"], text))


class FakeOpenAI(ScriptedLLM):
    """POST /v1/chat/completions: choices[0].message with tool_calls, finish_reason tool_calls / stop."""

    path = "/v1/chat/completions"
    name = "OpenAI"

    def settings_overrides(self) -> dict[str, Any]:
        return {"llm_provider": "openai", "openai_base_url": f"{self.url}/v1", "openai_api_key": "test-key"}

    def render(self, reply: Reply, model: str) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if reply.calls:
            message["tool_calls"] = [
                {"id": self.next_id("call_"), "type": "function",
                 "function": {"name": c.name,
                              "arguments": c.arguments if isinstance(c.arguments, str) else json.dumps(c.arguments)}}
                for c in reply.calls
            ]
        choice = {"index": 0, "message": message, "finish_reason": "tool_calls" if reply.calls else "stop",
                  "logprobs": None}
        return {"id": self.next_id("chatcmpl-"), "object": "chat.completion", "created": int(time.time()),
                "model": model, "choices": [choice],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}

    def error(self, status: int, message: str) -> dict[str, Any]:
        kind = "server_error" if status >= 500 else "rate_limit_exceeded" if status == 429 else "invalid_request_error"
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}

    def read(self, body: dict[str, Any]) -> SeenRequest:
        tools = [t["function"]["name"] for t in body.get("tools", [])]
        seen = SeenRequest("", tools, [], [], [])
        for message in body["messages"]:
            _read_message(seen, message)
        return seen


def _read_message(seen: SeenRequest, message: dict[str, Any]) -> None:
    role, content = message["role"], message.get("content") or ""
    if role in ("system", "developer"):
        seen.system += content
    elif role == "tool":
        seen.tool_results.append((message["tool_call_id"], content))
    else:
        if content:
            seen.texts.append((role, content))
        seen.tool_calls += [(c["id"], c["function"]["name"]) for c in message.get("tool_calls", [])]
