"""WhatsApp ids: E.164 digits without '+', normalised from what people type and validated."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers

from domain.errors import DomainError

_SEPARATORS = re.compile(r"[\s\-().\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


MAX_WA_ID_INPUT = 40  # characters: a number with every separator people type still fits


def normalize_wa_id(raw: str | int) -> str:
    """Return the wa_id for `raw` ('+966 50-123 4567' -> '966501234567') or raise `invalid_wa_id`.
    Decimal digits of any script (Arabic-Indic, Persian, Devanagari, fullwidth, ...) are the same digits."""
    if isinstance(raw, bool) or not isinstance(raw, str | int) or len(str(raw)) > MAX_WA_ID_INPUT:
        raise DomainError("invalid_wa_id", value=_shown(raw))
    text = _SEPARATORS.sub("", ascii_digits(str(raw)))
    if text.startswith("00"):
        text = text[2:]
    digits = text.removeprefix("+")
    if not (digits.isascii() and digits.isdigit()) or not 8 <= len(digits) <= 15 or not _is_valid_number(digits):
        raise DomainError("invalid_wa_id", value=_shown(raw))
    return digits


def ascii_digits(text: str) -> str:
    """Decimal digits of any script as ASCII digits (and a fullwidth plus as '+'); the rest unchanged."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else "+" if c == "\uff0b" else c for c in text)


def _shown(raw: object) -> str:
    """The input as an error quotes it: never longer than a number could be."""
    text = str(raw)
    return text if len(text) <= MAX_WA_ID_INPUT else text[:MAX_WA_ID_INPUT] + "…"


@lru_cache(maxsize=65_536)
def _is_valid_number(digits: str) -> bool:
    """Whether `digits` is a valid international number; remembered, as the same numbers come back."""
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse("+" + digits)))
    except phonenumbers.NumberParseException:
        return False


def display_wa_id(wa_id: str) -> str:
    return "+" + wa_id


MAX_NAME = 200  # characters of a customer's name (the customers table's limit)


def is_control(char: str) -> bool:
    """A control character or a lone surrogate (a NUL byte, a line break): never part of a name or a value."""
    return unicodedata.category(char) in ("Cc", "Cs")


def checked_name(name: str | None) -> str | None:
    """A customer's name as stored, stripped; `invalid_name` when too long or holding control characters."""
    if name is None:
        return None
    cleaned = name.strip()
    if len(cleaned) > MAX_NAME or any(is_control(c) for c in cleaned):
        raise DomainError("invalid_name", max=MAX_NAME)
    return cleaned or None


def readable_name(name: str | None) -> str | None:
    """A name from outside (a WhatsApp profile) made storable: control characters dropped, length cut."""
    if name is None:
        return None
    kept = "".join(c for c in name if not is_control(c)).strip()
    return kept[:MAX_NAME] or None
