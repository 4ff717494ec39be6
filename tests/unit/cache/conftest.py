"""Fixtures for the cache tests: a deterministic stand-in embedder and a factory for started caches.

The stand-in hashes words into a 384-d vector, so tests about Redis, sync, TTL and privacy run in milliseconds
without loading MiniLM; the tests that need real semantics load the model once per module.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import numpy as np
import pytest
import redis.asyncio as aioredis

from cache.semantic import SemanticCache
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

    async def factory(settings: CacheSettings | None = None, embedder: object | None = None) -> SemanticCache:
        client = aioredis.Redis.from_url(redis_url)
        cache = SemanticCache(
            client,
            embedder or HashEmbedder(),
            settings or CacheSettings(),  # type: ignore[arg-type]
            clock=lambda: 1_000_000.0,
        )
        await cache.start(background_sweep=False)
        created.append((cache, client))
        return cache

    yield factory
    for cache, client in created:
        await cache.close()
        await client.aclose()
