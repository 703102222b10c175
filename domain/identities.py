"""WhatsApp ids: E.164 digits without '+', normalised from what people type and validated."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from domain.errors import DomainError

_SEPARATORS = re.compile(r"[\s\-().\u200e\u200f]+")
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def normalize_wa_id(raw: str | int) -> str:
    """Return the wa_id for `raw` ('+966 50-123 4567' -> '966501234567') or raise `invalid_wa_id`."""
    text = _SEPARATORS.sub("", str(raw).translate(_ARABIC_DIGITS))
    if text.startswith("00"):
        text = text[2:]
    digits = text.removeprefix("+")
    if not digits.isdigit() or not 8 <= len(digits) <= 15 or not _is_valid_number(digits):
        raise DomainError("invalid_wa_id", value=raw)
    return digits


@lru_cache(maxsize=65_536)
def _is_valid_number(digits: str) -> bool:
    """Whether `digits` is a valid international number; remembered, as the same numbers come back."""
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse("+" + digits)))
    except phonenumbers.NumberParseException:
        return False


def display_wa_id(wa_id: str) -> str:
    return "+" + wa_id
