"""The WhatsApp Cloud API client: text messages to a customer, split to the API's length limit, and approved
templates (the only messages allowed outside the 24-hour customer-service window).

A refusal says whether trying again later can help (`WhatsAppError.retryable`: a rate or pair limit, a
server error, no connection) and how long WhatsApp asked to wait (`retry_after`), so that a sender can back
off instead of giving up or hammering. A request that left without a usable answer (the connection dropped or
timed out after it was written, a 2xx without an id, a later part of a long text refused) is `maybe_taken`:
WhatsApp may have the message, so sending it again could deliver it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx2

MAX_TEXT = 4096
MAX_BUTTON_BODY = 1024  # an interactive message's body
MAX_REPLY_BUTTONS = 3
TIMEOUT_SECONDS = 15.0


# Graph API error codes that mean "not now" rather than "never": application and account rate limits,
# the phone number's throughput, the pair rate limit (too many messages to one customer), spam rate limit.
RETRYABLE_CODES = frozenset({4, 80007, 130429, 131048, 131056})
# Failures before any byte of the request reached WhatsApp: it cannot have the message.
NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout, httpx2.ProxyError,
            httpx2.UnsupportedProtocol, httpx2.LocalProtocolError)


class WhatsAppError(Exception):
    """WhatsApp did not take a message; the text says why in words an operator can act on. `retryable`: the
    same message may succeed later (after `retry_after` seconds when WhatsApp said); `code`: Graph's code;
    `maybe_taken`: the request left and no answer says what became of it."""

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None,
                 code: int | None = None, status: int | None = None, maybe_taken: bool = False) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status of WhatsApp's refusal, None when it was not reached
        self.retryable = retryable
        self.retry_after = retry_after
        self.code = code
        self.maybe_taken = maybe_taken


@dataclass(frozen=True)
class Template:
    """An approved template message: its name, its language code (`en`, `ar`, `en_US`...), the values of its
    body's parameters, in order ({{1}}, {{2}}, ...), and the payloads of its quick-reply buttons, in order (the
    buttons' titles are part of the approved template)."""

    name: str
    language: str
    parameters: tuple[str, ...] = ()
    buttons: tuple[str, ...] = ()

    def payload(self) -> dict[str, Any]:
        template: dict[str, Any] = {"name": self.name, "language": {"code": self.language}}
        components: list[dict[str, Any]] = []
        if self.parameters:
            components.append({"type": "body", "parameters": [
                {"type": "text", "text": value} for value in self.parameters]})
        components += [{"type": "button", "sub_type": "quick_reply", "index": str(index),
                        "parameters": [{"type": "payload", "payload": button}]}
                       for index, button in enumerate(self.buttons)]
        if components:
            template["components"] = components
        return template


