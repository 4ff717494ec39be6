"""What the learned scorer sees of a (question, cached question) pair: a short vector of symmetric numbers.

The embedding cosine says how close two questions are in meaning; these say *where* they differ: how many content
words have no counterpart (same stem, typo or listed synonym) on the other side and how rare those words are (a
rare unmatched word is usually the topic: "Weimaraner"/"Lab"), names and numbers present on one side only, how
much of the wording and word order is shared, and whether the two ask the same kind of question (why / yes-no /
how...). Every feature is cheap (tens of microseconds, no model call), because it runs on the lookup path.

Word rarity comes from the embedding model's own WordPiece vocabulary, which BERT orders by corpus frequency after
its special and single-character entries: a word's rank there is a frequency rank, with no extra data or package.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from functools import lru_cache

from cache.text import stem
from cache.verification import lexicon
from cache.verification.features import QuestionFeatures, features, is_typo_of
from cache.verification.guards import unmatched_entities

# The order is the model file's contract: benchmarks/train_verifier.py writes it and the scorer checks it.
FEATURE_NAMES: tuple[str, ...] = (
    "cosine",
    "stem_jaccard",
    "content_jaccard",
    "word_order",
    "char_ratio",
    "min_tokens",
    "length_ratio",
    "unaligned",
    "unaligned_share",
    "unaligned_one_side",
    "rare_unaligned",
    "rarest_unaligned",
    "unaligned_weight_share",
    "extra_entities",
    "extra_numbers",
    "question_word_differs",
    "why_differs",
    "yes_no_differs",
    "first_word_same",
)

_FIRST_WHOLE_WORD = 1996  # BERT uncased: [PAD], [unused*], [CLS]..., single characters; then words by frequency
_RARE = 3.5  # rarity below this (rank beyond ~10k) marks a rare word
_AUXILIARIES = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "am",
        "do",
        "does",
        "did",
        "can",
        "could",
        "will",
        "would",
        "should",
        "shall",
        "may",
        "might",
        "must",
        "has",
        "have",
        "had",
    ]
)
_WH = ("why", "how", "what", "which", "when", "where", "who", "whom", "whose")


@lru_cache(maxsize=1)
def _vocabulary_ranks() -> dict[str, int]:
    from cache.embedder import packaged_model_dir

    with (packaged_model_dir() / "vocab.txt").open(encoding="utf-8") as fh:
        return {line.rstrip("\n"): index for index, line in enumerate(fh)}


@lru_cache(maxsize=65536)
def rarity(word: str) -> float:
    """A Zipf-like score: about 7.5 for "the", 3.5 at rank 10,000, 2.5 for a word the vocabulary splits."""
    ranks = _vocabulary_ranks()
    for form in (word, stem(word)):
        index = ranks.get(form)
        if index is not None and index >= _FIRST_WHOLE_WORD:
            return 7.5 - math.log10(index - _FIRST_WHOLE_WORD + 1)
    return 2.5


def _weight(word: str) -> float:
    """How much a word carries: rare words (topics, names) weigh most, the commonest almost nothing."""
    return max(0.0, 7.0 - rarity(word))


def unaligned_words(fa: QuestionFeatures, fb: QuestionFeatures) -> tuple[list[str], list[str]]:
    """Content words of each question with no counterpart in the other: not the same stem, a typo or a synonym."""

    def missing(words: Sequence[str], other: QuestionFeatures) -> list[str]:
        return [
            w
            for w in words
            if stem(w) not in other.stems
            and not any(is_typo_of(w, o) or lexicon.are_synonyms(w, o, stem) for o in other.content)
        ]

    return missing(fa.content, fb), missing(fb.content, fa)


def question_form(toks: Sequence[str]) -> str:
    """ "yes_no" for "Is/Can/Does ...?", else the first question word in the opening words, else "other"."""
    if not toks:
        return "other"
    if toks[0] in _AUXILIARIES:
        return "yes_no"
    return next((t for t in toks[:3] if t in _WH), "other")


def _ratio(a: Sequence[str], b: Sequence[str]) -> float:
    """difflib's similarity ratio, in a fixed argument order (it is not symmetric)."""
    first, second = (a, b) if list(a) <= list(b) else (b, a)
    return difflib.SequenceMatcher(None, first, second, autojunk=False).ratio()


def pair_features(query: str, candidate: str, cosine: float) -> list[float]:
    """The feature vector, in ``FEATURE_NAMES`` order; symmetric in the two questions."""
    fa, fb = features(query), features(candidate)
    stems_a, stems_b = {stem(t) for t in fa.tokens}, {stem(t) for t in fb.tokens}
    content_a, content_b = {stem(t) for t in fa.content}, {stem(t) for t in fb.content}
    len_a, len_b = len(fa.tokens), len(fb.tokens)
    only_a, only_b = unaligned_words(fa, fb)
    unaligned = only_a + only_b
    rarities = [rarity(w) for w in unaligned]
    total_weight = sum(_weight(w) for w in (*fa.content, *fb.content))
    form_a, form_b = question_form(fa.tokens), question_form(fb.tokens)
    order = _ratio([stem(t) for t in fa.tokens], [stem(t) for t in fb.tokens])
    chars = _ratio(query.lower(), candidate.lower())
    extra_numbers = sum((fa.numbers - fb.numbers).values()) + sum((fb.numbers - fa.numbers).values())
    return [
        cosine,
        len(stems_a & stems_b) / max(1, len(stems_a | stems_b)),
        len(content_a & content_b) / max(1, len(content_a | content_b)),
        order,
        chars,
        float(min(len_a, len_b)),
        min(len_a, len_b) / max(1, len_a, len_b),
        float(len(unaligned)),
        len(unaligned) / max(1, len(fa.content) + len(fb.content)),
        float(bool(only_a) != bool(only_b)),
        float(sum(r < _RARE for r in rarities)),
        min(rarities, default=8.0),
        sum(_weight(w) for w in unaligned) / total_weight if total_weight else 0.0,
        float(len(unmatched_entities(fa, fb)) + len(unmatched_entities(fb, fa))),
        float(extra_numbers),
        float(fa.wh != fb.wh),
        float((form_a == "why") != (form_b == "why")),
        float((form_a == "yes_no") != (form_b == "yes_no")),
        float(fa.tokens[:1] == fb.tokens[:1]),
    ]
