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
    text = _SEPARATORS.sub("", "".join(_ascii_digit(c) for c in str(raw)))
    if text.startswith("00"):
        text = text[2:]
    digits = text.removeprefix("+")
    if not (digits.isascii() and digits.isdigit()) or not 8 <= len(digits) <= 15 or not _is_valid_number(digits):
        raise DomainError("invalid_wa_id", value=_shown(raw))
    return digits


def _ascii_digit(char: str) -> str:
    return str(unicodedata.decimal(char)) if char.isdecimal() else "+" if char == "\uff0b" else char


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
