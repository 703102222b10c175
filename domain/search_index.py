"""In-memory fuzzy search over customer names and wa_ids, fast enough to run on every keystroke."""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rapidfuzz import fuzz, process

WA_ID_EXACT_SCORE = 1.0
WA_ID_FRAGMENT_SCORE = 0.9
MIN_DIGITS = 3

# A prefix of a name token is worth at least this much, rising towards 1.0 as it covers more
# of the token: "moh" -> "mohammed" ranks below "mohamme" -> "mohammed".
_PREFIX_FLOOR = 0.6
# One changed letter in a four-letter name is another name in Arabic (محمد / احمد), so short
# tokens need a near match; long transliterations vary more (muhammad / mohammed).
_SHORT_TOKEN_LENGTH = 5
_SHORT_TOKEN_CUTOFF = 80.0
_LONG_TOKEN_CUTOFF = 72.0
_MAX_TYPO_TOKENS = 30
# A name with words the query did not mention is a slightly weaker match than the exact name.
_UNMENTIONED_WORDS_WEIGHT = 0.15
# Written both joined and apart ("عبد الرحمن" / "عبدالرحمن", "Al Harbi" / "Alharbi"), so a
# particle and the word after it are also indexed and queried as one token.
_PARTICLES = frozenset({"عبد", "ابو", "ال", "abd", "abdul", "abdel", "abu", "al", "el"})

_FOLDING = str.maketrans(
    {
        **dict.fromkeys("أإآٱ", "ا"),
        "ة": "ه",
        "ى": "ي",
        **{chr(mark): None for mark in [*range(0x064B, 0x0660), 0x0670, 0x0640]},
        # Latin accents, separated from their letters by NFKD ("José" -> "jose").
        **{chr(mark): None for mark in range(0x0300, 0x0370)},
        **{chr(0x0660 + digit): str(digit) for digit in range(10)},
        **{chr(0x06F0 + digit): str(digit) for digit in range(10)},
    }
)
_NOT_WORD = re.compile(r"[\W_]+")
_DIALLING_NOISE = re.compile(r"[\s+\-().]+")
_AFTER_ALL_TEXT = chr(0x10FFFF)


def normalize_text(text: str) -> str:
    """Fold `text` for matching: casefold, unify Arabic letter forms, drop diacritics and
    tatweel, ASCII digits, and collapse whitespace and punctuation to single spaces."""
    folded = unicodedata.normalize("NFKD", text.casefold()).translate(_FOLDING)
    return _NOT_WORD.sub(" ", folded).strip()


@dataclass(frozen=True)
class SearchHit:
    """A customer matching a query; `score` is a similarity from 0 to 1."""

    wa_id: str
    score: float


def _query_terms(normalized: str) -> list[str]:
    """Words of a normalised name, each particle joined to the word after it."""
    terms: list[str] = []
    pending = ""
    for word in normalized.split():
        if word in _PARTICLES:
            pending += word
        else:
            terms.append(pending + word)
            pending = ""
    return terms + [pending] if pending else terms


def _prefix_similarity(term: str, token: str) -> float:
    return _PREFIX_FLOOR + (1.0 - _PREFIX_FLOOR) * len(term) / len(token)


def _typo_cutoff(term: str) -> float:
    return _SHORT_TOKEN_CUTOFF if len(term) <= _SHORT_TOKEN_LENGTH else _LONG_TOKEN_CUTOFF


def _reachable_lengths(length: int, cutoff: float) -> range:
    """Token lengths whose `fuzz.ratio` with a `length`-long term can reach `cutoff`."""
    share = cutoff / 100.0
    # The epsilon keeps a length whose best ratio equals the cutoff exactly despite float error.
    shortest = math.ceil(length * share / (2.0 - share) - 1e-9)
    return range(shortest, math.floor(length * (2.0 - share) / share + 1e-9) + 1)


