"""In-memory fuzzy search over customer names and wa_ids, fast enough to run on every keystroke."""

from __future__ import annotations

from collections import ChainMap

import bisect
import heapq
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from domain.search.transliteration import skeleton

WA_ID_EXACT_SCORE = 1.0
WA_ID_FRAGMENT_SCORE = 0.9
MIN_DIGITS = 3
# The work a query costs grows with its words and digits: no name has more than this many words, no
# number more digits. What is beyond is not searched (the search stays a few milliseconds, on the loop).
MAX_TERMS = 6
MAX_DIGITS = 17  # a 15-digit number typed with 00

# A prefix is what a name looks like while it is being typed, so it stays close to an exact
# word ("maryam al" must find Maryam Al-Harbi before Ali Maram), rising as it covers more of it.
_PREFIX_FLOOR = 0.9
# A typo is never as good as the word itself: ratio 0.91 ("fatma" / "fatima") becomes 0.82.
_TYPO_WEIGHT = 0.9
# One changed letter in a four-letter name is another name in Arabic (محمد / احمد), so short
# tokens need a near match; long transliterations vary more (muhammad / mohammed).
_SHORT_TOKEN_LENGTH = 5
_SHORT_TOKEN_CUTOFF = 80.0
_LONG_TOKEN_CUTOFF = 72.0
_MAX_TYPO_TOKENS = 30
# The same name in another spelling or script ("Fahd" / "Fahad", "Mohammed" / "محمد"): the same consonant
# skeleton (`domain.search.transliteration`), only for a query word of three letters or more (a typed "al" would
# otherwise reach every Ali and Layla). In the same script it is never as good as the word itself, which typos
# already come close to; across scripts the skeleton is the only way to compare, and a name written in the other
# script is as good as the same spelling but for the vowels it cannot tell apart: "Husain Al-Subaie" finds
# "حسين السبيعي" before "Hassan Al-Subaie" (0.95 against 0.925).
_CROSS_SCORE = 0.85
_OTHER_SCRIPT_SCORE = 0.95
_CROSS_MIN_LENGTH = 3
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
    """A customer matching a query; `score` is a similarity from 0 to 1; `matched`: the words of their name
    (normalised: `written_form` gives them as written) reached through their transliteration (another script
    or spelling), when that was the best match."""

    wa_id: str
    score: float
    matched: str | None = None


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


def written_form(name: str, terms: str) -> str:
    """The words of `name`, as written, that normalised terms (space separated) come from: "فاطمة" for
    "فاطمه", "Al-Harbi" for "alharbi"."""
    wanted = terms.split()
    found = [shown for term, shown in _terms_as_written(name) if term in wanted]
    return " ".join(found) or terms


def _terms_as_written(name: str) -> list[tuple[str, str]]:
    """`_query_terms` of a name, each with the words of the name it comes from, as written ("الحربي" and
    "Al-Harbi" for the terms "الحربي" and "alharbi")."""
    terms: list[tuple[str, str]] = []
    pending, written = "", list[str]()
    for original in name.split():
        for word in normalize_text(original).split():
            if written[-1:] != [original]:
                written.append(original)
            if word in _PARTICLES:
                pending += word
                continue
            terms.append((pending + word, " ".join(written)))
            pending, written = "", list[str]()
    return terms + [(pending, " ".join(written))] if pending else terms


def _prefix_similarity(term: str, token: str) -> float:
    # Similarities are rounded like scores, so equal-looking scores tie and fall back to wa_id.
    return round(_PREFIX_FLOOR + (1.0 - _PREFIX_FLOOR) * len(term) / len(token), 4)


def _typo_cutoff(term: str) -> float:
    return _SHORT_TOKEN_CUTOFF if len(term) <= _SHORT_TOKEN_LENGTH else _LONG_TOKEN_CUTOFF


def _is_arabic(token: str) -> bool:
    return "\u0600" <= token[0] <= "\u06ff"


def _shape(token: str) -> tuple[bool, int]:
    """Typo buckets: an Arabic word is never a typo of a Latin one, nor far from it in length."""
    return _is_arabic(token), len(token)


def _reachable_lengths(length: int, cutoff: float) -> range:
    """Token lengths whose `fuzz.ratio` with a `length`-long term can reach `cutoff`."""
    share = cutoff / 100.0
    # The epsilon keeps a length whose best ratio equals the cutoff exactly despite float error.
    shortest = math.ceil(length * share / (2.0 - share) - 1e-9)
    return range(shortest, math.floor(length * (2.0 - share) / share + 1e-9) + 1)


