"""Verification of a semantic candidate: is the cached question really the same question?

Embedding similarity says two questions are *about* the same thing; it cannot see that "open" became "closed",
"14 days" became "40 days" or "Camden" became "Brixton" — and those near-misses score highest. A wrong cache hit is
worse than a miss, so every candidate above the similarity threshold must pass these checks before it is served:

1. text guards (no model): negation and opposites, numbers/dates/amounts, named entities and IDs, people, the
   question word (when/where/who/how much) and direction (from X to Y);
2. word alignment (the second stage): every content word of one question must have a counterpart in the other —
   the same stem, a typo of it, or a word the embedding model scores as a near-synonym. An extra or swapped
   content word ("extended warranty", "billing address") is exactly what changes the answer. Two unaligned words
   in the same slot (next to the same shared word) are always a swap. Only a *reworded* question (few words in
   common, in order) may keep a minority of its words unaligned, and then only above a higher sentence-similarity
   bar: rewording moves words around harmlessly, while a near-copy with one word changed is a different question.

The same ``Verifier`` object serves production lookups and the quality benchmark, so measured precision is the
precision users get.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from cache import lexicon
from cache.text import raw_words, stem, tokens

if TYPE_CHECKING:
    from numpy.typing import NDArray

WordVectors = Callable[[Sequence[str]], Awaitable["NDArray[np.float32]"]]

_NUM_RE = re.compile(r"^([£$€¥]?)(\d[\d,]*(?:\.\d+)?)(?::(\d\d))?(%|[a-z]+)?$")
_ID_RE = re.compile(r"^(?=.*\d)(?=.*[a-z])[a-z0-9_]+(?:[-_.][a-z0-9_]+)*$")
_STRONG_WH = (
    "how much",
    "how many",
    "how long",
    "how often",
    "how far",
    "how old",
    "how soon",
    "who",
    "where",
    "when",
    "why",
)
_ONE_AS_PRONOUN = frozenset(
    {
        "a",
        "an",
        "the",
        "this",
        "that",
        "which",
        "each",
        "every",
        "any",
        "no",
        "new",
        "other",
        "another",
        "right",
        "wrong",
        "same",
        "old",
        "last",
        "next",
        "better",
        "cheaper",
    }
)
_THIRD_PERSON = frozenset({"he", "she", "him", "her", "his", "hers", "himself", "herself"})
_DIRECTIONAL = frozenset({"from", "to", "into", "than", "vs", "versus"})


@dataclass(frozen=True)
class Verdict:
    """``reason`` names the guard that refused the candidate ("ok" when it passed); logged, never shown."""

    ok: bool
    reason: str


PASS = Verdict(True, "ok")


@dataclass(frozen=True)
class _Features:
    tokens: tuple[str, ...]
    stems: frozenset[str]
    content: tuple[str, ...]
    negations: int
    numbers: Counter[str]
    entities: frozenset[str]
    wh: str | None
    third_person: bool


def _number_features(toks: Sequence[str]) -> Counter[str]:
    """Numbers, amounts, times, dates and durations in a comparable form ("two weeks" == "14 days")."""
    feats: Counter[str] = Counter()
    # "two-year" reads like "2-year", which the tokenizer already splits into "2" and "year".
    toks = [
        part for tok in toks for part in (tok.split("-", 1) if tok.split("-")[0] in lexicon.NUMBER_WORDS else (tok,))
    ]
    i = 0
    while i < len(toks):
        tok = toks[i]
        value: float | None = None
        kind = "n"
        match = _NUM_RE.match(tok)
        if match:
            currency, digits, minutes, suffix = match.groups()
            value = float(digits.replace(",", ""))
            if minutes:
                value += int(minutes) / 60
                kind = "t"
            if suffix in ("pm", "am"):
                kind = "t"
                value = value % 12 + (12 if suffix == "pm" else 0)
            elif suffix == "k":
                value *= 1000
            elif suffix in ("m", "bn"):
                value *= 1_000_000 if suffix == "m" else 1_000_000_000
            elif suffix in ("st", "nd", "rd", "th"):
                kind = "o"
            elif suffix == "%":
                kind = "%"
            elif suffix:
                kind = lexicon.UNIT_ALIASES.get(suffix, suffix)
            if currency:
                kind = "$"
        elif tok == "one" and (i + 1 == len(toks) or (i > 0 and toks[i - 1] in _ONE_AS_PRONOUN)):
            pass  # "a new one", "this one": a pronoun, not a count
        elif tok in lexicon.NUMBER_WORDS:
            value = float(lexicon.NUMBER_WORDS[tok])
            # "twenty five", "two hundred"
            while i + 1 < len(toks) and toks[i + 1] in lexicon.NUMBER_WORDS and toks[i + 1] not in ("both",):
                nxt = float(lexicon.NUMBER_WORDS[toks[i + 1]])
                value = value * nxt if nxt >= 100 else value + nxt
                i += 1
        elif tok in lexicon.ORDINAL_WORDS:
            value, kind = float(lexicon.ORDINAL_WORDS[tok]), "o"
        elif tok in lexicon.DATE_WORDS:
            feats["d:" + stem(tok)] += 1
        elif len(tok) >= 5 and tok.isalpha() and (date := _date_typo(tok)) is not None:
            feats["d:" + stem(date)] += 1  # "Mondys"
        if value is not None:
            nxt_tok = toks[i + 1] if i + 1 < len(toks) else ""
            if kind == "n" and nxt_tok in ("pm", "am", "p.m", "a.m"):
                kind, value = "t", value % 12 + (12 if nxt_tok.startswith("p") else 0)
                i += 1
            elif kind in ("n", "o") and nxt_tok in lexicon.DURATION_UNITS:
                value, kind = value * lexicon.DURATION_UNITS[nxt_tok], "dur"
                i += 1
            elif kind in lexicon.DURATION_UNITS:
                value, kind = value * lexicon.DURATION_UNITS[kind], "dur"
            elif nxt_tok in ("percent", "per"):
                kind = "%"
            elif kind == "n" and nxt_tok in lexicon.UNIT_ALIASES:
                kind = lexicon.UNIT_ALIASES[nxt_tok]
                i += 1
            feats[f"{kind}:{round(value, 4):g}"] += 1
        i += 1
    return feats


@lru_cache(maxsize=2048)
def _date_typo(tok: str) -> str | None:
    return next((d for d in lexicon.DATE_WORDS if len(d) >= 5 and is_typo_of(tok, d)), None)


def _is_numeric_token(tok: str) -> bool:
    return (
        bool(_NUM_RE.match(tok))
        or tok in lexicon.NUMBER_WORDS
        or tok in lexicon.ORDINAL_WORDS
        or tok in lexicon.DATE_WORDS
        or tok in lexicon.DURATION_UNITS
        or tok in ("am", "pm", "percent")
    )


def _entities(text: str, toks: Sequence[str]) -> frozenset[str]:
    """Names and identifiers: capitalised words after the first, acronyms, IDs with digits, Slack references."""
    found: set[str] = set()
    words = raw_words(text)
    shouting = sum(w.isupper() for w in words) > max(2, len(words) // 2)
    for index, word in enumerate(words):
        if shouting or word == "I" or word.startswith("I'"):
            continue
        bare = word.lower().removesuffix("'s").removesuffix("’s")
        if bare in lexicon.FUNCTION_WORDS or bare in lexicon.GREETING_WORDS or bare in lexicon.DATE_WORDS:
            continue
        if len(bare) >= 5 and bare.isalpha() and _date_typo(bare) is not None:
            continue  # "Mondys" is a date (compared by the number guard), not a name
        if (index > 0 and word[0].isupper()) or (len(word) >= 2 and word.isupper()):
            found.add(stem(bare))
    for tok in toks:
        if tok.startswith("<") or (_ID_RE.match(tok) and not _NUM_RE.match(tok)):
            found.add(tok)
    return frozenset(found)


def _wh(toks: Sequence[str]) -> str | None:
    joined = " " + " ".join(toks) + " "
    joined = re.sub(r" what time ", " when ", joined)
    joined = re.sub(r" how many (?:minute|hour|day|week|month|year)s? ", " how long ", joined)
    positions = [(joined.find(f" {wh} "), wh) for wh in _STRONG_WH if f" {wh} " in joined]
    return min(positions)[1] if positions else None


@lru_cache(maxsize=4096)
def features(text: str) -> _Features:
    toks = tokens(text)
    content = tuple(
        t
        for i, t in enumerate(toks)
        if t not in lexicon.FUNCTION_WORDS
        and t not in lexicon.NEGATORS
        and t not in _THIRD_PERSON
        and t not in lexicon.PREPOSITIONS
        and not _is_numeric_token(t)
        and not t.startswith("<")
        and not (t == "time" and i > 0 and toks[i - 1] == "what")  # "what time" is the question word "when"
        and not (t in ("long", "old", "soon") and i > 0 and toks[i - 1] == "how")  # part of the question word
        and not (len(t) >= 5 and t.isalpha() and _date_typo(t) is not None)  # "Mondys": compared as a date
    )
    return _Features(
        tokens=toks,
        stems=frozenset(stem(t) for t in toks),
        content=content,
        negations=sum(t in lexicon.NEGATORS for t in toks),
        numbers=_number_features(toks),
        entities=_entities(text, toks),
        wh=_wh(toks),
        third_person=any(t in _THIRD_PERSON for t in toks),
    )


def _typo_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    if abs(len(a) - len(b)) > 2:
        return 3
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def is_typo_of(a: str, b: str) -> bool:
    """One edit for words up to 9 letters, two beyond; numbers, names and opposites never count as typos."""
    if min(len(a), len(b)) < 4 or (a[0] != b[0] and a[:2] != b[1::-1]):
        return False
    if lexicon.are_opposites(a, b) or lexicon.is_morphological_opposite(a, b):
        return False
    allowed = 1 if max(len(a), len(b)) <= 9 else 2
    return _typo_distance(a, b) <= allowed


def text_guards(query: str, candidate: str) -> Verdict:
    """The model-free checks. Cheap (tens of microseconds) and run first."""
    fa, fb = features(query), features(candidate)
    if fa.negations % 2 != fb.negations % 2:
        return Verdict(False, "negation")
    only_a = [t for t in fa.tokens if stem(t) not in fb.stems]
    only_b = [t for t in fb.tokens if stem(t) not in fa.stems]
    for wa in only_a:
        for wb in only_b:
            if lexicon.is_morphological_opposite(wa, wb):
                return Verdict(False, "negation")
            if lexicon.are_opposites(wa, wb):
                return Verdict(False, "antonym")
    if fa.numbers != fb.numbers:
        return Verdict(False, "number")
    # An entity written in lower case on the other side is still the same entity.
    if fa.entities != fb.entities and not (
        all(e in fb.stems or e in fb.tokens for e in fa.entities)
        and all(e in fa.stems or e in fa.tokens for e in fb.entities)
    ):
        return Verdict(False, "entity")
    if fa.third_person != fb.third_person:
        return Verdict(False, "person")
    if fa.wh != fb.wh and fa.wh is not None and fb.wh is not None:
        return Verdict(False, "question_word")
    # "from MySQL to Postgres" vs "from Postgres to MySQL", "Word to PDF" vs "PDF to Word": the same words
    # with their roles swapped.
    objects_a, objects_b = _objects(fa.tokens), _objects(fb.tokens)
    for prep in objects_a.keys() & objects_b.keys():
        only_in_a = objects_a[prep] - objects_b[prep]
        only_in_b = objects_b[prep] - objects_a[prep]
        if any(w in fb.stems for w in only_in_a) and any(w in fa.stems for w in only_in_b):
            return Verdict(False, "direction")
    # "within the cooling-off period" vs "after the cooling-off period": a time or place relation replaced.
    relations_a = {t for t in fa.tokens if t in lexicon.RELATION_PREPOSITIONS}
    relations_b = {t for t in fb.tokens if t in lexicon.RELATION_PREPOSITIONS}
    if relations_a - relations_b and relations_b - relations_a:
        return Verdict(False, "relation")
    return PASS


def _objects(toks: Sequence[str]) -> dict[str, set[str]]:
    """The first content word after each directional preposition: {"from": {"mysql"}, "to": {"postgres"}}."""
    objects: dict[str, set[str]] = {}
    for i, tok in enumerate(toks[:-1]):
        if tok in _DIRECTIONAL:
            nxt = next((t for t in toks[i + 1 :] if t not in lexicon.FUNCTION_WORDS), None)
            if nxt is not None:
                objects.setdefault(tok, set()).add(stem(nxt))
    return objects


def _compound_modifier_changed(word: str, others: Sequence[str]) -> bool:
    """full-time/part-time, check-in/check-out, employed/self-employed: one part kept, the modifier changed.

    Word embeddings score these pairs as near-synonyms, yet they are the classic scope trap.
    """
    parts = set(word.split("-"))
    for other in others:
        other_parts = set(other.split("-"))
        if ("-" in word or "-" in other) and parts & other_parts and parts != other_parts:
            return True
    return False


def lexical_overlap(fa: _Features, fb: _Features) -> float:
    """Share of the two questions' words (stems, in order) they have in common: 1.0 for a copy, low for a rewording."""
    a, b = [stem(t) for t in fa.tokens], [stem(t) for t in fb.tokens]
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


