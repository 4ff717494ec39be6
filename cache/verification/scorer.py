"""The learned part of verification: a logistic model over ``pair_features``, with its threshold.

Its weights are data, not code: ``verifier_model.json`` beside this module, written by
``benchmarks/train_verifier.py`` from the development pairs (the file records which, how it was cross-validated
and what that measured), and read with ``importlib.resources`` so it ships inside the package. A logistic model
because the development data is small (about 1,600 pairs): a few dozen weights generalise where trees over the
same features did not (measured in the training script's cross-validation).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from cache.verification.pair_features import FEATURE_NAMES

MODEL_RESOURCE = "verifier_model.json"


class ModelFileError(ValueError):
    """The model file does not match the features this code computes."""


@dataclass(frozen=True)
class PairScorer:
    """P(same answer) = sigmoid(intercept + sum(coef * (x - mean) / scale)), and 0 below ``min_cosine``."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float  # chosen on the development data; CacheSettings can override it
    min_cosine: float = 0.0  # below this embedding cosine the pair scores 0 (also chosen on development data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PairScorer:
        names = tuple(data["features"])
        if names != FEATURE_NAMES:
            raise ModelFileError(f"model features {names} differ from pair_features.FEATURE_NAMES")
        mean, scale, coef = (tuple(float(v) for v in data[k]) for k in ("mean", "scale", "coef"))
        if not len(mean) == len(scale) == len(coef) == len(names) or any(s <= 0 for s in scale):
            raise ModelFileError("model vectors have the wrong length or a non-positive scale")
        return cls(
            mean, scale, coef, float(data["intercept"]), float(data["threshold"]), float(data.get("min_cosine", 0.0))
        )

    @classmethod
    def packaged(cls) -> PairScorer:
        """The model that ships with Penny."""
        text = resources.files("cache.verification").joinpath(MODEL_RESOURCE).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(text))

    def probability(self, x: Sequence[float]) -> float:
        """P(same answer) for a ``pair_features`` vector (its first entry is the cosine)."""
        if x[0] < self.min_cosine:
            return 0.0
        z = self.intercept + sum(
            c * (v - m) / s for c, v, m, s in zip(self.coef, x, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0