class _TokenIndex:
    """Name tokens -> customers, with a sorted vocabulary for prefixes and shape buckets for typos.

    Searching the vocabulary instead of every name keeps a query near-constant in the number
    of customers: 100,000 customers share a few thousand distinct name words.
    """

    def __init__(self) -> None:
        self._holders: dict[str, set[str]] = {}
        self._by_shape: dict[tuple[bool, int], set[str]] = {}
        # Sorted on first use, then kept sorted: a bulk load must not pay insort per new token.
        self._sorted: list[str] | None = None

    def __len__(self) -> int:
        return len(self._holders)

    def add(self, token: str, wa_id: str) -> None:
        holders = self._holders.get(token)
        if holders is None:
            holders = self._holders[token] = set()
            self._by_shape.setdefault(_shape(token), set()).add(token)
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
        self._by_shape[_shape(token)].discard(token)
        if self._sorted is not None:
            del self._sorted[bisect.bisect_left(self._sorted, token)]

    def best_per_customer(self, term: str) -> dict[str, float]:
        """Each customer with a token like `term`, mapped to the best token similarity."""
        best: dict[str, float] = {}
        ascending = sorted(self._similar_tokens(term).items(), key=lambda item: item[1])
        # A customer's better token overwrites a worse one in C rather than in a Python loop.
        for token, similarity in ascending:
            best.update(dict.fromkeys(self._holders[token], similarity))
        return best

    def best_holders(self, term: str, limit: int, min_score: float) -> list[tuple[float, str]]:
        """The `limit` customers with a token most like `term`: (similarity, wa_id), ties by wa_id.

        Works a similarity at a time on whole token sets, so "ال" (half the customers) stays cheap.
        """
        ranked = sorted(self._similar_tokens(term).items(), key=lambda item: -item[1])
        found: list[tuple[float, str]] = []
        seen: set[str] = set()
        for similarity, group in itertools.groupby(ranked, key=lambda item: item[1]):
            if similarity < min_score or len(found) >= limit:
                break
            holders = set().union(*(self._holders[token] for token, _ in group)) - seen
            seen |= holders
            found += [(similarity, wa_id) for wa_id in sorted(holders)[: limit - len(found)]]
        return found

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
        arabic = _is_arabic(term)
        lengths = _reachable_lengths(len(term), cutoff)
        buckets = (self._by_shape.get((arabic, size), ()) for size in lengths)
        choices = list(itertools.chain.from_iterable(buckets))
        found = process.extract(
            term, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=_MAX_TYPO_TOKENS
        )
        return {token: round(_TYPO_WEIGHT * score / 100.0, 4) for token, score, _ in found}

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
            lengths = (len(wa_id) + 1 for wa_id in self._ordered)
            self._starts = [0, *itertools.accumulate(lengths)][:-1]
            self._haystack = "\n".join(self._ordered)
        return self._haystack


def _name_tokens(name: str | None) -> tuple[str, ...]:
    """Tokens to index for `name`: its words, and each particle joined to the word after it."""
    normalized = normalize_text(name or "")
    return _tokens_of(normalized, _query_terms(normalized))


def _tokens_of(normalized: str, terms: list[str]) -> tuple[str, ...]:
    # A bare "al" would match "ali" as a typo; a query for the particle alone still finds it as
    # a prefix of the joined token.
    words = {word for word in normalized.split() if word not in _PARTICLES}
    return tuple(words.union(terms))


def _bounded_terms(terms: list[str]) -> list[str]:
    """At most MAX_TERMS words, of which at most two lone letters (as a prefix a letter matches nearly
    everyone: each costs a pass over the whole vocabulary)."""
    kept: list[str] = []
    letters = 0
    for term in terms:
        letters += len(term) == 1
        if len(term) > 1 or letters <= 2:
            kept.append(term)
    return kept[:MAX_TERMS]


def _dialled_digits(query: str) -> str | None:
    """The digits of a phone-number-like query, or None when it holds anything else."""
    digits = _DIALLING_NOISE.sub("", query.translate(_FOLDING))
    return digits if digits.isascii() and digits.isdigit() else None


def _dialled_forms(digits: str) -> list[str]:
    """`digits` and, for a full number typed with a 00 or trunk 0 prefix, the number without it."""
    bare = digits.lstrip("0")
    long_enough = len(digits) >= 9 and len(bare) >= MIN_DIGITS
    return [digits, bare] if bare != digits and long_enough else [digits]


