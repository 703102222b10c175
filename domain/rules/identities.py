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


def same_wa_id(raw: object, wa_id: str) -> bool:
    """Whether `raw` is `wa_id` however it is written (separators, '+' or '00', digits of any script), even when
    `wa_id` is no real number (the system agent's contact need not be one)."""
    if isinstance(raw, bool) or not isinstance(raw, str | int) or len(str(raw)) > MAX_WA_ID_INPUT:
        return False
    text = _SEPARATORS.sub("", ascii_digits(str(raw)))
    return (text[2:] if text.startswith("00") else text).removeprefix("+") == wa_id


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

# What no name holds, by Unicode category: controls (a NUL, a line break, the C1 controls), lone surrogates,
# format characters (Cf: the bidi overrides and isolates U+202A-U+202E and U+2066-U+2069, zero-width spaces,
# U+FEFF, the invisible tag characters U+E0000-U+E007F) and the line and paragraph separators (U+2028, U+2029).
# Each is invisible or changes how the rest is shown, so a name holding one can read as something else to a
# person (U+202E reverses what follows) and can hide a line break or an instruction from a model.
# ZWNJ and ZWJ (U+200C, U+200D) are format characters as well and are refused with the others, on purpose:
# Arabic never needs them (its letters join by themselves; its diacritics, category Mn, are kept), and in the
# scripts that use them (ZWNJ in Persian and Urdu, ZWJ in emoji sequences) a name reads the same without them
# and the search matches it the same, while allowing them would let two names that look alike differ. One rule,
# "no format character in a name", is simpler to state, check and explain in an error than a list of exceptions.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Cf", "Zl", "Zp"})


def is_control(char: str) -> bool:
    """A control character or a lone surrogate (a NUL byte, a line break): never part of a name or a value."""
    return unicodedata.category(char) in ("Cc", "Cs")


def is_hidden(char: str) -> bool:
    """A character that is invisible or breaks a line (`HIDDEN_CATEGORIES`): never part of a name."""
    return unicodedata.category(char) in HIDDEN_CATEGORIES


def hidden_in(text: str) -> str | None:
    """The first hidden character of `text` as an error names it ('U+202E RIGHT-TO-LEFT OVERRIDE'), or None."""
    found = next((char for char in text if is_hidden(char)), None)
    return None if found is None else f"U+{ord(found):04X} {unicodedata.name(found, '')}".rstrip()


def checked_name(name: str | None) -> str | None:
    """A name a person or a model typed, as stored, stripped; `invalid_name` when too long,
    `invalid_name_character` when it holds a hidden character (refused, not cleaned: whoever typed it can fix it)."""
    if name is None:
        return None
    cleaned = name.strip()
    if len(cleaned) > MAX_NAME:
        raise DomainError("invalid_name", max=MAX_NAME)
    if (hidden := hidden_in(cleaned)) is not None:
        raise DomainError("invalid_name_character", char=hidden)
    return cleaned or None


def readable_name(name: str | None) -> str | None:
    """A name from outside (a WhatsApp profile) made storable: nobody is there to fix it, so line breaks and other
    controls become spaces, format characters are dropped, runs of spaces become one and the length is cut."""
    if name is None:
        return None
    kept = " ".join("".join(_visible(char) for char in name).split())
    return kept[:MAX_NAME].rstrip() or None


def _visible(char: str) -> str:
    """A character as `readable_name` keeps it: a format character or lone surrogate dropped (it stands between
    letters, as U+200B or U+202E do), any other hidden one a space (it separated words, as a line break does)."""
    category = unicodedata.category(char)
    if category in ("Cf", "Cs"):
        return ""
    return " " if category in HIDDEN_CATEGORIES else char
