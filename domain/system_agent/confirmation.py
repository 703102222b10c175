"""One-time confirmation tokens, each bound to exactly one planned change."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.storage.database import Database
from domain.errors import DomainError
from domain.storage.models import ConfirmationUse, ServiceSecret


def fingerprint(tool: str, arguments: dict[str, Any], plan: list[tuple[Any, ...]]) -> str:
    """A digest of the call and of what it would change: any difference needs a new token."""
    canonical = json.dumps({"tool": tool, "arguments": arguments, "plan": plan}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ConfirmationTokens:
    """Issues and checks tokens signed with `secret`; that a token is used only once is the database's to
    keep (`domain.storage.models.ConfirmationUse`), so it holds across instances and restarts."""

    def __init__(self, secret: bytes, ttl: timedelta = timedelta(minutes=10)) -> None:
        self.secret = secret
        self.ttl = ttl

    def issue(self, change: str, now: datetime) -> tuple[str, datetime]:
        expires = now + self.ttl
        nonce = secrets.token_hex(8)
        body = f"{int(expires.timestamp())}.{nonce}"
        token = base64.urlsafe_b64encode(f"{body}.{self._sign(body, change)}".encode()).decode()
        return token, expires

    def check(self, token: str, change: str, now: datetime) -> tuple[str, datetime]:
        """(nonce, expiry) of a token signed for `change` and not expired, or `confirmation_invalid`."""
        try:
            expires, nonce, signature = base64.urlsafe_b64decode(token.encode()).decode().split(".")
            until = datetime.fromtimestamp(int(expires), UTC)
        except (ValueError, UnicodeDecodeError, OverflowError, OSError):
            raise DomainError("confirmation_invalid") from None
        body = f"{expires}.{nonce}"
        if not hmac.compare_digest(signature, self._sign(body, change)) or until < now or len(nonce) > 32:
            raise DomainError("confirmation_invalid")
        return nonce, until

    def _sign(self, body: str, change: str) -> str:
        return hmac.new(self.secret, f"{body}.{change}".encode(), hashlib.sha256).hexdigest()


async def redeem(session: AsyncSession, nonce: str, expires: datetime, now: datetime) -> None:
    """Use a token up inside the batch's own transaction: a second use, on any instance, is refused.
    Nonces of tokens expired by `now` are forgotten: such tokens are refused by their expiry anyway."""
    await session.execute(delete(ConfirmationUse).where(ConfirmationUse.expires_at < now))
    try:
        async with session.begin_nested():
            session.add(ConfirmationUse(nonce=nonce, expires_at=expires))
            await session.flush()
    except IntegrityError:
        raise DomainError("confirmation_invalid") from None


async def shared_secret(db: Database, name: str) -> bytes:
    """A random secret generated once and kept in the database, the same for every instance on it."""
    async with db.unit_of_work() as session:
        stored = await session.get(ServiceSecret, name)
        if stored is None:
            stored = ServiceSecret(name=name, value=secrets.token_hex(32))
            try:
                async with session.begin_nested():
                    session.add(stored)
                    await session.flush()
            except IntegrityError:  # another instance stored one first
                stored = await session.get(ServiceSecret, name, populate_existing=True)
                assert stored is not None
        return bytes.fromhex(stored.value)
