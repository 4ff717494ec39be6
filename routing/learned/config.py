"""The learned scorer's knobs: one frozen value, checked once and shared by every workspace's scorer.

The defaults are what the router benchmark (``benchmarks/router_quality.py``) measured, so changing one means
re-running it rather than guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TIERS: tuple[str, ...] = ("economy", "standard", "premium")


@dataclass(frozen=True)
class ScorerConfig:
    """Knobs of the scorer; defaults are those the router benchmark measured (see README performance)."""

    tiers: tuple[str, ...] = DEFAULT_TIERS  # cheapest first
    min_votes: int = 50  # below this a workspace keeps the rule-based tier
    # Escalate when the expected gain exceeds this; 0.12 is where the router benchmark reaches 80% of the
    # weak→strong gap. A target share of escalations is the threshold at that quantile of recent scores.
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
