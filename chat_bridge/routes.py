"""The bridge's endpoints (the operator API, the webhook, the realtime channel) and what they share: request
errors, JSON bodies, wa_ids. Each parses, calls one part of the bridge or the domain, and shapes the answer."""

from __future__ import annotations

import hmac
import inspect
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.websockets import WebSocket

from chat_bridge.agent.acting import authored
from chat_bridge.bodies import UnreadableBody, decode_json
from chat_bridge.messages import OperatorMessage
from chat_bridge.ports import ConfirmationAnswers
from chat_bridge.principals import principal_of
from chat_bridge.roles import require
from chat_bridge.state import State
from chat_bridge.webhook import SIGNATURE_HEADER, parse_body, read_delivery, valid_signature
from domain.errors import DomainError, ErrorKind, error_body
from domain.rules.identities import normalize_wa_id, same_wa_id
from domain.staff.roles import Principal, Role

DEFAULT_PAGE = 50
MAX_PAGE = 500


# The HTTP answer to each kind of error, for the bridge's own errors and the domain's alike.
STATUS_OF_KIND = {ErrorKind.MALFORMED: 400, ErrorKind.INVALID: 422, ErrorKind.NOT_FOUND: 404, ErrorKind.CONFLICT: 409}


class RequestError(Exception):
    """A request the bridge cannot act on: answered 4xx (by its kind) with a stable code and a sentence."""

    def __init__(self, code: str, message: str, kind: ErrorKind = ErrorKind.INVALID) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.kind = kind


async def request_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestError)
    return JSONResponse(error_body(error.code, error.message), status_code=STATUS_OF_KIND[error.kind])


async def domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    return JSONResponse(error_body(error.code, error.message()), status_code=STATUS_OF_KIND[error.kind])


async def read_json(request: Request[Any]) -> dict[str, Any]:
    """The body as a JSON object, else a 400."""
    try:
        body = await decode_json(await request.body())
    except UnreadableBody as error:
        raise RequestError("invalid_json", f"The request body is not valid JSON: {error}.",
                           ErrorKind.MALFORMED) from None
    if not isinstance(body, dict):
        raise RequestError("invalid_json", "The request body must be a JSON object.", ErrorKind.MALFORMED)
    return body