class _TokenIndex:
    """Name tokens -> customers, with a sorted vocabulary for prefixes and length buckets for typos.

    Searching the vocabulary instead of every name keeps a query near-constant in the number
    of customers: 100,000 customers share a few thousand distinct name words.
    """

    def __init__(self) -> None:
        self._holders: dict[str, set[str]] = {}
        self._by_length: dict[int, set[str]] = {}
        # Sorted on first use, then kept sorted: a bulk load must not pay insort per new token.
        self._sorted: list[str] | None = None

    def __len__(self) -> int:
        return len(self._holders)

    def add(self, token: str, wa_id: str) -> None:
        holders = self._holders.get(token)
        if holders is None:
            holders = self._holders[token] = set()
            self._by_length.setdefault(len(token), set()).add(token)
            if self._sorted is not None:
                bisect.insort(self._sorted, token)
        holders.add(wa_id)

    def discard(self, token: str, wa_id: str) -> None:
        holders = self._holders.get(token)
        if holders is None:
            return
        holders.discard(wa_id)
        if holders:
            return
        del self._holders[token]
        self._by_length[len(token)].discard(token)
        if self._sorted is not None:
            del self._sorted[bisect.bisect_left(self._sorted, token)]

    def best_per_customer(self, term: str) -> dict[str, float]:
        """Each customer with a token like `term`, mapped to the best token similarity."""
        best: dict[str, float] = {}
        # Ascending, so a customer's better token overwrites a worse one in C, not in a loop.
        for token, similarity in sorted(self._similar_tokens(term).items(), key=lambda item: item[1]):
            best.update(dict.fromkeys(self._holders[token], similarity))
        return best

    def _similar_tokens(self, term: str) -> dict[str, float]:
        similar = self._typo_tokens(term)
        for token in self._prefixed_tokens(term):
            similar[token] = max(similar.get(token, 0.0), _prefix_similarity(term, token))
        return similar

    def _prefixed_tokens(self, term: str) -> list[str]:
        vocabulary = self.sorted_vocabulary()
        start = bisect.bisect_left(vocabulary, term)
        return vocabulary[start : bisect.bisect_left(vocabulary, term + _AFTER_ALL_TEXT, start)]

    def _typo_tokens(self, term: str) -> dict[str, float]:
        cutoff = _typo_cutoff(term)
        lengths = _reachable_lengths(len(term), cutoff)
        choices = [token for size in lengths for token in self._by_length.get(size, ())]
        found = process.extract(
            term, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=_MAX_TYPO_TOKENS
        )
        return {token: score / 100.0 for token, score, _ in found}

    def sorted_vocabulary(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self._holders)
        return self._sorted


class _NumberIndex:
    """wa_ids as one newline-joined string, so a digit fragment is found by `str.find` in C."""

    def __init__(self) -> None:
        self._wa_ids: set[str] = set()
        self._ordered: list[str] = []
        self._starts: list[int] = []
        self._haystack: str | None = None

    def add(self, wa_id: str) -> None:
        self._wa_ids.add(wa_id)
        self._haystack = None

    def discard(self, wa_id: str) -> None:
        self._wa_ids.discard(wa_id)
        self._haystack = None

    def containing(self, fragment: str) -> Iterator[str]:
        """wa_ids containing `fragment`, in ascending order."""
        haystack = self._joined()
        position = haystack.find(fragment)
        while position != -1:
            row = bisect.bisect_right(self._starts, position) - 1
            yield self._ordered[row]
            position = haystack.find(fragment, self._starts[row] + len(self._ordered[row]) + 1)

    def _joined(self) -> str:
        # Rebuilt lazily: renames do not touch it, and a new customer costs one join on next search.
        if self._haystack is None:
            self._ordered = sorted(self._wa_ids)
            self._starts = [0, *itertools.accumulate(len(wa_id) + 1 for wa_id in self._ordered)][:-1]
            self._haystack = "\n".join(self._ordered)
        return self._haystack


@dataclass(frozen=True)
class _IndexedName:
    tokens: frozenset[str]
    term_count: int


def _index_name(name: str | None) -> _IndexedName:
    """Tokens to index for `name`: its words, with each particle only as joined to the next word."""
    normalized = normalize_text(name or "")
    terms = _query_terms(normalized)
    # A bare "al" would match "ali" as a typo; a query for the particle alone still finds it as
    # a prefix of the joined token.
    words = frozenset(word for word in normalized.split() if word not in _PARTICLES)
    return _IndexedName(words | frozenset(terms), len(terms))


def _dialled_digits(query: str) -> str | None:
    """The digits of a phone-number-like query, or None when it holds anything else."""
    digits = _DIALLING_NOISE.sub("", query.translate(_FOLDING))
    return digits if digits.isascii() and digits.isdigit() else None


