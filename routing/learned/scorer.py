"""The learned scorer: "how much would a stronger tier help this prompt?", learned from 👍/👎 outcomes.

One question and one threshold, as in RouteLLM's routers: ``score(vector)`` estimates the quality gained by
moving a prompt from a tier to the tiers above it, ``P(bad | here) − P(bad | above)``, and ``should_escalate``
compares it with a threshold that can be calibrated to a target share of escalations. Each probability is the
average of two estimates over past votes of that tier:

* a k-nearest-neighbour vote over the prompt embeddings (cosine; vectors arrive normalised), which catches
  "this looks like prompts that went badly";
* a ridge regression on the embedding plus binned cheap text features and a hashed bag of words
  (``routing/learned/features.py``), which generalises across topics where few neighbours exist and sees difficulty
  (question forms, "EXCEPT", arithmetic) the topic-level embedding misses.

Scoring the gain rather than only ``P(bad | here)`` matters: a prompt that every model gets wrong gains nothing
from a pricier model. Both parts were chosen with ``benchmarks/router_quality.py``.

The scorer receives vectors (DESIGN.md: one embedding per request, computed by ``cache/embedder.py`` and
injected), never text embeddings of its own; the prompt text, when given, is reduced to a few numbers at once.
State is plain arrays, so it serialises to a Redis hash (``to_state``) or one blob (``to_bytes``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from routing.learned.features import N_FEATURES, bucket_matrix, text_features, word_buckets
from routing.learned.signatures import decode_signature, prompt_signature

STATE_VERSION = 2  # 2 added the hashed words; version-1 states load with no words
DEFAULT_TIERS: tuple[str, ...] = ("economy", "standard", "premium")

FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class ScorerConfig:
    """Knobs of the scorer; defaults are those the router benchmark measured (see README performance)."""

    tiers: tuple[str, ...] = DEFAULT_TIERS  # cheapest first
    min_votes: int = 50  # below this a workspace keeps the rule-based tier
    # Escalate when the expected gain exceeds this; 0.12 is where the router benchmark reaches 80% of the
    # weak→strong gap. Recalibrate per workspace with ``calibrate_threshold`` (a target share of escalations).
    threshold: float = 0.12
    k: int = 100  # neighbours per vote
    knn_weight: float = 0.5  # share of the kNN vote in the estimate; the rest is the ridge model
    ridge_alpha: float = 30.0
    feature_scale: float = 0.3  # weight of the binned text features next to the unit-length embedding
    feature_bins: int = 5
    # Hashed bag of words in the ridge part. word_scale was picked by 5-fold cross-validation inside the
    # benchmark's training splits only (0 / 0.5 / 1 / 2, and k, knn_weight, ridge_alpha around it), by the area
    # under the quality-vs-share curve; test prompts played no part.
    word_buckets: int = 1024  # hashed bag-of-words width (bits kept per vote: 128 bytes at 1024)
    word_scale: float = 1.0  # weight of the unit-length word vector in the ridge design; 0 turns words off
    prior_bad_rate: float = 0.2  # assumed for a tier nobody has rated yet
    max_votes: int = 20_000  # oldest votes are forgotten beyond this (taste and models change)
    refit_every: int = 50  # refit the ridge part after this many new votes

    def __post_init__(self) -> None:
        if len(self.tiers) < 2 or len(set(self.tiers)) != len(self.tiers):
            raise ValueError("tiers must name at least two distinct tiers, cheapest first")
        if self.k < 1 or self.min_votes < 0 or self.max_votes < 1 or self.refit_every < 1:
            raise ValueError("k, max_votes and refit_every must be positive, min_votes non-negative")
        if not 0.0 <= self.knn_weight <= 1.0:
            raise ValueError("knn_weight must lie in [0, 1]")
        if self.feature_bins < 2:
            raise ValueError("feature_bins must be at least 2")
        if self.word_buckets < 8 or self.word_buckets % 8 or self.word_scale < 0.0:
            raise ValueError("word_buckets must be a positive multiple of 8 and word_scale non-negative")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScorerConfig:
        values = dict(data)
        if "tiers" in values:
            values["tiers"] = tuple(values["tiers"])
        return cls(**values)


@dataclass
class _Fit:
    """The ridge part, refitted lazily; weights per group of tiers (one tier, or all tiers above one)."""

    n_votes: int
    edges: list[NDArray[np.float64]]
    weights: dict[tuple[int, ...], NDArray[np.float64]] = field(default_factory=dict)


class LearnedScorer:
    """Votes of one workspace and the estimate built on them. Not thread-safe: one owner (see the registry)."""

    def __init__(self, config: ScorerConfig | None = None, *, dim: int | None = None) -> None:
        self.config = config or ScorerConfig()
        self._dim = dim
        self._vectors: FloatArray = np.zeros((0, dim or 0), dtype=np.float32)
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

    def record(self, prompt_vector: NDArray[Any], tier: str, good: bool, *, text: str | None = None) -> None:
        """Remember how the answer from ``tier`` to this prompt was rated (👍 = good)."""
        vector = self._check_vector(prompt_vector)
        self._append(
            vector[None, :],
            text_features(text or "")[None, :],
            word_buckets(text or "", self.config.word_buckets)[None, :],
            np.array([self._tier_index(tier)], dtype=np.int8),
            np.array([not good], dtype=np.bool_),
        )

    def record_signature(self, signature: bytes, tier: str, good: bool) -> None:
        """``record`` from a stored ``prompt_signature``; ``ValueError`` if it does not fit this scorer."""
        if self.record_signatures([(signature, tier, good)]) != 1:
            raise ValueError("signature made for another scorer configuration, or an unknown tier")

    def record_signatures(self, votes: Sequence[tuple[bytes, str, bool]]) -> int:
        """Bulk ``record_signature`` (replaying a feedback log) in one array copy; returns how many were usable.

        One copy matters: appending votes one at a time copies every stored vote each time, which made replaying
        20,000 votes take 34 s on this project's machine, on the event loop.
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

    def record_many(
        self,
        vectors: NDArray[Any],
        tiers: Sequence[str],
        good: Sequence[bool] | NDArray[np.bool_],
        *,
        texts: Sequence[str] | None = None,
    ) -> None:
        """Bulk ``record`` (rebuilding from storage, benchmarks); same meaning, one array copy."""
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or len(matrix) != len(tiers) or len(tiers) != len(good):
            raise ValueError("vectors, tiers and good must have the same length")
        if texts is not None and len(texts) != len(tiers):
            raise ValueError("texts must match vectors")
        if len(matrix) == 0:
            return
        self._check_vector(matrix[0])
        feats, words = self._text_rows(texts, len(tiers))
        self._append(
            matrix,
            feats,
            words,
            np.array([self._tier_index(t) for t in tiers], dtype=np.int8),
            ~np.asarray(good, dtype=np.bool_),
        )

    # -- the one question --------------------------------------------------------------------------------

    def score(self, prompt_vector: NDArray[Any], *, tier: str | None = None, text: str | None = None) -> float:
        """Expected quality gained by answering with a tier above ``tier`` (default: the cheapest).

        Roughly in [-1, 1]: ``P(bad | tier) − P(bad | tiers above)``. Cost is one matrix-vector product over the
        stored votes plus a dot product (about 1 ms at 10k votes on one core); it ignores ``active``, which is
        the caller's ``should_escalate`` decision.
        """
        vector = self._check_vector(prompt_vector)
        feats, words = self._text_rows([text or ""], 1)
        return float(self._score_matrix(vector[None, :], feats, words, self._tier_index(tier))[0])

    def score_many(
        self, vectors: NDArray[Any], *, tier: str | None = None, texts: Sequence[str] | None = None
    ) -> NDArray[np.float64]:
        """``score`` for a batch (benchmarks, threshold calibration)."""
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2:
            raise ValueError("vectors must be a 2-d array")
        if texts is not None and len(texts) != len(matrix):
            raise ValueError("texts must match vectors")
        feats, words = self._text_rows(texts, len(matrix))
        return self._score_matrix(matrix, feats, words, self._tier_index(tier))

    def should_escalate(
        self, prompt_vector: NDArray[Any], tier: str, *, text: str | None = None, threshold: float | None = None
    ) -> bool:
        """Move this prompt up one tier? Only once active, never above the top tier."""
        if not self.active or self._tier_index(tier) >= len(self.config.tiers) - 1:
            return False
        limit = self.config.threshold if threshold is None else threshold
        return self.score(prompt_vector, tier=tier, text=text) > limit

    def calibrate_threshold(
        self,
        vectors: NDArray[Any],
        escalate_share: float,
        *,
        tier: str | None = None,
        texts: Sequence[str] | None = None,
    ) -> float:
        """The threshold at which ``escalate_share`` of these (recent) prompts would move up a tier."""
        if not 0.0 <= escalate_share <= 1.0:
            raise ValueError("escalate_share must lie in [0, 1]")
        scores = self.score_many(vectors, tier=tier, texts=texts)
        if len(scores) == 0:
            return self.config.threshold
        return float(np.quantile(scores, 1.0 - escalate_share))

    def refit(self) -> None:
        """Refit the ridge part now (e.g. from a worker thread after a batch of votes) so ``score`` stays cheap."""
        self._fit = self._new_fit() if self._n else None
        self._recorded_since_fit = 0

    # -- state -------------------------------------------------------------------------------------------

    def to_state(self) -> dict[str, bytes]:
        """A flat mapping of bytes, shaped to be one Redis hash (``HSET key mapping=state``)."""
        n = self._n
        return {
            "version": str(STATE_VERSION).encode(),
            "config": json.dumps(asdict(self.config)).encode(),
            "dim": str(self._dim or 0).encode(),
            "n": str(n).encode(),
            "vectors": self._vectors[:n].astype("<f4").tobytes(),
            "features": self._features[:n].astype("<f4").tobytes(),
            "words": self._words[:n].tobytes(),
            "tiers": self._tiers[:n].tobytes(),
            "bad": self._bad[:n].astype(np.uint8).tobytes(),
        }

    @classmethod
    def from_state(cls, state: Mapping[str | bytes, bytes | str]) -> LearnedScorer:
        """Inverse of ``to_state``; accepts the ``bytes`` keys and values a Redis client returns."""
        fields = {(k.decode() if isinstance(k, bytes) else k): v for k, v in state.items()}

        def text(name: str) -> str:
            value = fields[name]
            return value.decode() if isinstance(value, bytes) else value

        def raw(name: str) -> bytes:
            value = fields[name]
            return value if isinstance(value, bytes) else value.encode("latin-1")

        version = int(text("version"))
        if version not in (1, STATE_VERSION):
            raise ValueError(f"unsupported scorer state version {version}")
        config = ScorerConfig.from_dict(json.loads(text("config")))
        dim, n = int(text("dim")), int(text("n"))
        scorer = cls(config, dim=dim or None)
        if n:
            word_bytes = scorer._word_bytes
            words = (
                np.frombuffer(raw("words"), dtype=np.uint8).reshape(n, word_bytes).copy()
                if "words" in fields
                else np.zeros((n, word_bytes), dtype=np.uint8)
            )
            scorer._append(
                np.frombuffer(raw("vectors"), dtype="<f4").reshape(n, dim).astype(np.float32),
                np.frombuffer(raw("features"), dtype="<f4").reshape(n, N_FEATURES).astype(np.float32),
                words,
                np.frombuffer(raw("tiers"), dtype=np.int8).copy(),
                np.frombuffer(raw("bad"), dtype=np.uint8).astype(np.bool_),
            )
        return scorer

    def to_bytes(self) -> bytes:
        """One blob (``numpy.savez``, no pickle) for stores that want a single value."""
        buffer = io.BytesIO()
        state = self.to_state()
        arrays: dict[str, Any] = {k: np.frombuffer(v, dtype=np.uint8) for k, v in state.items()}
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> LearnedScorer:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            return cls.from_state({k: data[k].tobytes() for k in data.files})

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
        if self._dim is None:
            self._check_vector(vectors[0])
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
            estimate += weight * self._knn_vote(vectors, group_vectors, group_bad)
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

    def _knn_vote(self, vectors: FloatArray, votes: FloatArray, bad: NDArray[np.float64]) -> NDArray[np.float64]:
        n_group = len(bad)
        k = min(self.config.k, n_group)
        sims = vectors @ votes.T
        if k < n_group:
            nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        else:
            nearest = np.broadcast_to(np.arange(n_group), (len(vectors), n_group))
        result: NDArray[np.float64] = bad[nearest].mean(axis=1)
        return result

    def _ridge_predict(
        self, vectors: FloatArray, feats: FloatArray, words: NDArray[np.uint8], group: tuple[int, ...]
    ) -> NDArray[np.float64]:
        fit = self._current_fit()
        weights = fit.weights.get(group)
        if weights is None:
            rows = np.nonzero(np.isin(self._tiers[: self._n], np.asarray(group, dtype=np.int8)))[0]
            weights = self._ridge_fit(rows, fit.edges)
            fit.weights[group] = weights
        result: NDArray[np.float64] = self._design(vectors, feats, words, fit.edges) @ weights
        return result

    def _ridge_fit(self, rows: NDArray[np.intp], edges: list[NDArray[np.float64]]) -> NDArray[np.float64]:
        """Closed-form ridge on these votes, the Gram matrix built in chunks (the design is ~1.5k wide)."""
        target = self._bad[rows].astype(np.float64)
        gram: NDArray[np.float64] | None = None
        moment: NDArray[np.float64] | None = None
        for start in range(0, len(rows), _CHUNK):
            part = rows[start : start + _CHUNK]
            design = self._design(self._vectors[part], self._features[part], self._words[part], edges)
            gram = design.T @ design if gram is None else gram + design.T @ design
            step = design.T @ target[start : start + _CHUNK]
            moment = step if moment is None else moment + step
        assert gram is not None and moment is not None  # callers pass at least one row
        return _ridge_solve(gram, moment, self.config.ridge_alpha)

    def _current_fit(self) -> _Fit:
        if self._fit is None or self._recorded_since_fit >= self.config.refit_every:
            self.refit()
        assert self._fit is not None  # refit() always fits when votes exist, and callers check that
        return self._fit

    def _new_fit(self) -> _Fit:
        """Bin edges are quantiles of the stored votes, so features of any scale become comparable 0/1 steps."""
        quantiles = np.linspace(0.0, 1.0, self.config.feature_bins + 1)[1:-1]
        feats = self._features[: self._n].astype(np.float64)
        edges = [np.unique(np.quantile(feats[:, j], quantiles)) for j in range(feats.shape[1])]
        return _Fit(n_votes=self._n, edges=edges)

    def _design(
        self, vectors: FloatArray, feats: FloatArray, words: NDArray[np.uint8], edges: list[NDArray[np.float64]]
    ) -> NDArray[np.float64]:
        columns = [vectors.astype(np.float64)]
        for j, cuts in enumerate(edges):
            if len(cuts):
                columns.append((feats[:, j : j + 1] > cuts).astype(np.float64) * self.config.feature_scale)
        if self.config.word_scale > 0.0:
            columns.append(bucket_matrix(words, self.config.word_buckets) * self.config.word_scale)
        columns.append(np.ones((len(vectors), 1)))
        return np.hstack(columns)