# Words skipped when looking for the word next to another: articles, possessives and prepositions do not change
# which slot a word fills ("cover my laptop at home" / "cover my laptop abroad").
_SLOT_SKIP = (
    frozenset(
        {
            "a",
            "an",
            "the",
            "my",
            "your",
            "our",
            "their",
            "his",
            "her",
            "its",
            "this",
            "that",
            "these",
            "those",
            "some",
            "any",
            "of",
            "for",
            "to",
            "in",
            "on",
            "at",
            "with",
            "by",
            "about",
        }
    )
    | lexicon.PREPOSITIONS
)


def _anchors(toks: Sequence[str], word: str, shared: frozenset[str]) -> set[tuple[str, str]]:
    """The nearest words left and right of ``word`` (past articles and prepositions) that both questions share."""
    found: set[tuple[str, str]] = set()
    for i, tok in enumerate(toks):
        if tok != word:
            continue
        for side, step in (("left", -1), ("right", 1)):
            j = i + step
            while 0 <= j < len(toks) and toks[j] in _SLOT_SKIP:
                j += step
            if 0 <= j < len(toks):
                neighbour = stem(toks[j])
                if neighbour in shared and toks[j] not in lexicon.FUNCTION_WORDS:
                    found.add((side, neighbour))
    return found


