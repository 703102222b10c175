"""Staff accounts: added, listed, disabled and given new passwords from the command line (`calendar-agent users`),
and signed in to from the console, with failed sign-ins rate-limited by name and by address."""

from __future__ import annotations

import asyncio
import re
import unicodedata
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import Clock, local_iso, system_clock
from domain.config import ClinicConfig
from domain.errors import DomainError
from domain.staff.audit import OK, REFUSED, AuditEvent, AuditLog
from domain.staff.passwords import checked_password, hashed, verified
from domain.staff.roles import Principal, Role
from domain.storage.database import Database, lock_exclusively, lock_key
from domain.storage.models import OAuthGrant, StaffSession, StaffUser

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
SIGN_IN = "sign_in"
SIGN_IN_WINDOW = timedelta(minutes=15)
SIGN_IN_ATTEMPTS = 5  # refused sign-ins for one name, or from one address, within the window


class StaffView(BaseModel):
    username: str
    display_name: str
    role: Role
    created_at: str | None
    disabled: bool


class SignInThrottled(Exception):
    """Too many refused sign-ins lately: try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many refused sign-ins; retry after {retry_after} s")
        self.retry_after = retry_after


def checked_username(username: str) -> str:
    """`username` folded to its canonical form (NFKC, lower case), or `DomainError('invalid_username')`: ASCII
    letters, digits, `.`, `_` and `-` only, so that two names never look alike."""
    name = unicodedata.normalize("NFKC", username).strip().lower()
    if not USERNAME.fullmatch(name) or not name.isascii():
        raise DomainError("invalid_username", value=username[:40])
    return name


def checked_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise DomainError("invalid_role", value=role[:20], valid=", ".join(Role)) from None


class StaffAccounts:
    """The staff's accounts over one database; each change is in the audit log, signed by `by`."""

    def __init__(self, db: Database, config: ClinicConfig, audit: AuditLog, clock: Clock = system_clock) -> None:
        self.db, self.config, self.audit, self.clock = db, config, audit, clock

    async def add(self, username: str, role: str, password: str, display_name: str = "", *,
                  by: str = "command_line") -> StaffView:
        name, chosen = checked_username(username), checked_role(role)
        user = StaffUser(username=name, display_name=(display_name.strip() or name)[:100], role=chosen,
                         password_hash=hashed(password), created_at=self.clock(), password_changed_at=self.clock())
        async with self.db.unit_of_work() as session:
            if await session.scalar(select(StaffUser.id).where(StaffUser.username == name)) is not None:
                raise DomainError("user_exists", username=name)
            session.add(user)
            self.audit.add(session, AuditEvent(by, "user_add", target=name, detail={"role": chosen}))
        return self._view(user)

    async def listed(self) -> list[StaffView]:
        async with self.db.reading() as session:
            users = (await session.scalars(select(StaffUser).order_by(StaffUser.username))).all()
        return [self._view(user) for user in users]

    async def disable(self, username: str, *, by: str = "command_line") -> StaffView:
        """Disable an account: it signs in nowhere, its sessions end and its OAuth tokens stop."""
        return await self._change(username, "user_disable", by, disabled_at=self.clock())

    async def enable(self, username: str, *, by: str = "command_line") -> StaffView:
        return await self._change(username, "user_enable", by, disabled_at=None, ends_access=False)

    async def set_password(self, username: str, password: str, *, by: str = "command_line") -> StaffView:
        """A new password; every session and OAuth token of the account ends."""
        return await self._change(username, "user_passwd", by, password_hash=hashed(checked_password(password)),
                                  password_changed_at=self.clock())

    async def set_role(self, username: str, role: str, *, by: str = "command_line") -> StaffView:
        """A new role; every session and OAuth token of the account ends, so none keeps the old role's reach."""
        return await self._change(username, "user_role", by, role=checked_role(role))

    async def exist(self) -> bool:
        """Whether any account is enabled: then the console and `/mcp` need a signed-in person or a token."""
        async with self.db.reading() as session:
            count = await session.scalar(select(func.count()).select_from(StaffUser)
                                         .where(StaffUser.disabled_at.is_(None)))
        return bool(count)

    async def principal(self, username: str) -> Principal | None:
        """The account's principal with its role as it is now; None when no enabled account has that name."""
        async with self.db.reading() as session:
            user = await session.scalar(select(StaffUser).where(StaffUser.username == username,
                                                                StaffUser.disabled_at.is_(None)))
        return principal_of(user) if user is not None else None

    async def sign_in(self, username: str, password: str, address: str | None) -> Principal:
        """The account's principal when the password matches and the account is enabled, else
        `DomainError('sign_in_refused')` (one answer whatever was wrong); `SignInThrottled` after too many refusals
        for this name or from this address. Every attempt is in the audit log. Attempts on one name, or from one
        address, are taken one at a time (a lock held while the password is checked), so a burst of guesses in
        parallel is counted as it would be in a row."""
        name = unicodedata.normalize("NFKC", username).strip().lower()[:64]
        async with self.db.unit_of_work() as session:
            for key in (("name", name), ("address", address)):
                await lock_exclusively(session, lock_key(SIGN_IN, *key))
            outcome = await self._attempt(session, name, password, address)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def _attempt(self, session: AsyncSession, name: str, password: str,
                       address: str | None) -> Principal | Exception:
        """One sign-in attempt, written to the audit log in `session`: the principal, or what to raise."""
        since = self.clock() - SIGN_IN_WINDOW
        if await self.audit.refusals(session, SIGN_IN, since, target=name, address=address) >= SIGN_IN_ATTEMPTS:
            self.audit.add(session, AuditEvent(_address(address), SIGN_IN, REFUSED, target=name,
                                               detail={"reason": "throttled"}))
            return SignInThrottled(int(SIGN_IN_WINDOW.total_seconds()))
        user = await session.scalar(select(StaffUser).where(StaffUser.username == name))
        # The hash is checked off the event loop: argon2 takes tens of milliseconds on purpose.
        matches = await asyncio.to_thread(verified, user.password_hash if user else None, password)
        if not matches or user is None or user.disabled_at:
            self.audit.add(session, AuditEvent(_address(address), SIGN_IN, REFUSED, target=name))
            return DomainError("sign_in_refused")
        self.audit.add(session, AuditEvent(f"operator:{name}", SIGN_IN, OK, role=user.role, target=name,
                                           detail={"address": address}))
        return principal_of(user)

    async def _change(self, username: str, action: str, by: str, ends_access: bool = True,
                      **values: object) -> StaffView:
        name = checked_username(username)
        async with self.db.unit_of_work() as session:
            user = await session.scalar(select(StaffUser).where(StaffUser.username == name).with_for_update())
            if user is None:
                raise DomainError("user_not_found", username=name)
            for key, value in values.items():
                setattr(user, key, value)
            if ends_access:
                await end_access(session, user.id, self.clock())
            detail = {"role": str(values["role"])} if "role" in values else None
            self.audit.add(session, AuditEvent(by, action, target=name, detail=detail))
        return self._view(user)

    def _view(self, user: StaffUser) -> StaffView:
        return StaffView(username=user.username, display_name=user.display_name, role=Role(user.role),
                         created_at=local_iso(self.config, user.created_at), disabled=user.disabled_at is not None)


def principal_of(user: StaffUser) -> Principal:
    return Principal(user.username, Role(user.role))


async def end_access(session: AsyncSession, user_id: int, now: datetime) -> None:
    """End every console session and revoke every OAuth grant of an account."""
    await session.execute(update(StaffSession).where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
                          .values(ended_at=now))
    await session.execute(update(OAuthGrant).where(OAuthGrant.user_id == user_id, OAuthGrant.revoked_at.is_(None))
                          .values(revoked_at=now))


def _address(address: str | None) -> str:
    return f"address:{address or 'unknown'}"