_CHUNK = 2048  # design rows materialised at once while fitting


def _ridge_solve(gram: NDArray[np.float64], moment: NDArray[np.float64], alpha: float) -> NDArray[np.float64]:
    """Ridge weights from ``XᵀX`` and ``Xᵀy`` with an unpenalised intercept (the last column); no extra dependency."""
    gram = gram.copy()
    penalty = np.full(gram.shape[0], alpha)
    penalty[-1] = 0.0
    gram[np.diag_indices_from(gram)] += penalty + 1e-9
    return np.asarray(np.linalg.solve(gram, moment), dtype=np.float64)


class WorkspaceScorers:
    """One scorer per workspace: teams never see each other's votes, and each turns on at its own vote count."""

    def __init__(self, config: ScorerConfig | None = None) -> None:
        self.config = config or ScorerConfig()
        self._scorers: dict[str, LearnedScorer] = {}

    def scorer(self, team_id: str) -> LearnedScorer:
        if team_id not in self._scorers:
            self._scorers[team_id] = LearnedScorer(self.config)
        return self._scorers[team_id]

    def teams(self) -> list[str]:
        return sorted(self._scorers)

    def record(
        self, team_id: str, prompt_vector: NDArray[Any], tier: str, good: bool, *, text: str | None = None
    ) -> None:
        self.scorer(team_id).record(prompt_vector, tier, good, text=text)

    def score(
        self, team_id: str, prompt_vector: NDArray[Any], *, tier: str | None = None, text: str | None = None
    ) -> float | None:
        """The team's score, or ``None`` while it has fewer than ``min_votes`` votes (use the rules alone)."""
        scorer = self._scorers.get(team_id)
        if scorer is None or not scorer.active:
            return None
        return scorer.score(prompt_vector, tier=tier, text=text)

    def should_escalate(self, team_id: str, prompt_vector: NDArray[Any], tier: str, *, text: str | None = None) -> bool:
        scorer = self._scorers.get(team_id)
        return scorer is not None and scorer.should_escalate(prompt_vector, tier, text=text)

    def install(self, team_id: str, scorer: LearnedScorer) -> None:
        """Swap in a scorer rebuilt elsewhere (``routing/learned/sync.py`` replays the feedback log into one)."""
        self._scorers[team_id] = scorer

    def signature(self, prompt_vector: NDArray[Any], text: str) -> bytes:
        """The ``prompt_signature`` this registry's scorers accept (their word-bucket width)."""
        return prompt_signature(prompt_vector, text, self.config.word_buckets)

    def to_state(self, team_id: str) -> dict[str, bytes]:
        return self.scorer(team_id).to_state()

    def load_state(self, team_id: str, state: Mapping[str | bytes, bytes | str]) -> None:
        """Install a team's persisted scorer (its stored config travels with it)."""
        self._scorers[team_id] = LearnedScorer.from_state(state)
