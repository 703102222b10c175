"""Console sessions: a random secret in an HttpOnly cookie, kept here only as its SHA-256. A new secret at every
sign-in (a secret planted before it is never adopted: no session fixation), ended at sign-out, when the account is
disabled or its password or role changes, and `SESSION_HOURS` after it began."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from domain.clock import Clock, system_clock
from domain.staff.accounts import principal_of
from domain.staff.audit import AuditEvent, AuditLog
from domain.staff.roles import Principal
from domain.storage.database import Database
from domain.storage.models import StaffSession, StaffUser

SECRET_BYTES = 32
MAX_SECRET = 100  # a presented cookie longer than any secret made here is not looked up


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class StaffSessions:
    def __init__(self, db: Database, audit: AuditLog, clock: Clock = system_clock,
                 lifetime: timedelta = timedelta(hours=12)) -> None:
        self.db, self.audit, self.clock, self.lifetime = db, audit, clock, lifetime

    async def begin(self, principal: Principal) -> str:
        """A new session for a principal who just signed in: its secret, for the cookie."""
        secret = secrets.token_urlsafe(SECRET_BYTES)
        now = self.clock()
        async with self.db.unit_of_work() as session:
            user_id = await session.scalar(select(StaffUser.id).where(StaffUser.username == principal.name))
            session.add(StaffSession(id=digest(secret), user_id=user_id, created_at=now, expires_at=now + self.lifetime))
        return secret

    async def principal(self, secret: str) -> Principal | None:
        """Who a cookie's session is, while it lasts and its account is enabled; None otherwise."""
        if not secret or len(secret) > MAX_SECRET:
            return None
        query = (select(StaffUser).join(StaffSession, StaffSession.user_id == StaffUser.id)
                 .where(StaffSession.id == digest(secret), StaffSession.ended_at.is_(None),
                        StaffSession.expires_at > self.clock(), StaffUser.disabled_at.is_(None)))
        async with self.db.reading() as session:
            user = await session.scalar(query)
        return principal_of(user) if user is not None else None

    async def end(self, secret: str, principal: Principal) -> None:
        """Sign-out: the session ends here and in every instance (they read the same row)."""
        async with self.db.unit_of_work() as session:
            await session.execute(update(StaffSession).where(StaffSession.id == digest(secret[:MAX_SECRET]))
                                  .values(ended_at=self.clock()))
            self.audit.add(session, AuditEvent(principal.actor, "sign_out", role=principal.role))