def _dialled_forms(digits: str) -> list[str]:
    """`digits` and, for a full number typed with a 00 or trunk 0 prefix, the number without it."""
    bare = digits.lstrip("0")
    long_enough = len(digits) >= 9 and len(bare) >= MIN_DIGITS
    return [digits, bare] if bare != digits and long_enough else [digits]


def _best_hits(hits: Iterable[SearchHit], limit: int, min_score: float) -> list[SearchHit]:
    kept = (hit for hit in hits if hit.score >= min_score)
    return heapq.nsmallest(limit, kept, key=lambda hit: (-hit.score, hit.wa_id))


class CustomerSearchIndex:
    """Fuzzy search over customers' names (Arabic and English) and wa_id digits, in memory.

    Build it once from `(wa_id, name)` pairs; keep it fresh with `upsert` and `remove`.
    """

    def __init__(self, customers: Iterable[tuple[str, str | None]] = ()) -> None:
        self._names: dict[str, _IndexedName] = {}
        self._tokens = _TokenIndex()
        self._numbers = _NumberIndex()
        for wa_id, name in customers:
            self.add(wa_id, name)
        self._tokens.sorted_vocabulary()

    def __len__(self) -> int:
        return len(self._names)

    def add(self, wa_id: str, name: str | None) -> None:
        """Index a new customer; raises ValueError if `wa_id` is already indexed."""
        if wa_id in self._names:
            raise ValueError(f"customer {wa_id} is already in the search index")
        indexed = self._names[wa_id] = _index_name(name)
        for token in indexed.tokens:
            self._tokens.add(token, wa_id)
        self._numbers.add(wa_id)

    def upsert(self, wa_id: str, name: str | None) -> None:
        """Index a customer, replacing the name indexed for `wa_id` if any."""
        self.remove(wa_id)
        self.add(wa_id, name)

    def remove(self, wa_id: str) -> None:
        """Forget a customer; does nothing if `wa_id` is not indexed."""
        indexed = self._names.pop(wa_id, None)
        if indexed is None:
            return
        for token in indexed.tokens:
            self._tokens.discard(token, wa_id)
        self._numbers.discard(wa_id)

    def search(self, query: str, limit: int = 50, min_score: float = 0.3) -> list[SearchHit]:
        """Best matches for a name or phone-number fragment, by score then wa_id.

        Digits (3 or more) match inside wa_ids: 0.9, or 1.0 for the whole wa_id.
        """
        if limit <= 0:
            return []
        digits = _dialled_digits(query)
        if digits is not None:
            return self._number_hits(digits, limit, min_score)
        return self._name_hits(_query_terms(normalize_text(query)), limit, min_score)

    def _number_hits(self, digits: str, limit: int, min_score: float) -> list[SearchHit]:
        forms = _dialled_forms(digits) if len(digits) >= MIN_DIGITS else []
        hits = {wa_id: WA_ID_EXACT_SCORE for wa_id in forms if wa_id in self._names}
        for form in forms:
            # wa_ids come in ascending order, so the first `limit` are the tie-break winners.
            for wa_id in itertools.islice(self._numbers.containing(form), limit + 1):
                hits.setdefault(wa_id, WA_ID_FRAGMENT_SCORE)
        return _best_hits(itertools.starmap(SearchHit, hits.items()), limit, min_score)

    def _name_hits(self, terms: list[str], limit: int, min_score: float) -> list[SearchHit]:
        if not terms:
            return []
        per_term = [self._tokens.best_per_customer(term) for term in terms]
        candidates: set[str] = set().union(*per_term)
        hits = (SearchHit(wa_id, self._name_score(wa_id, per_term)) for wa_id in candidates)
        return _best_hits(hits, limit, min_score)

    def _name_score(self, wa_id: str, per_term: list[dict[str, float]]) -> float:
        """Mean best similarity over the query's terms, lowered for name words left unmentioned."""
        similarities = [best[wa_id] for best in per_term if wa_id in best]
        term_count = self._names[wa_id].term_count
        mentioned = min(len(similarities), term_count) / term_count
        weight = 1.0 - _UNMENTIONED_WORDS_WEIGHT * (1.0 - mentioned)
        return round(sum(similarities) / len(per_term) * weight, 4)
