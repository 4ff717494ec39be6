"""The two estimates of P(bad) that the learned scorer blends: a kNN vote and a ridge regression. Array math only.

Kept apart from the scorer's bookkeeping (which votes, which tiers, when to refit) so each can be read on its own:
these functions take arrays of votes and return arrays of estimates, and know nothing of tiers or workspaces.
The ridge part is solved in closed form with numpy (no extra dependency), its design being the embedding, binned
text features and the hashed bag of words (``routing/learned/features.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from routing.learned.config import ScorerConfig
from routing.learned.features import bucket_matrix

_CHUNK = 2048  # design rows materialised at once while fitting


def knn_vote(vectors: NDArray[Any], votes: NDArray[Any], bad: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Share of bad answers among each prompt's ``k`` nearest votes (cosine: the vectors arrive normalised)."""
    n_group = len(bad)
    k = min(k, n_group)
    sims = vectors @ votes.T
    if k < n_group:
        nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    else:
        nearest = np.broadcast_to(np.arange(n_group), (len(vectors), n_group))
    result: NDArray[np.float64] = bad[nearest].mean(axis=1)
    return result


def bin_edges(features: NDArray[Any], bins: int) -> list[NDArray[np.float64]]:
    """Bin edges are quantiles of the stored votes, so features of any scale become comparable 0/1 steps."""
    quantiles = np.linspace(0.0, 1.0, bins + 1)[1:-1]
    feats = features.astype(np.float64)
    return [np.unique(np.quantile(feats[:, j], quantiles)) for j in range(feats.shape[1])]


def design(
    vectors: NDArray[Any],
    feats: NDArray[Any],
    words: NDArray[np.uint8],
    edges: list[NDArray[np.float64]],
    config: ScorerConfig,
) -> NDArray[np.float64]:
    """The ridge model's rows: embedding, binned text features, hashed words, intercept."""
    columns = [vectors.astype(np.float64)]
    for j, cuts in enumerate(edges):
        if len(cuts):
            columns.append((feats[:, j : j + 1] > cuts).astype(np.float64) * config.feature_scale)
    if config.word_scale > 0.0:
        columns.append(bucket_matrix(words, config.word_buckets) * config.word_scale)
    columns.append(np.ones((len(vectors), 1)))
    return np.hstack(columns)


def ridge_weights(
    vectors: NDArray[Any],
    feats: NDArray[Any],
    words: NDArray[np.uint8],
    bad: NDArray[np.bool_],
    rows: NDArray[np.intp],
    edges: list[NDArray[np.float64]],
    config: ScorerConfig,
) -> NDArray[np.float64]:
    """Closed-form ridge on the votes at ``rows``, the Gram matrix built in chunks (the design is ~1.5k wide)."""
    target = bad[rows].astype(np.float64)
    gram: NDArray[np.float64] | None = None
    moment: NDArray[np.float64] | None = None
    for start in range(0, len(rows), _CHUNK):
        part = rows[start : start + _CHUNK]
        chunk = design(vectors[part], feats[part], words[part], edges, config)
        gram = chunk.T @ chunk if gram is None else gram + chunk.T @ chunk
        step = chunk.T @ target[start : start + _CHUNK]
        moment = step if moment is None else moment + step
    assert gram is not None and moment is not None  # callers pass at least one row
    return _ridge_solve(gram, moment, config.ridge_alpha)


def _ridge_solve(gram: NDArray[np.float64], moment: NDArray[np.float64], alpha: float) -> NDArray[np.float64]:
    """Ridge weights from ``XᵀX`` and ``Xᵀy`` with an unpenalised intercept (the last column)."""
    gram = gram.copy()
    penalty = np.full(gram.shape[0], alpha)
    penalty[-1] = 0.0
    gram[np.diag_indices_from(gram)] += penalty + 1e-9
    return np.asarray(np.linalg.solve(gram, moment), dtype=np.float64)