class CustomerSearchIndex:
    """Fuzzy search over customers' names (Arabic and English) and wa_id digits, in memory.

    Build it once from `(wa_id, name)` pairs; keep it fresh with `upsert` and `remove`.
    """

    def __init__(self, customers: Iterable[tuple[str, str | None]] = ()) -> None:
        self._tokens_of: dict[str, tuple[str, ...]] = {}  # every indexed wa_id, named or not
        self._tokens = _TokenIndex()
        # skeleton -> {wa_id: the name's term that has it}, and its wa_ids sorted (on first use after a change)
        self._skeletons: dict[str, dict[str, str]] = {}
        self._sorted_holders: dict[str, list[str]] = {}
        self._skeletons_of: dict[str, tuple[str, ...]] = {}
        self._numbers = _NumberIndex()
        for wa_id, name in customers:
            self.add(wa_id, name)
        self._tokens.sorted_vocabulary()

    def __len__(self) -> int:
        return len(self._tokens_of)

    def add(self, wa_id: str, name: str | None) -> None:
        """Index a new customer; raises ValueError if `wa_id` is already indexed."""
        if wa_id in self._tokens_of:
            raise ValueError(f"customer {wa_id} is already in the search index")
        normalized = normalize_text(name or "")
        terms = _query_terms(normalized)
        tokens = self._tokens_of[wa_id] = _tokens_of(normalized, terms)
        for token in tokens:
            self._tokens.add(token, wa_id)
        forms = {_in_script(term, form): term for term in terms if (form := skeleton(term))}
        self._skeletons_of[wa_id] = tuple(forms)
        for form, term in forms.items():
            self._skeletons.setdefault(form, {})[wa_id] = term
            self._sorted_holders.pop(form, None)
        self._numbers.add(wa_id)

    def upsert(self, wa_id: str, name: str | None) -> None:
        """Index a customer, replacing the name indexed for `wa_id` if any."""
        self.remove(wa_id)
        self.add(wa_id, name)

    def remove(self, wa_id: str) -> None:
        """Forget a customer; does nothing if `wa_id` is not indexed."""
        for token in self._tokens_of.pop(wa_id, ()):
            self._tokens.discard(token, wa_id)
        for form in self._skeletons_of.pop(wa_id, ()):
            self._sorted_holders.pop(form, None)
            holders = self._skeletons[form]
            del holders[wa_id]
            if not holders:
                del self._skeletons[form]
        self._numbers.discard(wa_id)

    def search(self, query: str, limit: int = 50, min_score: float = 0.3) -> list[SearchHit]:
        """Best matches for a name or phone-number fragment, by score then wa_id.

        Digits (3 or more) match inside wa_ids: 0.9, or 1.0 for the whole wa_id.
        """
        if limit <= 0:
            return []
        digits = _dialled_digits(query)
        if digits is not None:
            return self._number_hits(digits[:MAX_DIGITS], limit, min_score)
        return self._name_hits(_bounded_terms(_query_terms(normalize_text(query))), limit, min_score)

    def _number_hits(self, digits: str, limit: int, min_score: float) -> list[SearchHit]:
        forms = _dialled_forms(digits) if len(digits) >= MIN_DIGITS else []
        hits = {wa_id: WA_ID_EXACT_SCORE for wa_id in forms if wa_id in self._tokens_of}
        for form in forms:
            # wa_ids come in ascending order, so the first `limit` are the tie-break winners.
            for wa_id in itertools.islice(self._numbers.containing(form), limit + 1):
                hits.setdefault(wa_id, WA_ID_FRAGMENT_SCORE)
        ranked = sorted((-score, wa_id) for wa_id, score in hits.items() if score >= min_score)
        return [SearchHit(wa_id, -negated) for negated, wa_id in ranked[:limit]]

    def _name_hits(self, terms: list[str], limit: int, min_score: float) -> list[SearchHit]:
        """A name scores the mean, over the query's terms, of its best token similarity to each."""
        if not terms:
            return []
        forms = [skeleton(term) if len(term) >= _CROSS_MIN_LENGTH else "" for term in terms]
        # Per term: the customers with a word of its skeleton in its own script, and in the other one.
        same = [self._skeletons.get(_in_script(term, form), {}) if form else {} for term, form in zip(terms, forms)]
        other = [self._skeletons.get(_in_script(term, form, other=True), {}) if form else {}
                 for term, form in zip(terms, forms)]
        crossed = [ChainMap(mine, theirs) for mine, theirs in zip(same, other)]  # a view: no copy of thousands
        if len(terms) == 1:
            best = dict((wa_id, similarity) for similarity, wa_id in self._tokens.best_holders(terms[0], limit, min_score))
            # Every customer reached through one skeleton scores the same: the first by wa_id are enough.
            count = limit + len(best)
            raised = _raise_through(best, self._first_holders(_in_script(terms[0], forms[0]), count), _CROSS_SCORE)
            raised |= _raise_through(best, self._first_holders(_in_script(terms[0], forms[0], other=True), count),
                                     _OTHER_SCRIPT_SCORE)
            ranked = sorted((-similarity, wa_id) for wa_id, similarity in best.items() if similarity >= min_score)
            return [SearchHit(wa_id, -negated, crossed[0][wa_id] if wa_id in raised else None)
                    for negated, wa_id in ranked[:limit]]
        per_term = [self._tokens.best_per_customer(term) for term in terms]
        raised_per_term = [_raise_through(best, mine.keys(), _CROSS_SCORE)
                           | _raise_through(best, theirs.keys(), _OTHER_SCRIPT_SCORE)
                           for best, mine, theirs in zip(per_term, same, other)]
        everywhere = set(per_term[0]).intersection(*per_term[1:])
        hits = _ranked(_summed(per_term, everywhere), len(terms), limit, min_score, self._tokens_of)
        # A customer missing a term scores at most (n - 1) / n: when a page of customers
        # matching every term beats that, the large partial sets are never summed.
        if not (len(hits) == limit and hits[-1].score > (len(terms) - 1) / len(terms)):
            hits = _ranked(_summed(per_term), len(terms), limit, min_score, self._tokens_of)
        return [SearchHit(h.wa_id, h.score, " ".join(cross[h.wa_id] for cross, raised in zip(crossed, raised_per_term)
                                                     if h.wa_id in raised) or None) for h in hits]

    def _first_holders(self, form: str, count: int) -> list[str]:
        """The first `count` wa_ids, in order, of the customers with a name word of this skeleton."""
        if not form or form not in self._skeletons:
            return []
        ordered = self._sorted_holders.get(form)
        if ordered is None:
            ordered = self._sorted_holders[form] = sorted(self._skeletons[form])
        return ordered[:count]


