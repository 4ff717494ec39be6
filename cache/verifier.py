"""The ``Verifier``: is a semantic candidate's question really the same question as the one asked?

A wrong cache hit is worse than a miss, so every candidate above the similarity threshold must pass two stages
before it is served:

1. the text guards (guards.py, no model): negation and opposites, numbers/dates/amounts, named entities and IDs,
   people, the question word and direction;
2. word alignment (here): every content word of one question must have a counterpart in the other —
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
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from cache import lexicon
from cache.features import QuestionFeatures, features, is_typo_of
from cache.guards import PASS, Verdict, text_guards
from cache.text import stem

if TYPE_CHECKING:
    from numpy.typing import NDArray

WordVectors = Callable[[Sequence[str]], Awaitable["NDArray[np.float32]"]]


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


def lexical_overlap(fa: QuestionFeatures, fb: QuestionFeatures) -> float:
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


def _slot_swapped(fa: QuestionFeatures, fb: QuestionFeatures, only_a: set[str], only_b: set[str]) -> bool:
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
