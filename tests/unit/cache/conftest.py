"""Fixtures for the cache tests: a deterministic stand-in embedder, a factory for started caches, and probes.

The stand-in hashes words into a 384-d vector, so tests about Redis, sync, TTL and privacy run in milliseconds
without loading MiniLM; the tests that need real semantics load the model once per module. The probes look inside
a cache's in-memory indexes, which production never asks about.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import numpy as np
import pytest
import redis.asyncio as aioredis

from bot.redis.connection import plain_client
from cache.entry import index_key, parse_entry_id
from cache.semantic import SemanticCache, SourceVisibility
from cache.text import tokens
from cache.values import CacheQuery, CacheScope, CacheSettings

DIM = 384


def hashed_vector(text: str) -> np.ndarray:
    vec = np.zeros(DIM, dtype=np.float32)
    for tok in tokens(text):
        digest = hashlib.blake2b(tok.encode(), digest_size=8).digest()
        vec[int.from_bytes(digest[:4], "little") % DIM] += 1.0
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else vec


def random_unit(seed: int) -> np.ndarray:
    vec = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vec / np.linalg.norm(vec)


class HashEmbedder:
    """Embedder-shaped, deterministic, instant."""

    def __init__(self) -> None:
        self.calls = 0

    async def aembed(self, text: str) -> np.ndarray:
        self.calls += 1
        return hashed_vector(text)

    async def aembed_many(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([hashed_vector(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)


def query(
    question: str,
    *,
    team: str = "T1",
    channel: str = "C1",
    visibility: str = "public",
    user: str = "U1",
    task: str = "qa",
    thread_ts: str | None = None,
    fingerprint: str = "",
    vector: np.ndarray | None = None,
) -> CacheQuery:
    return CacheQuery(
        scope=CacheScope(team, channel, visibility),
        task=task,
        question=question,  # type: ignore[arg-type]
        user_id=user,
        thread_ts=thread_ts,
        context_fingerprint=fingerprint,
        vector=vector,
    )


CacheFactory = Callable[..., Awaitable[SemanticCache]]


@pytest.fixture
async def make_cache(redis_url: str) -> AsyncIterator[CacheFactory]:
    created: list[tuple[SemanticCache, aioredis.Redis]] = []

    async def factory(
        settings: CacheSettings | None = None,
        embedder: object | None = None,
        source_visibility: SourceVisibility | None = None,
    ) -> SemanticCache:
        client = plain_client(redis_url)  # a cluster client for a redis+cluster:// URL
        cache = SemanticCache(
            client,
            embedder or HashEmbedder(),
            settings or CacheSettings(),  # type: ignore[arg-type]
            clock=lambda: 1_000_000.0,
            source_visibility=source_visibility,
        )
        await cache.start(background_sweep=False)
        created.append((cache, client))
        return cache

    yield factory
    for cache, client in created:
        await cache.close()
        await client.aclose()


def indexed(cache: SemanticCache, entry_id: str) -> bool:
    """Whether any of this process's FAISS indexes still holds the entry's vector (ghost check)."""
    _team, vector_id = parse_entry_id(entry_id)
    return any(vector_id in index._ids for _key, index in cache._indexes.items())


async def hold(cache: SemanticCache, team_id: str = "T1", *channels: str) -> None:
    """Load scopes' indexes (by default T1's C1) as a first lookup would, so the change stream keeps them current."""
    await cache._replica.indexes_for([index_key(team_id, c) for c in channels or ("C1",)])


def index_size(cache: SemanticCache, team_id: str, channel_id: str) -> int:
    index = cache._indexes.get(index_key(team_id, channel_id))
    return 0 if index is None else len(index._ids)


def index_is_approximate(cache: SemanticCache, team_id: str, channel_id: str) -> bool:
    index = cache._indexes.get(index_key(team_id, channel_id))
    return index is not None and index.approximate


async def wait_for_ann_builds(cache: SemanticCache) -> None:
    """Wait until the cache's pending IVF builds are in place."""
    builds = cache._replica._ann_builds
    while builds:
        await asyncio.gather(*list(builds), return_exceptions=True)