def _raise_through(best: dict[str, float], crossed: Iterable[str], score: float) -> set[str]:
    """Raise each customer reached through a transliteration to `score` where that beats their best match (in
    place); those raised. Set operations, in C: a common skeleton holds thousands of customers."""
    reached = set(crossed)
    raised = reached - best.keys()
    raised |= {wa_id for wa_id in reached & best.keys() if best[wa_id] < score}
    best.update(dict.fromkeys(raised, score))
    return raised


def _in_script(term: str, form: str, other: bool = False) -> str:
    """A skeleton as the index keys it: marked with the script of the word it comes from (or the other one)."""
    arabic = "\u0600" <= term[:1] <= "\u06ff"
    return ("a:" if arabic != other else "l:") + form


def _summed(per_term: list[dict[str, float]], among: set[str] | None = None) -> dict[str, float]:
    """Each candidate's similarities summed over the query's terms (all candidates, or `among`)."""
    if among is not None:
        return {wa_id: sum(best[wa_id] for best in per_term) for wa_id in among}
    # Copying the largest map is done in C; only the smaller ones are added in a Python loop.
    largest, *others = sorted(per_term, key=len, reverse=True)
    totals = dict(largest)
    for best in others:
        for wa_id, similarity in best.items():
            totals[wa_id] = totals.get(wa_id, 0.0) + similarity
    return totals


def _ranked(
    totals: dict[str, float], term_count: int, limit: int, min_score: float,
    words: dict[str, tuple[str, ...]],
) -> list[SearchHit]:
    """The `limit` best customers by mean similarity, sorting only the best few; ties go to the name with fewer
    words besides the query's (a full name typed finds "فهد الرشيدي" before "راشد فهد الرشيدي"), then to wa_id.

    A common prefix ("al", "ال") reaches tens of thousands of customers.
    """
    floor = min_score * term_count
    if len(totals) > limit:
        floor = max(floor, heapq.nlargest(limit, totals.values())[-1])
    # Totals a little under the floor may still round to the floor's score and win on wa_id.
    near_top = (item for item in totals.items() if item[1] >= floor - 1e-4 * term_count)
    scored = ((round(total / term_count, 4), wa_id) for wa_id, total in near_top)
    ranked = sorted((-score, len(words.get(wa_id, ())), wa_id) for score, wa_id in scored if score >= min_score)
    return [SearchHit(wa_id, -negated) for negated, _, wa_id in ranked[:limit]]
