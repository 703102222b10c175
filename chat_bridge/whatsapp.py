"""The WhatsApp Cloud API client: text messages to a customer, split to the API's length limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2

MAX_TEXT = 4096
TIMEOUT_SECONDS = 15.0


class WhatsAppError(Exception):
    """WhatsApp did not take a message; the text says why in words an operator can act on."""


@dataclass(frozen=True)
class WhatsAppAccount:
    """Where and as whom the bridge sends: the Graph API base URL, the phone number id and its token."""

    base_url: str
    phone_number_id: str
    access_token: str

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{self.phone_number_id}/messages"


class WhatsAppClient:
    """Sends text messages through the Cloud API; every failure is a `WhatsAppError`."""

    def __init__(self, account: WhatsAppAccount, http: httpx2.AsyncClient | None = None) -> None:
        self.account = account
        self.http = http or httpx2.AsyncClient(timeout=TIMEOUT_SECONDS)

    async def send_text(self, wa_id: str, text: str) -> list[str]:
        """Send `text` to `wa_id` in parts of at most 4,096 characters; the WhatsApp id of each part."""
        self._check_configured()
        parts = split_text(text)
        if not parts:
            raise WhatsAppError("There is nothing to send: the message is empty.")
        return [await self._send_part(wa_id, part) for part in parts]

    async def aclose(self) -> None:
        await self.http.aclose()

    def _check_configured(self) -> None:
        if not (self.account.phone_number_id and self.account.access_token):
            raise WhatsAppError("WhatsApp is not configured: set WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_ACCESS_TOKEN.")

    async def _send_part(self, wa_id: str, body: str) -> str:
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": wa_id,
                   "type": "text", "text": {"preview_url": False, "body": body}}
        headers = {"Authorization": f"Bearer {self.account.access_token}"}
        try:
            response = await self.http.post(self.account.messages_url, json=payload, headers=headers)
        except (httpx2.HTTPError, httpx2.InvalidURL) as error:
            raise WhatsAppError(f"WhatsApp could not be reached at {self.account.base_url}: {error!r}") from error
        if not response.is_success:
            raise WhatsAppError(f"WhatsApp refused the message (HTTP {response.status_code}): {refusal(response)}")
        return message_id(response)


def refusal(response: httpx2.Response) -> str:
    """The Graph API's own explanation of a refused request, else the start of the body."""
    try:
        error = response.json().get("error", {})
        return str(error.get("message") or error)
    except (ValueError, AttributeError):
        return response.text[:200] or "no explanation given"


def message_id(response: httpx2.Response) -> str:
    try:
        body: Any = response.json()
        return str(body["messages"][0]["id"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise WhatsAppError(f"WhatsApp answered without a message id: {response.text[:200]}") from None


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
