"""One spelling-free form of a name word for Arabic and Latin script alike: its consonant skeleton.

"Fahad", "Fahd" and "فهد" are all `fhd`; "Mohammed", "Muhammad", "Mohamed" and "محمد" are all `mhmd`. Latin
vowels and Arabic long vowels and hamza carriers are dropped (a و or ي starting the word is the consonant
w or y), letters that English spellings of Arabic names share are merged (ق and k, ث and t, ذ ض ظ and d),
doubled letters collapse, and a final h (ة, ه, "Fatimah") is dropped. The article is not part of it: "الحربي",
"Alharbi", "Al-Harbi" (joined by the index) and "Harbi" are all `hrb` (when what follows the article has two
consonants or more: "Ali" stays `l`). The search index matches skeletons exactly, as a second way to a customer
beside the words themselves (`domain.search.index`).
"""

from __future__ import annotations

import re

_ARABIC = {
    "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "k", "د": "d", "ذ": "d", "ر": "r", "ز": "z",
    "س": "s", "ش": "x", "ص": "s", "ض": "d", "ط": "t", "ظ": "d", "غ": "g", "ف": "f", "ق": "k", "ك": "k",
    "ل": "l", "م": "m", "ن": "n", "ه": "h", "ة": "h", "پ": "b", "چ": "x", "گ": "j", "ڤ": "f",
}
_ARABIC_SEMIVOWELS = {"و": "w", "ي": "y"}
# Every other Arabic letter (long vowels, hamza and its carriers, ع) is silent in the skeleton.
_ARABIC_TABLE = str.maketrans({**{chr(c): None for c in range(0x0621, 0x064B)}, **_ARABIC})
# Applied in order, before the single letters (upper case marks a sound already decided).
_LATIN_DIGRAPHS = (("kh", "K"), ("gh", "G"), ("sh", "X"), ("ch", "X"), ("th", "T"), ("dh", "D"), ("ph", "F"),
                   ("ck", "K"))
_LATIN_TABLE = str.maketrans({"q": "k", "c": "k", "g": "j", "p": "b", "v": "f", "x": "ks",
                              **dict.fromkeys("aeiouwy"), **{c: c.lower() for c in "KGXTDF"}})
_ARABIC_WORD = re.compile(r"[\u0621-\u064a\u067e\u0686\u06a4\u06af]+")
_LATIN_WORD = re.compile(r"[a-z]+")
_DOUBLED = re.compile(r"(.)\1+")
_ARTICLES = ("al", "el", "ال")


def skeleton(word: str) -> str:
    """The consonant skeleton of one normalised word (lower case, folded Arabic letter forms), without its
    article; empty when it has no consonant, or is not one word of one script."""
    if word.startswith(_ARTICLES) and len(word) >= 4 and len(rest := _letters(word[2:])) >= 2:
        return rest
    return _letters(word)


def _letters(word: str) -> str:
    if _LATIN_WORD.fullmatch(word):
        for digraph, sound in _LATIN_DIGRAPHS:
            if digraph in word:
                word = word.replace(digraph, sound)
        first = word[0] if word[0] in "wy" else ""
        letters = first + word[len(first):].translate(_LATIN_TABLE)
    elif _ARABIC_WORD.fullmatch(word):
        first = _ARABIC_SEMIVOWELS.get(word[0], "")
        letters = first + word[len(first):].translate(_ARABIC_TABLE)
    else:
        return ""
    collapsed = _DOUBLED.sub(r"\1", letters) if len(letters) > 1 else letters
    return collapsed[:-1] if len(collapsed) > 1 and collapsed.endswith("h") else collapsed
