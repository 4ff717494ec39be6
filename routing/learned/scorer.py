"""The learned scorer: "how much would a stronger tier help this prompt?", learned from 👍/👎 outcomes.

One question and one threshold, as in RouteLLM's routers: ``score(vector)`` estimates the quality gained by
moving a prompt from a tier to the tiers above it, ``P(bad | here) − P(bad | above)``, and ``should_escalate``
compares it with the configured threshold (``routing/learned/config.py``). Each probability is the average of two
estimates over past votes of that tier (``routing/learned/estimators.py``):

* a k-nearest-neighbour vote over the prompt embeddings (cosine; vectors arrive normalised), which catches
  "this looks like prompts that went badly";
* a ridge regression on the embedding plus binned cheap text features and a hashed bag of words
  (``routing/learned/features.py``), which generalises across topics where few neighbours exist and sees difficulty
  (question forms, "EXCEPT", arithmetic) the topic-level embedding misses.

Scoring the gain rather than only ``P(bad | here)`` matters: a prompt that every model gets wrong gains nothing
from a pricier model. Both parts were chosen with ``benchmarks/router_quality.py``.

The scorer receives vectors (DESIGN.md: one embedding per request, computed by ``cache/embedder.py`` and
injected), never text embeddings of its own; the prompt text, when given, is reduced to a few numbers at once.
Votes arrive as prompt signatures (``routing/learned/signatures.py``) replayed from the feedback log
(``routing/learned/sync.py``); the log, not this object, is what survives a restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from routing.learned.config import ScorerConfig
from routing.learned.estimators import bin_edges, design, knn_vote, ridge_weights
from routing.learned.features import N_FEATURES, text_features, word_buckets
from routing.learned.signatures import decode_signature

FloatArray = NDArray[np.float32]


@dataclass
class _Fit:
    """The ridge part, refitted lazily; weights per group of tiers (one tier, or all tiers above one)."""

    edges: list[NDArray[np.float64]]
    weights: dict[tuple[int, ...], NDArray[np.float64]] = field(default_factory=dict)


class LearnedScorer:
    """Votes of one workspace and the estimate built on them. Not thread-safe: one owner (see the registry)."""

    def __init__(self, config: ScorerConfig | None = None) -> None:
        self.config = config or ScorerConfig()
        self._dim: int | None = None
        self._vectors: FloatArray = np.zeros((0, 0), dtype=np.float32)
        self._features: FloatArray = np.zeros((0, N_FEATURES), dtype=np.float32)
        self._words: NDArray[np.uint8] = np.zeros((0, self._word_bytes), dtype=np.uint8)
        self._tiers: NDArray[np.int8] = np.zeros(0, dtype=np.int8)
        self._bad: NDArray[np.bool_] = np.zeros(0, dtype=np.bool_)
        self._n = 0
        self._fit: _Fit | None = None
        self._recorded_since_fit = 0
        self._groups: dict[tuple[int, ...], tuple[FloatArray, NDArray[np.float64]]] = {}

    # -- votes -------------------------------------------------------------------------------------------

    @property
    def _word_bytes(self) -> int:
        return self.config.word_buckets // 8

    @property
    def n_votes(self) -> int:
        return self._n

    @property
    def active(self) -> bool:
        """Whether there are enough votes to trust the estimate over the rule-based tier."""
        return self._n >= self.config.min_votes

    def record_signatures(self, votes: Sequence[tuple[bytes, str, bool]]) -> int:
        """Remember how answers were rated (👍 = good), from stored ``prompt_signature``s; returns how many were used.

        A vote that does not fit this scorer (a signature made for another configuration, an unknown tier) is
        skipped. The votes go in with one array copy: appending them one at a time copies every stored vote each
        time, which made replaying 20,000 votes take 34 s on this project's machine, on the event loop.
        """
        rows: list[tuple[FloatArray, FloatArray, NDArray[np.uint8], int, bool]] = []
        for signature, tier, good in votes:
            try:
                vector, feats, words = decode_signature(signature)
                tier_index = self._tier_index(tier)
            except ValueError:
                continue
            if len(feats) != N_FEATURES or len(words) != self._word_bytes or (self._dim or len(vector)) != len(vector):
                continue
            rows.append((vector, feats, words, tier_index, not good))
        if rows:
            self._check_vector(rows[0][0])
            self._append(
                np.stack([r[0] for r in rows]),
                np.stack([r[1] for r in rows]),
                np.stack([r[2] for r in rows]),
                np.array([r[3] for r in rows], dtype=np.int8),
                np.array([r[4] for r in rows], dtype=np.bool_),
            )
        return len(rows)

    # -- the one question --------------------------------------------------------------------------------

    def score(self, prompt_vector: NDArray[Any], *, tier: str | None = None, text: str | None = None) -> float:
        """Expected quality gained by answering with a tier above ``tier`` (default: the cheapest).

        Roughly in [-1, 1]: ``P(bad | tier) − P(bad | tiers above)``. Cost is one matrix-vector product over the
        stored votes plus a dot product (about 1 ms at 10k votes on one core); it ignores ``active``, which is
        the caller's ``should_escalate`` decision.
        """
        vector = self._check_vector(prompt_vector)
        return float(self.score_many(vector[None, :], tier=tier, texts=[text or ""])[0])

    def score_many(
        self, vectors: NDArray[Any], *, tier: str | None = None, texts: Sequence[str] | None = None
    ) -> NDArray[np.float64]:
        """``score`` for a batch, in one matrix product (``score`` is a batch of one; the benchmarks score many)."""
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2:
            raise ValueError("vectors must be a 2-d array")
        if texts is not None and len(texts) != len(matrix):
            raise ValueError("texts must match vectors")
        feats, words = self._text_rows(texts, len(matrix))
        return self._score_matrix(matrix, feats, words, self._tier_index(tier))

    def should_escalate(self, prompt_vector: NDArray[Any], tier: str, *, text: str | None = None) -> bool:
        """Move this prompt up one tier? Only once active, never above the top tier."""
        if not self.active or self._tier_index(tier) >= len(self.config.tiers) - 1:
            return False
        return self.score(prompt_vector, tier=tier, text=text) > self.config.threshold

    def refit(self) -> None:
        """Refit the ridge part now (e.g. from a worker thread after a batch of votes) so ``score`` stays cheap."""
        self._fit = _Fit(edges=bin_edges(self._features[: self._n], self.config.feature_bins)) if self._n else None
        self._recorded_since_fit = 0

    # -- internals ---------------------------------------------------------------------------------------

    def _tier_index(self, tier: str | None) -> int:
        if tier is None:
            return 0
        try:
            return self.config.tiers.index(str(tier))
        except ValueError:
            raise ValueError(f"unknown tier {tier!r}; expected one of {self.config.tiers}") from None

    def _text_rows(self, texts: Sequence[str | None] | None, n: int) -> tuple[FloatArray, NDArray[np.uint8]]:
        """Text features and packed word buckets of each text (an absent text counts as empty)."""
        rows = list(texts) if texts is not None else [""] * n
        feats = np.zeros((len(rows), N_FEATURES), dtype=np.float32)
        words = np.zeros((len(rows), self._word_bytes), dtype=np.uint8)
        for i, t in enumerate(rows):
            feats[i] = text_features(t or "")
            words[i] = word_buckets(t or "", self.config.word_buckets)
        return feats, words

    def _check_vector(self, vector: NDArray[Any]) -> FloatArray:
        flat = np.asarray(vector, dtype=np.float32).reshape(-1)
        if self._dim is None:
            self._dim = int(flat.shape[0])
            self._vectors = np.zeros((0, self._dim), dtype=np.float32)
        if flat.shape[0] != self._dim:
            raise ValueError(f"expected a {self._dim}-d vector, got {flat.shape[0]}-d")
        return flat

    def _append(
        self,
        vectors: FloatArray,
        feats: FloatArray,
        words: NDArray[np.uint8],
        tiers: NDArray[np.int8],
        bad: NDArray[np.bool_],
    ) -> None:
        n_new = len(tiers)
        self._vectors = np.concatenate([self._vectors[: self._n], vectors.astype(np.float32)])
        self._features = np.concatenate([self._features[: self._n], feats.astype(np.float32)])
        self._words = np.concatenate([self._words[: self._n], words.astype(np.uint8)])
        self._tiers = np.concatenate([self._tiers[: self._n], tiers])
        self._bad = np.concatenate([self._bad[: self._n], bad])
        self._n += n_new
        if self._n > self.config.max_votes:
            drop = self._n - self.config.max_votes
            self._vectors, self._features = self._vectors[drop:], self._features[drop:]
            self._words = self._words[drop:]
            self._tiers, self._bad = self._tiers[drop:], self._bad[drop:]
            self._n = self.config.max_votes
        self._recorded_since_fit += n_new
        self._groups.clear()

    def _score_matrix(
        self, vectors: FloatArray, feats: FloatArray, words: NDArray[np.uint8], tier: int
    ) -> NDArray[np.float64]:
        if tier >= len(self.config.tiers) - 1:
            return np.zeros(len(vectors))  # nothing above the top tier to gain
        here = (tier,)
        above = tuple(range(tier + 1, len(self.config.tiers)))
        return self._bad_rate(vectors, feats, words, here) - self._bad_rate(vectors, feats, words, above)

    def _bad_rate(
        self, vectors: FloatArray, feats: FloatArray, words: NDArray[np.uint8], group: tuple[int, ...]
    ) -> NDArray[np.float64]:
        """P(bad) for answers from ``group``: kNN vote blended with the ridge model, or the prior if unrated."""
        group_vectors, group_bad = self._group_votes(group)
        if len(group_bad) == 0:
            return np.full(len(vectors), self.config.prior_bad_rate)
        weight = self.config.knn_weight
        estimate = np.zeros(len(vectors))
        if weight > 0.0:
            estimate += weight * knn_vote(vectors, group_vectors, group_bad, self.config.k)
        if weight < 1.0:
            estimate += (1.0 - weight) * self._ridge_predict(vectors, feats, words, group)
        return estimate

    def _group_votes(self, group: tuple[int, ...]) -> tuple[FloatArray, NDArray[np.float64]]:
        """Vectors and bad flags of one group's votes, kept between calls (``score`` must not copy all votes)."""
        cached = self._groups.get(group)
        if cached is None:
            mask = np.isin(self._tiers[: self._n], np.asarray(group, dtype=np.int8))
            cached = (np.ascontiguousarray(self._vectors[: self._n][mask]), self._bad[: self._n][mask].astype(float))
            self._groups[group] = cached
        return cached

    def _ridge_predict(
        self, vectors: FloatArray, feats: FloatArray, words: NDArray[np.uint8], group: tuple[int, ...]
    ) -> NDArray[np.float64]:
        fit = self._current_fit()
        weights = fit.weights.get(group)
        if weights is None:
            rows = np.nonzero(np.isin(self._tiers[: self._n], np.asarray(group, dtype=np.int8)))[0]
            weights = ridge_weights(self._vectors, self._features, self._words, self._bad, rows, fit.edges, self.config)
            fit.weights[group] = weights
        result: NDArray[np.float64] = design(vectors, feats, words, fit.edges, self.config) @ weights
        return result

    def _current_fit(self) -> _Fit:
        if self._fit is None or self._recorded_since_fit >= self.config.refit_every:
            self.refit()
        assert self._fit is not None  # refit() always fits when votes exist, and callers check that
        return self._fit
