"""The cache's public value types and settings: plain frozen dataclasses the assistant builds and reads."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from vocabulary import TaskKind, Tier, Vector, Visibility

HitKind = Literal["exact", "semantic"]


@dataclass(frozen=True)
class CacheScope:
    """Where a question was asked. ``visibility`` comes from ``conversations.info``, never from the ID prefix."""

    team_id: str
    channel_id: str
    visibility: Visibility


@dataclass(frozen=True)
class CacheQuery:
    """One question as the cache sees it.

    ``context_fingerprint`` is what the answer depended on besides the question, computed cheaply by the caller
    with :func:`context_fingerprint`: for ``qa`` the thread ts, latest reply ts and pinned-docs version; for
    ``summarize`` the thread ts and the latest message ts (so a new message makes a new key). ``vector`` is the
    question's embedding when the caller already has it (it is shared with the router); ``None`` makes the cache
    embed the question itself, and only when a semantic lookup is allowed.
    """

    scope: CacheScope
    task: TaskKind
    question: str
    user_id: str
    thread_ts: str | None = None
    context_fingerprint: str = ""
    vector: Vector | None = None


@dataclass(frozen=True)
class CacheHit:
    entry_id: str
    answer: str
    model: str
    tier: Tier
    created_at: float  # unix seconds; the "asked 3 days ago" label
    similarity: float  # 1.0 for exact hits
    kind: HitKind
    confidence: float = 1.0  # the verifier's P(same answer); 1.0 for exact hits


@dataclass(frozen=True)
class CacheSettings:
    """Thresholds and limits; defaults are the values calibrated by ``benchmarks/cache_quality.py``."""

    # The cosine floor for a FAISS candidate to be verified at all: a cheap pre-filter set well below any pair
    # the scorer serves (benchmarks/train_verifier.py trains on the pairs above it).
    similarity_threshold: float = 0.70
    # The scorer's P(same answer) a candidate needs; None = the threshold shipped in verifier_model.json, chosen
    # on cross-validated development pairs. Higher serves fewer and safer hits.
    verifier_threshold: float | None = None
    ttl_seconds: float = 7 * 24 * 3600
    max_entries_per_scope: int = 5_000
    share_public_workspace_wide: bool = False
    # Estimated memory for this process's FAISS indexes; past it the least recently used scopes are dropped
    # (loaded again from Redis on their next lookup). None: no bound.
    index_memory_mb: float | None = None
    ann_switch_size: int = 20_000
    ann_nprobe: int = 64  # recall@10 0.98 on real embeddings, 0.97 at 100k (benchmarks/cache_latency.py)
    candidates: int = 5
    stream_maxlen: int = 200_000
    sweep_interval_seconds: float = 60.0
    tail_block_seconds: float = 1.0  # longest wait for a change; also the shortest idle iteration of the tail
    # A channel's record goes back to public only this long after it last went less than public: longer than any
    # replica keeps a conversations.info answer (bot/app.py: twice PENNY_CHANNEL_INFO_TTL_S, plus a minute).
    visibility_quarantine_s: float = 660.0


def context_fingerprint(*parts: str | int | None) -> str:
    """A short stable digest of whatever the answer depended on (thread ts, latest reply ts, pins version...)."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.blake2b(joined.encode(), digest_size=12).hexdigest() if joined.strip("\x1f") else ""
