"""One spelling-free form of a name word for Arabic and Latin script alike: its consonant skeleton.

"Fahad", "Fahd" and "فهد" are all `fhd`; "Mohammed", "Muhammad", "Mohamed" and "محمد" are all `mhmd`. Latin
vowels and Arabic long vowels and hamza carriers are dropped (a و or ي starting the word is the consonant
w or y), letters that English spellings of Arabic names share are merged (ق and k, ث and t, ذ ض ظ and d),
doubled letters collapse, and a final h (ة, ه, "Fatimah") is dropped. The search index matches skeletons
exactly, as a second way to a customer beside the words themselves (`domain.search_index`).
"""

from __future__ import annotations

import re

_ARABIC = {
    "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "k", "د": "d", "ذ": "d", "ر": "r", "ز": "z",
    "س": "s", "ش": "x", "ص": "s", "ض": "d", "ط": "t", "ظ": "d", "غ": "g", "ف": "f", "ق": "k", "ك": "k",
    "ل": "l", "م": "m", "ن": "n", "ه": "h", "ة": "h", "پ": "b", "چ": "x", "گ": "j", "ڤ": "f",
}
_ARABIC_SILENT = set("اأإآٱءئؤىع")
_ARABIC_SEMIVOWELS = {"و": "w", "ي": "y"}
# Applied in order, before the single letters (upper case marks a sound already decided).
_LATIN_DIGRAPHS = (("kh", "K"), ("gh", "G"), ("sh", "X"), ("ch", "X"), ("th", "T"), ("dh", "D"), ("ph", "F"),
                   ("ck", "K"))
_LATIN = {"q": "k", "c": "k", "g": "j", "p": "b", "v": "f", "x": "ks"}
_LATIN_VOWELS = set("aeiou")
_NOT_LETTER = re.compile(r"[^a-z\u0621-\u064a\u067e\u0686\u06a4\u06af]")


def skeleton(word: str) -> str:
    """The consonant skeleton of one normalised word (lower case, folded Arabic letter forms); empty when it
    has no consonant, or mixes scripts."""
    word = _NOT_LETTER.sub("", word)
    if not word:
        return ""
    if "a" <= word[0] <= "z":
        if not word.isascii():
            return ""
        letters = _latin(word)
    else:
        if any("a" <= c <= "z" for c in word):
            return ""
        letters = _arabic(word)
    collapsed = re.sub(r"(.)\1+", r"\1", letters)
    return collapsed[:-1] if collapsed.endswith("h") and len(collapsed) > 1 else collapsed


def _arabic(word: str) -> str:
    out = []
    for position, letter in enumerate(word):
        if letter in _ARABIC_SEMIVOWELS:
            out.append(_ARABIC_SEMIVOWELS[letter] if position == 0 else "")
        elif letter not in _ARABIC_SILENT:
            out.append(_ARABIC.get(letter, ""))
    return "".join(out)


def _latin(word: str) -> str:
    for digraph, sound in _LATIN_DIGRAPHS:
        word = word.replace(digraph, sound)
    out = []
    for position, letter in enumerate(word):
        if letter.isupper():
            out.append(letter.lower())
        elif letter in "wy":
            out.append(letter if position == 0 else "")
        elif letter not in _LATIN_VOWELS:
            out.append(_LATIN.get(letter, letter))
    return "".join(out)
