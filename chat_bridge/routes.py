"""The operator API's read side and what every endpoint shares: request errors, JSON bodies, wa_ids."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket

from domain.errors import DomainError
from domain.identities import normalize_wa_id

if TYPE_CHECKING:
    from chat_bridge.state import State

DEFAULT_PAGE = 50
MAX_PAGE = 500


class RequestError(Exception):
    """A request the bridge cannot act on: answered 4xx with a stable code and a sentence."""

    def __init__(self, code: str, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status_code = status_code


class ConfirmationAnswers(Protocol):
    """The confirmation broker as the API sees it: False when no confirmation has this id."""

    def answer(self, confirmation_id: str, accept: bool) -> bool | Awaitable[bool]: ...


def error_body(code: str, sentence: str, /, **extra: Any) -> dict[str, Any]:
    """`{"error": {"code", "message"}}`, plus `extra` (the 502 of a failed send carries the stored message)."""
    return {"error": {"code": code, "message": sentence}, **extra}


async def request_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestError)
    return JSONResponse(error_body(error.code, error.message), status_code=error.status_code)


async def domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    return JSONResponse({"error": error.to_dict()}, status_code=400)


async def read_json(request: Request[Any]) -> dict[str, Any]:
    """The body as a JSON object, else a 400."""
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise RequestError("invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise RequestError("invalid_json", "The request body must be a JSON object.")
    return body


def resolve_wa_id(raw: object, system_wa_id: str) -> str:
    """A customer's normalised wa_id, or the system agent's id (which need not be a real number)."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        raise RequestError("missing_wa_id", "Choose a contact: wa_id is required.")
    if re.sub(r"\D", "", text) == system_wa_id:
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


CUSTOMER_FLAGS = ("blocked", "favorite")


async def update_customer(request: Request[State]) -> JSONResponse:
    """`PATCH /customers/{wa_id}` with `blocked` and/or `favorite`, each true or false: the customer as stored.
    A blocked customer's WhatsApp messages are acknowledged and ignored."""
    services = request.state["services"]
    wa_id = resolve_wa_id(request.path_params["wa_id"], services.config.system_agent_wa_id)
    body = await read_json(request)
    if not body or set(body) - set(CUSTOMER_FLAGS) or not all(isinstance(v, bool) for v in body.values()):
        raise RequestError("invalid_flags", "Send blocked and/or favorite, each true or false, and nothing else.")
    customer = await services.customers.set_flags(wa_id, blocked=body.get("blocked"), favorite=body.get("favorite"))
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


async def answer_confirmation(request: Request[State]) -> JSONResponse:
    """The operator's answer to a confirmation the system agent asked for: `{accept: bool}`."""
    accept = (await read_json(request)).get("accept")
    if not isinstance(accept, bool):
        raise RequestError("invalid_answer", "accept must be true (confirm) or false (cancel).")
    confirmation_id = request.path_params["confirmation_id"]
    if not await answered(request.state["confirmations"], confirmation_id, accept):
        raise RequestError("confirmation_not_found", "No confirmation is waiting with this id; it may have "
                           "been answered or timed out.", status_code=404)
    return JSONResponse({"confirmation_id": confirmation_id, "accept": accept})


async def answered(broker: ConfirmationAnswers | None, confirmation_id: str, accept: bool) -> bool:
    if broker is None:
        return False
    result = broker.answer(confirmation_id, accept)
    return bool(await result) if inspect.isawaitable(result) else bool(result)


async def realtime(websocket: WebSocket[State]) -> None:
    """`/ws`: every event of the bridge, as JSON text frames, until the sidebar closes."""
    await websocket.state["hub"].serve(websocket)