def resolve_wa_id(raw: object, system_wa_id: str) -> str:
    """A customer's normalised wa_id, or the system agent's id (which need not be a real number)."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        raise RequestError("missing_wa_id", "Choose a contact: wa_id is required.")
    if same_wa_id(text, system_wa_id):
        return system_wa_id
    return normalize_wa_id(text)


def int_param(request: Request[Any], name: str, default: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise RequestError("invalid_parameter", f"{name} must be a whole number, got {raw!r}.") from None


async def health(request: Request[State]) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def customer_names(request: Request[State]) -> JSONResponse:
    """Every contact, the system agent first with its display name."""
    return JSONResponse([c.model_dump(mode="json") for c in await request.state["services"].customers.contacts()])


async def search_customers(request: Request[State]) -> JSONResponse:
    """The phone selector: `?q=` matched against names and numbers."""
    query = request.query_params.get("q", "").strip()
    limit = int_param(request, "limit", DEFAULT_PAGE) or DEFAULT_PAGE
    if not query:
        return JSONResponse([])
    hits = await request.state["services"].search.search(query, limit=limit)
    return JSONResponse([h.model_dump(mode="json") for h in hits])


CUSTOMER_FLAGS = ("blocked", "favorite", "notices_opt_out")


async def update_customer(request: Request[State]) -> JSONResponse:
    """`PATCH /customers/{wa_id}` with `blocked`, `favorite` and/or `notices_opt_out`, each true or false: the
    customer as stored. A blocked customer's WhatsApp messages are acknowledged and ignored; a customer opted out
    of notices gets none (they opt out by answering a stop word)."""
    services = request.state["services"]
    wa_id = resolve_wa_id(request.path_params["wa_id"], services.config.system_agent_wa_id)
    body = await read_json(request)
    if not body or set(body) - set(CUSTOMER_FLAGS) or not all(isinstance(v, bool) for v in body.values()):
        raise RequestError("invalid_flags", "Send blocked, favorite and/or notices_opt_out, each true or false, and "
                                            "nothing else.")
    customer = await services.customers.set_flags(wa_id, blocked=body.get("blocked"), favorite=body.get("favorite"),
                                                  notices_opt_out=body.get("notices_opt_out"))
    return JSONResponse(customer.model_dump(mode="json"))


async def conversation(request: Request[State]) -> JSONResponse:
    """A page of a conversation, oldest first; `next_before_id` fetches the page before it."""
    services = request.state["services"]
    wa_id = resolve_wa_id(request.path_params["wa_id"], services.config.system_agent_wa_id)
    limit = max(1, min(int_param(request, "limit", DEFAULT_PAGE) or DEFAULT_PAGE, MAX_PAGE))
    messages = await services.conversations.page(wa_id, before_id=int_param(request, "before_id", None), limit=limit)
    older = messages[0].id if len(messages) == limit else None
    return JSONResponse({"wa_id": wa_id, "messages": [m.model_dump(mode="json") for m in messages],
                         "next_before_id": older})


async def send_message(request: Request[State]) -> JSONResponse:
    """To the system agent: 202 with the stored message at once. To a customer: 200 once WhatsApp took it,
    502 with the stored (failed) message when it did not. A staff member's message is stored with its author: the
    system agent acts for them."""
    desk = request.state["desk"]
    message = parse_operator_message(await read_json(request), desk.system_wa_id, principal_of(request.scope))
    if message.wa_id == desk.system_wa_id:
        stored = await desk.ask_system_agent(message)
        return JSONResponse({"message": stored.model_dump(mode="json")}, status_code=202)
    require(request.scope, Role.OPERATOR)  # a viewer asks the agent; messaging a customer is an operator's
    delivery = await desk.message_customer(message)
    if delivery.error is not None:
        body = error_body("whatsapp_send_failed", f"The message was not delivered: {delivery.error}",
                          message=delivery.message.model_dump(mode="json"))
        return JSONResponse(body, status_code=502)
    return JSONResponse({"message": delivery.message.model_dump(mode="json")})


def parse_operator_message(body: dict[str, Any], system_wa_id: str, author: Principal) -> OperatorMessage:
    """`{wa_id, message, _call_source}` written by `author`; other fields are ignored."""
    text = body.get("message")
    if not isinstance(text, str) or not text.strip():
        raise RequestError("empty_message", "The message is empty: type something to send.")
    source = body.get("_call_source")
    meta = authored({"call_source": str(source)} if source else None, author)
    return OperatorMessage(resolve_wa_id(body.get("wa_id"), system_wa_id), text.strip(), meta)


async def answer_confirmation(request: Request[State]) -> JSONResponse:
    """The operator's answer to a confirmation the system agent asked for: `{accept: bool}`."""
    accept = (await read_json(request)).get("accept")
    if not isinstance(accept, bool):
        raise RequestError("invalid_answer", "accept must be true (confirm) or false (cancel).")
    confirmation_id = request.path_params["confirmation_id"]
    if not await answered(request.state["confirmations"], confirmation_id, accept):
        raise RequestError("confirmation_not_found", "No confirmation is waiting with this id; it may have "
                           "been answered or timed out.", ErrorKind.NOT_FOUND)
    return JSONResponse({"confirmation_id": confirmation_id, "accept": accept})


async def answered(broker: ConfirmationAnswers | None, confirmation_id: str, accept: bool) -> bool:
    if broker is None:
        return False
    result = broker.answer(confirmation_id, accept)
    return bool(await result) if inspect.isawaitable(result) else bool(result)


async def realtime(websocket: WebSocket[State]) -> None:
    """`/ws`: every event of the bridge, as JSON text frames, until the sidebar closes."""
    await websocket.state["hub"].serve(websocket)


async def verify_subscription(request: Request[State]) -> Response:
    """`GET /webhook`: Meta's subscription check; the challenge back when the verify token matches."""
    params = request.query_params
    token = request.state["config"].whatsapp_verify_token
    given = params.get("hub.verify_token", "")
    if params.get("hub.mode") == "subscribe" and token and hmac.compare_digest(given.encode(), token.encode()):
        return PlainTextResponse(params.get("hub.challenge", ""))
    return PlainTextResponse("Verification failed.", status_code=403)


async def receive_webhook(request: Request[State]) -> Response:
    """`POST /webhook`: the signature first (403 and nothing read when it is wrong), then every message."""
    body = await request.body()
    if not valid_signature(body, request.headers.get(SIGNATURE_HEADER), request.state["config"].whatsapp_app_secret):
        return JSONResponse(error_body("invalid_signature", "The X-Hub-Signature-256 header is missing or wrong."),
                            status_code=403)
    inbox = request.state["inbox"]
    messages, statuses = read_delivery(await parse_body(body))
    for message in messages:
        await inbox.receive(message)
    for update in statuses:
        await inbox.update_status(update)
    return JSONResponse({"status": "received"})
