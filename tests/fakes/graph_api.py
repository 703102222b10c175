"""A fake WhatsApp Graph API: a real HTTP server on 127.0.0.1 that records sends and can be told to fail.

Also Meta's side of the webhook (signed deliveries), `serve_on_loopback` (any ASGI app on a loopback
port, uvicorn in the test's event loop), and the bridge run against the fake with scripted agent turns.
Fixtures: `from tests.fakes.graph_api import bridge, graph_api  # noqa: F401`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
import hashlib
import hmac
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from websockets.asyncio.client import ClientConnection

from domain.notices.templates import DEFAULTS
from domain.services import Services
from domain.views import MessageView
from tests.fakes.loopback import serve_on_loopback
from calendar_agent.settings import Settings, load_settings
from calendar_agent.bootstrap.serve import build_service_app
from chat_bridge.state import BridgeContext
from chat_bridge.events import new_message_event
from chat_bridge.ports import AgentTurn
from chat_bridge.queue import AgentKind

ACCESS_TOKEN = "graph-test-token"
PHONE_NUMBER_ID = "105550001"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"


@dataclass(frozen=True)
class SentMessage:
    """One message the bridge sent, as the Graph API received it: a text, a template (then `text` is the
    template's body with its parameters filled in, as the customer reads it) or an interactive message with reply
    buttons (its body)."""

    phone_number_id: str
    to: str
    text: str
    id: str
    template: str | None = None
    language: str | None = None
    parameters: tuple[str, ...] = ()
    callback_data: str | None = None
    kind: str = "text"  # text, template or interactive
    buttons: tuple[str, ...] = ()  # a template's quick-reply payloads, or an interactive message's button ids
    payload: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # the JSON as received


@dataclass(frozen=True)
class Refusal:
    """A scripted refusal: HTTP status, Graph error code, and the Retry-After header (seconds) if any."""

    status: int
    code: int
    retry_after: float | None = None


class FakeGraphApi:
    """`POST /{phone_number_id}/messages` as the Cloud API answers it; scripted failures are answered first."""

    def __init__(self) -> None:
        self.base_url = ""
        self.sent: list[SentMessage] = []
        self.failures: deque[Refusal] = deque()
        self.refused: list[Refusal] = []
        self.ids = itertools.count(1)
        self.changed = asyncio.Condition()
        # The approved templates: (name, language) -> body with {{1}}, {{2}}... placeholders.
        self.templates: dict[tuple[str, str], str] = {}
        # Meta's side of delivery: with `webhook_url`, each message accepted is followed by its statuses
        # (`statuses`, or sent then failed for a number in `undeliverable`: wa_id -> Graph error code), signed
        # and posted until the webhook answers 200, as Meta retries them.
        self.webhook_url = ""
        self.statuses: tuple[str, ...] = ("sent", "delivered")
        self.undeliverable: dict[str, int] = {}
        self.posted: list[tuple[str, str]] = []  # (message id, status) the webhook took
        self.posting: set[asyncio.Task[None]] = set()
        self.answer_delay = 0.0  # seconds between recording a message and answering the request
        # While `holding`, each message recorded waits (in `held`) to be answered until it is turned off, as
        # WhatsApp's answers can be slow to come back; the statuses still follow. Messages whose id is in
        # `silenced` get no status at all.
        self.holding = False
        self.held: list[SentMessage] = []
        self.silenced: set[str] = set()
        self._http: httpx2.AsyncClient | None = None  # Meta's side: posts the statuses (plain HTTP on loopback)
        # Called with each message recorded, before it is answered (a test kills the sender there).
        self.after_record: Callable[[SentMessage], None] | None = None

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        self.failures.extend([Refusal(status, 2)] * times)

    def limit_next(self, times: int, retry_after: float | None = None) -> None:
        """A storm of throughput refusals (HTTP 429, code 130429), as a busy phone number gets."""
        self.failures.extend([Refusal(429, 130429, retry_after)] * times)

    def approve(self, name: str, language: str, body: str) -> None:
        self.templates[(name, language)] = body

    def approve_defaults(self) -> None:
        """The built-in notice templates, approved in English and Arabic."""
        for spec in DEFAULTS.values():
            for language, body in spec["bodies"].items():
                self.approve(spec["name"], language, body)

    def templates_to(self, wa_id: str) -> list[SentMessage]:
        return [message for message in self.sent if message.to == wa_id and message.template]

    async def wait_for_posted(self, count: int, timeout: float = 20.0) -> None:
        """Until the webhook has taken `count` statuses."""
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(lambda: len(self.posted) >= count)

    def texts_to(self, wa_id: str) -> list[str]:
        return [message.text for message in self.sent if message.to == wa_id]

    async def wait_for_sends(self, count: int, timeout: float = 10.0) -> None:
        """Until `count` messages have been sent (a bound, not a pause: it returns as soon as they are)."""
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(lambda: len(self.sent) >= count)

    def app(self) -> Starlette:
        """The Graph API's messages endpoint; its lifespan ends the status deliveries left and their client."""
        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            yield
            await self.close()

        return Starlette(routes=[Route("/{phone_number_id}/messages", self.messages, methods=["POST"])],
                         lifespan=lifespan)

    async def messages(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return graph_error(401, "Invalid OAuth access token.", 190)
        if self.failures:
            refusal = self.failures.popleft()
            self.refused.append(refusal)
            headers = {} if refusal.retry_after is None else {"Retry-After": f"{refusal.retry_after:g}"}
            text = "Rate limit hit" if refusal.status == 429 else "Service temporarily unavailable"
            return graph_error(refusal.status, text, refusal.code, headers)
        payload = await request.json()
        phone_number_id, message_id = request.path_params["phone_number_id"], f"wamid.fake{next(self.ids)}"
        if payload.get("type") == "template":
            found = self._template(phone_number_id, payload["to"], message_id, payload["template"])
            if isinstance(found, JSONResponse):
                return found
            message = replace(found, callback_data=payload.get("biz_opaque_callback_data"), payload=payload)
        elif payload.get("type") == "interactive":
            found = self._interactive(phone_number_id, payload["to"], message_id, payload["interactive"])
            if isinstance(found, JSONResponse):
                return found
            message = replace(found, callback_data=payload.get("biz_opaque_callback_data"), payload=payload)
        else:
            message = SentMessage(phone_number_id, payload["to"], payload["text"]["body"], message_id,
                                  callback_data=payload.get("biz_opaque_callback_data"), payload=payload)
        await self._record(message)
        if self.after_record is not None:
            self.after_record(message)
        if self.webhook_url:
            task = asyncio.get_running_loop().create_task(self._deliver_statuses(message))
            self.posting.add(task)
            task.add_done_callback(self.posting.discard)
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        if self.holding:
            await self._hold(message)
        return JSONResponse({"messaging_product": "whatsapp", "contacts": [{"input": message.to, "wa_id": message.to}],
                             "messages": [{"id": message.id}]})

    def _template(self, phone_number_id: str, to: str, message_id: str,
                  template: dict[str, Any]) -> SentMessage | JSONResponse:
        """A template message as the Cloud API checks it: approved in that language, every parameter given."""
        name, language = template.get("name"), (template.get("language") or {}).get("code")
        body = self.templates.get((str(name), str(language)))
        if body is None:
            return graph_error(404, f"(#132001) Template name does not exist in the translation: {name} "
                                    f"({language})", 132001)
        values = tuple(str(p.get("text")) for c in template.get("components") or [] if c.get("type") == "body"
                       for p in c.get("parameters") or [])
        wanted = body.count("{{")
        if len(values) != wanted:
            return graph_error(400, f"(#132000) Number of parameters does not match the expected number of "
                                    f"params: expected {wanted}, got {len(values)}", 132000)
        buttons = [c for c in template.get("components") or [] if c.get("type") == "button"]
        if any(c.get("sub_type") != "quick_reply" or c.get("index") != str(n) or
               [p.get("type") for p in c.get("parameters") or []] != ["payload"] for n, c in enumerate(buttons)):
            return graph_error(400, "(#131008) Invalid button component", 131008)
        text = body
        for number, value in enumerate(values, start=1):
            text = text.replace(f"{{{{{number}}}}}", value)
        payloads = tuple(str(c["parameters"][0]["payload"]) for c in buttons)
        return SentMessage(phone_number_id, to, text, message_id, str(name), str(language), values, kind="template",
                           buttons=payloads)

    def _interactive(self, phone_number_id: str, to: str, message_id: str,
                     interactive: dict[str, Any]) -> SentMessage | JSONResponse:
        """A reply-button message as the Cloud API checks it: a body, one to three buttons, titles of at most 20."""
        buttons = (interactive.get("action") or {}).get("buttons") or []
        body = (interactive.get("body") or {}).get("text") or ""
        if interactive.get("type") != "button" or not body or not 1 <= len(buttons) <= 3 or any(
                b.get("type") != "reply" or not 1 <= len(b["reply"].get("title") or "") <= 20 for b in buttons):
            return graph_error(400, "(#131009) Parameter value is not valid", 131009)
        return SentMessage(phone_number_id, to, body, message_id, kind="interactive",
                           buttons=tuple(str(b["reply"]["id"]) for b in buttons))

    async def _hold(self, message: SentMessage) -> None:
        """Answer `message` only once `holding` is turned off (from any thread: it is polled)."""
        async with self.changed:
            self.held.append(message)
            self.changed.notify_all()
        while self.holding:
            await asyncio.sleep(0.02)

    async def _deliver_statuses(self, message: SentMessage) -> None:
        if message.id in self.silenced:
            return
        code = self.undeliverable.get(message.to)
        statuses = ("sent", "failed") if code is not None else self.statuses
        if self._http is None:
            self._http = httpx2.AsyncClient(timeout=5, verify=False)
        for status in statuses:
            body, headers = signed(status_callback(message.id, status, message.to, message.callback_data,
                                                   code if status == "failed" else None))
            while True:  # until the webhook takes it (the test's end cancels what is left)
                with contextlib.suppress(httpx2.HTTPError):
                    if (await self._http.post(self.webhook_url, content=body, headers=headers)).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            async with self.changed:
                self.posted.append((message.id, status))
                self.changed.notify_all()

    async def close(self) -> None:
        for task in list(self.posting):
            task.cancel()
        await asyncio.gather(*self.posting, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _record(self, message: SentMessage) -> None:
        async with self.changed:
            self.sent.append(message)
            self.changed.notify_all()


def graph_error(status: int, message: str, code: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "OAuthException", "code": code}}, status_code=status,
                        headers=headers)


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    """The `X-Hub-Signature-256` Meta sends with `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(payload: dict[str, Any], secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    """A webhook delivery as Meta posts it: the body and its headers."""
    body = json.dumps(payload).encode()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, secret)}


def delivery(value: dict[str, Any]) -> dict[str, Any]:
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}]}


def inbound(wa_id: str, message_id: str, kind: str = "text", text: str = "hello",
            profile_name: str = "Test Customer") -> dict[str, Any]:
    """A customer's message; `kind` other than text carries a media object instead of a body."""
    message: dict[str, Any] = {"from": wa_id, "id": message_id, "timestamp": "1764566400", "type": kind}
    message[kind] = {"body": text} if kind == "text" else {"id": "media-1", "mime_type": "image/jpeg"}
    return delivery({"messaging_product": "whatsapp",
                     "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
                     "contacts": [{"profile": {"name": profile_name}, "wa_id": wa_id}], "messages": [message]})


def button_press(wa_id: str, message_id: str, payload: str, title: str, *, template: bool = False,
                 context: str | None = None, profile_name: str = "Test Customer") -> dict[str, Any]:
    """A customer's press of a button, as WhatsApp delivers it: an interactive `button_reply` (id, title), or with
    `template` a template's quick reply (`button`: payload, text); `context` names the message it answers."""
    message: dict[str, Any] = {"from": wa_id, "id": message_id, "timestamp": "1764566400"}
    if template:
        message |= {"type": "button", "button": {"payload": payload, "text": title}}
    else:
        message |= {"type": "interactive", "interactive": {"type": "button_reply",
                                                           "button_reply": {"id": payload, "title": title}}}
    if context is not None:
        message["context"] = {"from": "15550001111", "id": context}
    return delivery({"messaging_product": "whatsapp",
                     "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
                     "contacts": [{"profile": {"name": profile_name}, "wa_id": wa_id}], "messages": [message]})


def status_callback(message_id: str, status: str, wa_id: str, callback_data: str | None = None,
                    error_code: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": message_id, "status": status, "recipient_id": wa_id, "timestamp": "1764566400"}
    if callback_data is not None:
        entry["biz_opaque_callback_data"] = callback_data
    if error_code is not None:
        entry["errors"] = [{"code": error_code, "title": "Message undeliverable",
                            "message": "Message undeliverable"}]
    return delivery({"messaging_product": "whatsapp", "statuses": [entry]})


@pytest.fixture
async def graph_api() -> AsyncIterator[FakeGraphApi]:
    """The fake Graph API, listening on loopback for the length of a test."""
    fake = FakeGraphApi()
    async with serve_on_loopback(fake.app()) as base_url:
        fake.base_url = base_url
        yield fake
        await fake.close()


# --- The bridge under test -------------------------------------------------------------------------

PROMPT_ROLE = {AgentKind.SYSTEM: "secretary", AgentKind.CUSTOMER: "user"}


class ScriptedAgents:
    """The fake agent runtime: a turn records the prompts it has not seen yet, in order, and answers them.

    The system agent stores its reply and broadcasts it; the customer assistant replies over WhatsApp.
    `gate`, when given, holds every system turn until it is set."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.gate = gate
        self.seen: dict[tuple[AgentKind, str], list[str]] = defaultdict(list)
        self.last_id: dict[tuple[AgentKind, str], int] = {}
        self.running: set[str] = set()
        self.overlaps = 0
        self.most_at_once = 0
        self.changed = asyncio.Condition()

    def turn_for(self, kind: AgentKind, context: BridgeContext) -> AgentTurn:
        return ScriptedTurn(self, kind, context)

    def texts(self, kind: AgentKind, wa_id: str) -> list[str]:
        return self.seen[(kind, wa_id)]

    async def wait_for_seen(self, kind: AgentKind, wa_id: str, count: int) -> None:
        async with asyncio.timeout(10), self.changed:
            await self.changed.wait_for(lambda: len(self.seen[(kind, wa_id)]) >= count)

    def enter(self, wa_id: str) -> None:
        self.overlaps += wa_id in self.running
        self.running.add(wa_id)
        self.most_at_once = max(self.most_at_once, len(self.running))

    async def record(self, kind: AgentKind, messages: list[MessageView]) -> None:
        async with self.changed:
            for message in messages:
                key = (kind, message.wa_id)
                self.seen[key].append(message.text)
                self.last_id[key] = message.id
            self.changed.notify_all()


class ScriptedTurn:
    def __init__(self, agents: ScriptedAgents, kind: AgentKind, context: BridgeContext) -> None:
        self.agents, self.kind, self.context = agents, kind, context

    async def __call__(self, wa_id: str) -> None:
        self.agents.enter(wa_id)
        try:
            if self.kind is AgentKind.SYSTEM and self.agents.gate is not None:
                await self.agents.gate.wait()
            new = await self.unseen(wa_id)
            await self.agents.record(self.kind, new)
            if new:
                await self.reply(wa_id, "Noted: " + " | ".join(m.text for m in new))
        finally:
            self.agents.running.discard(wa_id)

    async def unseen(self, wa_id: str) -> list[MessageView]:
        after = self.agents.last_id.get((self.kind, wa_id), 0)
        page = await self.context.services.conversations.page(wa_id, limit=500)
        return [m for m in page if m.role == PROMPT_ROLE[self.kind] and m.id > after]

    async def reply(self, wa_id: str, text: str) -> None:
        if self.kind is AgentKind.CUSTOMER:
            await self.context.outbox.send(wa_id, text, role="assistant")
            return
        stored = await self.context.services.conversations.append(wa_id, "assistant", text)
        assert stored is not None
        await self.context.events.publish(new_message_event(stored))


def bridge_settings(graph: FakeGraphApi, **overrides: Any) -> Settings:
    """Settings that point WhatsApp at the fake Graph API. The services of these tests run on a fixed clock, on
    which no quiet period would ever pass: customers' turns start at once unless a test asks otherwise."""
    return load_settings(**{"whatsapp_api_base_url": graph.base_url, "whatsapp_phone_number_id": PHONE_NUMBER_ID,
                            "whatsapp_access_token": ACCESS_TOKEN, "whatsapp_app_secret": APP_SECRET,
                            "whatsapp_verify_token": VERIFY_TOKEN, "customer_quiet_seconds": 0, **overrides})


@dataclass
class RunningBridge:
    """The bridge on a loopback port, an HTTP client for it, and what it talks to."""

    url: str
    http: httpx2.AsyncClient
    services: Services
    graph: FakeGraphApi
    agents: ScriptedAgents
    stack: contextlib.AsyncExitStack

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + "/ws"

    async def stop(self) -> None:
        """Shut the bridge down; its lifespan drains every queued turn first."""
        await self.stack.aclose()


@contextlib.asynccontextmanager
async def running_bridge(services: Services, graph: FakeGraphApi, agents: ScriptedAgents | None = None,
                         settings: Settings | None = None, public: bool = False) -> AsyncIterator[RunningBridge]:
    """The service as `calendar-agent serve` builds it, over `services` and the fake Graph API, with scripted
    agents in place of the model-backed ones."""
    agents = agents or ScriptedAgents()
    app = build_service_app(settings or bridge_settings(graph), services=services, public=public,
                            agents=agents.turn_for)
    async with contextlib.AsyncExitStack() as stack:
        url = await stack.enter_async_context(serve_on_loopback(app))
        http = await stack.enter_async_context(httpx2.AsyncClient(base_url=url, timeout=30))
        yield RunningBridge(url, http, services, graph, agents, stack)


async def until_ready(bridge: RunningBridge) -> httpx2.Response:
    """`/ready` polled as a load balancer does, until it answers 200 (within 10 s): the service builds its search
    index as it starts."""
    async with asyncio.timeout(10):
        while (ready := await bridge.http.get("/ready")).status_code != 200:
            await asyncio.sleep(0.02)
    return ready


async def next_event(sidebar: ClientConnection, event_type: str) -> dict[str, Any]:
    """The next event of `event_type` a sidebar's WebSocket receives (other events are skipped)."""
    async with asyncio.timeout(10):
        while True:
            event: dict[str, Any] = json.loads(await sidebar.recv())
            if event["type"] == event_type:
                return event


@pytest.fixture
async def bridge(services: Services, graph_api: FakeGraphApi) -> AsyncIterator[RunningBridge]:
    """The bridge over the test database (SQLite, then PostgreSQL) and the fake Graph API."""
    async with running_bridge(services, graph_api) as running:
        yield running
