"""One-time confirmation tokens, each bound to exactly one planned change."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from domain.errors import DomainError


def fingerprint(tool: str, arguments: dict[str, Any], plan: list[tuple[Any, ...]]) -> str:
    """A digest of the call and of what it would change: any difference needs a new token."""
    canonical = json.dumps({"tool": tool, "arguments": arguments, "plan": plan}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ConfirmationTokens:
    """Issues and redeems tokens; a token works once, before it expires, for its own change only."""

    def __init__(self, secret: bytes | None = None, ttl: timedelta = timedelta(minutes=10)) -> None:
        self.secret = secret or secrets.token_bytes(32)
        self.ttl = ttl
        self._used: dict[str, datetime] = {}

    def issue(self, change: str, now: datetime) -> tuple[str, datetime]:
        expires = now + self.ttl
        nonce = secrets.token_hex(8)
        body = f"{int(expires.timestamp())}.{nonce}"
        token = base64.urlsafe_b64encode(f"{body}.{self._sign(body, change)}".encode()).decode()
        return token, expires

    def redeem(self, token: str, change: str, now: datetime) -> None:
        """Accept the token for `change` once, or raise `confirmation_invalid`."""
        try:
            expires, nonce, signature = base64.urlsafe_b64decode(token.encode()).decode().split(".")
        except (ValueError, UnicodeDecodeError):
            raise DomainError("confirmation_invalid") from None
        body = f"{expires}.{nonce}"
        valid = hmac.compare_digest(signature, self._sign(body, change))
        if not valid or int(expires) < now.timestamp() or nonce in self._used:
            raise DomainError("confirmation_invalid")
        self._forget_expired(now)
        self._used[nonce] = now + self.ttl

    def _sign(self, body: str, change: str) -> str:
        return hmac.new(self.secret, f"{body}.{change}".encode(), hashlib.sha256).hexdigest()

    def _forget_expired(self, now: datetime) -> None:
        for nonce in [n for n, until in self._used.items() if until < now]:
            del self._used[nonce]