def _slot_swapped(fa: _Features, fb: _Features, only_a: set[str], only_b: set[str]) -> bool:
    """True when an unaligned word of each question sits next to the same shared word on the same side."""
    if not only_a or not only_b:
        return False
    shared = fa.stems & fb.stems
    anchors_b: set[tuple[str, str]] = set()
    for word in only_b:
        anchors_b |= _anchors(fb.tokens, word, shared)
    return any(_anchors(fa.tokens, word, shared) & anchors_b for word in only_a)


class Verifier:
    """Runs the text guards, then the word-alignment stage.

    ``word_vectors`` embeds texts (normalised vectors): single words for alignment, and a question with one
    unmatched word left out to test whether that word mattered (a third, rarer step). Word vectors are kept in
    a bounded in-process cache: the vocabulary of a workspace's questions is small, so after warm-up the
    alignment stage rarely touches the model. Without ``word_vectors`` only exact stems, typos and listed
    synonyms align, which is stricter, never looser.
    """

    def __init__(
        self,
        word_vectors: WordVectors | None = None,
        *,
        word_threshold: float = 0.75,
        dispensable_threshold: float = 0.96,
        max_dispensable: int = 2,
        reworded_threshold: float = 0.81,
        reworded_below: float = 0.6,
        max_unaligned_share: float = 0.5,
        max_cached_words: int = 50_000,
    ) -> None:
        self._word_vectors = word_vectors
        self.word_threshold = word_threshold
        self.reworded_threshold = reworded_threshold
        self.reworded_below = reworded_below
        self.max_unaligned_share = max_unaligned_share
        self.dispensable_threshold = dispensable_threshold
        self.max_dispensable = max_dispensable
        self._vectors: dict[str, NDArray[np.float32]] = {}
        self._max_cached = max_cached_words

    async def verify(self, query: str, candidate: str, similarity: float | None = None) -> Verdict:
        """``similarity`` is the two questions' embedding cosine (the FAISS score); without it a reworded
        question is judged by word alignment alone, which is stricter, never looser."""
        verdict = text_guards(query, candidate)
        if not verdict.ok:
            return verdict
        return await self.align(query, candidate, similarity)

    async def align(self, query: str, candidate: str, similarity: float | None = None) -> Verdict:
        fa, fb = features(query), features(candidate)
        pending: list[tuple[str, str, tuple[str, ...]]] = []  # (word, its question, the other's content)
        for words, text, other in ((fa.content, query, fb), (fb.content, candidate, fa)):
            other_content = tuple(t for t in other.content)
            for word in words:
                if stem(word) in other.stems:
                    continue
                if any(is_typo_of(word, o) or lexicon.are_synonyms(word, o, stem) for o in other_content):
                    continue
                if other.wh == "how much" and lexicon.are_synonyms(word, "price"):
                    continue  # "What's the price of X?" asks "How much is X?"
                if not other_content or _compound_modifier_changed(word, other_content):
                    return Verdict(False, "unaligned")
                pending.append((word, text, other_content))
        if not pending:
            return PASS
        if self._word_vectors is None:
            return Verdict(False, "unaligned")
        vectors = await self._lookup({w for w, _text, others in pending for w in (w, *others)})
        unaligned = [
            (word, text)
            for word, text, others in pending
            if max(float(vectors[word] @ vectors[o]) for o in others) < self.word_threshold
        ]
        if not unaligned:
            return PASS
        # A word of one question standing where a different word stands in the other ("my *home* insurance" vs
        # "my *car* insurance", "*add* money" vs "*take* money out") is a substitution: never tolerated.
        if _slot_swapped(
            fa, fb, {w for w, text in unaligned if text == query}, {w for w, text in unaligned if text != query}
        ):
            return Verdict(False, "swap")
        # A reworded question (little wording in common) leaves words unaligned for harmless reasons ("What does
        # the light mean?" / "What is the light telling me?"); there the sentence embedding judges, with its own,
        # higher bar, as long as most content words still align. A near-copy with a word changed or added gets no
        # such tolerance: that one word is the point of the question.
        share = len(unaligned) / max(1, len(fa.content) + len(fb.content))
        if (
            similarity is not None
            and similarity >= self.reworded_threshold
            and share <= self.max_unaligned_share
            and lexical_overlap(fa, fb) < self.reworded_below
        ):
            return PASS
        # Only an *extra* word can be dispensable; a word replaced by another is a different question unless
        # the two are synonyms ("take" vs "avoid" moves neither sentence much, yet flips the answer).
        one_sided = len({text for _word, text in unaligned}) == 1
        if one_sided and len(unaligned) <= self.max_dispensable and await self._all_dispensable(unaligned):
            return PASS
        return Verdict(False, "unaligned")

    async def _all_dispensable(self, words: list[tuple[str, str]]) -> bool:
        """True when leaving each unmatched word out barely moves its question's embedding.

        "contents insurance *policy*" or "a *swimming* pool" add no meaning, while "*extended* warranty" or
        "*joint* account" move the sentence well below the bar (measured on the tuning pairs: dispensable
        words stay at or above 0.96, answer-changing modifiers at or below 0.91).
        """
        assert self._word_vectors is not None
        texts: list[str] = []
        for word, text in words:
            texts += [text, re.sub(r"\b" + re.escape(word) + r"\b", " ", text, flags=re.IGNORECASE)]
        vecs = await self._word_vectors(texts)
        return all(float(vecs[2 * i] @ vecs[2 * i + 1]) >= self.dispensable_threshold for i in range(len(words)))

    async def _lookup(self, words: set[str]) -> dict[str, NDArray[np.float32]]:
        missing = sorted(w for w in words if w not in self._vectors)
        if missing:
            assert self._word_vectors is not None
            embedded = await self._word_vectors(missing)
            if len(self._vectors) + len(missing) > self._max_cached:
                self._vectors.clear()
            for word, vec in zip(missing, embedded, strict=True):
                self._vectors[word] = vec
        return {w: self._vectors[w] for w in words}