def reply_buttons(body: str, buttons: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """An interactive message with up to three reply buttons (id, title): allowed only inside the 24-hour window."""
    return {"type": "interactive", "interactive": {
        "type": "button", "body": {"text": body[:MAX_BUTTON_BODY]},
        "action": {"buttons": [{"type": "reply", "reply": {"id": id_, "title": title[:20]}}
                               for id_, title in buttons[:MAX_REPLY_BUTTONS]]}}}


@dataclass(frozen=True)
class WhatsAppAccount:
    """Where and as whom the bridge sends: the Graph API base URL, the phone number id and its token."""

    base_url: str
    phone_number_id: str
    access_token: str

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{self.phone_number_id}/messages"

    @property
    def configured(self) -> bool:
        return bool(self.phone_number_id and self.access_token)


class WhatsAppClient:
    """Sends text messages through the Cloud API; every failure is a `WhatsAppError`."""

    def __init__(self, account: WhatsAppAccount, http: httpx2.AsyncClient | None = None) -> None:
        self.account = account
        self.http = http or httpx2.AsyncClient(timeout=TIMEOUT_SECONDS)

    async def send_text(self, wa_id: str, text: str, callback_data: str | None = None) -> list[str]:
        """Send `text` to `wa_id` in parts of at most 4,096 characters; the WhatsApp id of each part. Each part
        carries `callback_data`; a part refused after others were taken is `maybe_taken` (the customer has
        the start of the text)."""
        self._check_configured()
        parts = split_text(text)
        if not parts:
            raise WhatsAppError("There is nothing to send: the message is empty.")
        ids: list[str] = []
        for number, part in enumerate(parts, start=1):
            try:
                ids.append(await self._send_part(wa_id, part, callback_data))
            except WhatsAppError as error:
                if not ids:
                    raise
                raise WhatsAppError(f"Part {number} of {len(parts)} was not sent: {error}", maybe_taken=True,
                                    code=error.code, status=error.status) from error
        return ids

    async def send_template(self, wa_id: str, template: Template, callback_data: str | None = None) -> str:
        """Send an approved template to `wa_id`; WhatsApp's id of the message. `callback_data` comes back in
        the message's delivery statuses (`biz_opaque_callback_data`)."""
        self._check_configured()
        if not template.name or not template.language:
            raise WhatsAppError("A template message needs the template's name and language.")
        return await self._post(wa_id, {"type": "template", "template": template.payload(), **callback(callback_data)})

    async def send_buttons(self, wa_id: str, body: str, buttons: Sequence[tuple[str, str]],
                           callback_data: str | None = None) -> str:
        """Send `body` with reply buttons (id, title) to `wa_id`, inside the customer's 24-hour window; WhatsApp's
        id of the message."""
        self._check_configured()
        if not body.strip() or not buttons:
            raise WhatsAppError("An interactive message needs a body and at least one button.")
        return await self._post(wa_id, {**reply_buttons(body, buttons), **callback(callback_data)})

    async def aclose(self) -> None:
        await self.http.aclose()

    def _check_configured(self) -> None:
        if not self.account.configured:
            raise WhatsAppError("WhatsApp is not configured: set WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_ACCESS_TOKEN.")

    async def _send_part(self, wa_id: str, body: str, callback_data: str | None = None) -> str:
        return await self._post(wa_id, {"type": "text", "text": {"preview_url": False, "body": body},
                                        **callback(callback_data)})

    async def _post(self, wa_id: str, message: dict[str, Any]) -> str:
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": wa_id, **message}
        headers = {"Authorization": f"Bearer {self.account.access_token}"}
        try:
            response = await self.http.post(self.account.messages_url, json=payload, headers=headers)
        except httpx2.InvalidURL as error:
            raise WhatsAppError(f"WhatsApp could not be reached at {self.account.base_url}: {error!r}") from error
        except NOT_SENT as error:
            raise WhatsAppError(f"WhatsApp could not be reached at {self.account.base_url}: {error!r}",
                                retryable=True) from error
        except httpx2.HTTPError as error:
            raise WhatsAppError(f"WhatsApp's answer was lost ({error!r}): it may have taken the message",
                                retryable=True, maybe_taken=True) from error
        if not response.is_success:
            code = graph_code(response)
            retryable = response.status_code == 429 or response.status_code >= 500 or code in RETRYABLE_CODES
            raise WhatsAppError(f"WhatsApp refused the message (HTTP {response.status_code}): {refusal(response)}",
                                retryable=retryable, retry_after=retry_after(response), code=code,
                                status=response.status_code)
        return message_id(response)


def callback(data: str | None) -> dict[str, str]:
    """`biz_opaque_callback_data`: WhatsApp returns it in the message's statuses (at most 512 characters)."""
    return {"biz_opaque_callback_data": data[:512]} if data else {}


def refusal(response: httpx2.Response) -> str:
    """The Graph API's own explanation of a refused request, else the start of the body."""
    try:
        error = response.json().get("error", {})
        return str(error.get("message") or error)
    except (ValueError, AttributeError):
        return response.text[:200] or "no explanation given"


def graph_code(response: httpx2.Response) -> int | None:
    try:
        code = response.json().get("error", {}).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def retry_after(response: httpx2.Response) -> float | None:
    """The seconds a `Retry-After` header asks for (a number; a date or nonsense is ignored), at most an hour."""
    value = response.headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(seconds, 3600.0) if seconds >= 0 else None  # NaN is not >= 0


def message_id(response: httpx2.Response) -> str:
    try:
        body: Any = response.json()
        return str(body["messages"][0]["id"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise WhatsAppError(f"WhatsApp answered without a message id: {response.text[:200]}",
                            maybe_taken=True) from None


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut `text` into parts of at most `limit` characters, at a paragraph, line or word break when one is near."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = cut_point(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return [part for part in parts if part]


def cut_point(text: str, limit: int) -> int:
    """The last break in the second half of the first `limit` characters, else `limit` itself."""
    for separator in ("\n\n", "\n", " "):
        at = text.rfind(separator, limit // 2, limit + 1)
        if at > 0:
            return at
    return limit
