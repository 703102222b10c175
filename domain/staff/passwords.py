"""Passwords, kept as argon2id hashes (argon2-cffi, RFC 9106's parameters), and what a password must be."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.errors import DomainError

MIN_LENGTH = 10
MAX_LENGTH = 1024  # a longer one is refused before hashing: hashing a megabyte on every try is a denial of service
_HASHER = PasswordHasher()
# Verified against when the username is unknown, so that an unknown name takes as long as a wrong password.
_DUMMY = _HASHER.hash("not a password of anyone here")


def checked_password(password: str) -> str:
    """`password` when it may be used, else `DomainError('weak_password')`."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH or not password.strip():
        raise DomainError("weak_password", min=MIN_LENGTH, max=MAX_LENGTH)
    return password


def hashed(password: str) -> str:
    return _HASHER.hash(checked_password(password))


def verified(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash` (None: an unknown user, which never matches, in the same time)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
