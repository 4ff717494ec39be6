"""The ``Verifier``: is a semantic candidate's question really the same question as the one asked?

A wrong cache hit is worse than a miss, so every FAISS candidate above the similarity floor passes two stages
before it is served:

1. the text guards (guards.py): rules for the near-misses an embedding cannot see and that no amount of
   rewording excuses — a negation or an opposite, a number, date or name *replaced* by another, a different
   person, question word, direction or time relation;
2. the learned scorer (scorer.py): a logistic model over the pair's features (pair_features.py: the embedding
   cosine, unmatched and rare words, names or numbers on one side only, shared wording and word order, the kind
   of question) gives P(same answer); the candidate is served at ``threshold`` or above.

The guards were tuned on planted traps and hold on them; on natural rewordings they are deliberately narrow (a
name or a number *added* on one side is for the scorer to weigh, since "Winston Churchill"/"Churchill" is the same
question). The scorer was trained and its threshold chosen on development pairs only (benchmarks/train_verifier.py).
Both stages are pure functions of the two texts and the cosine: no model call, tens of microseconds.

The same ``Verifier`` serves production lookups and the quality benchmark, so measured precision is what users get.
"""

from __future__ import annotations

from cache.text import normalize_for_exact
from cache.verification.guards import Verdict, text_guards
from cache.verification.pair_features import pair_features
from cache.verification.scorer import PairScorer


class Verifier:
    """Guards, then the scorer. ``threshold`` overrides the one the model file was shipped with."""

    def __init__(self, scorer: PairScorer | None = None, *, threshold: float | None = None) -> None:
        self.scorer = scorer or PairScorer.packaged()
        self.threshold = self.scorer.threshold if threshold is None else threshold

    @property
    def min_cosine(self) -> float:
        """Below this cosine a candidate is never served (the scorer scores it 0)."""
        return self.scorer.min_cosine

    def verify(self, query: str, candidate: str, similarity: float) -> Verdict:
        """``similarity`` is the two questions' embedding cosine (the FAISS score).

        The same question word for word (as the exact layer compares them) is served without scoring: the scorer
        learned from pairs that differ, and scores very short identical questions below its threshold, which would
        make a shared entry miss in another channel for the very question that is an exact hit in its own. The
        cosine floor still applies: the same words under a distant vector were embedded with other context.
        """
        if similarity >= self.min_cosine and normalize_for_exact(query) == normalize_for_exact(candidate):
            return Verdict(True, "identical", 1.0)
        verdict = text_guards(query, candidate)
        if not verdict.ok:
            return verdict
        score = self.scorer.probability(pair_features(query, candidate, similarity))
        return Verdict(score >= self.threshold, "ok" if score >= self.threshold else "scorer", score)
