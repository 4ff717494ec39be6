"""Fixtures that re-point a test module's Redis at the session's three-master cluster.

A module that re-runs single-server tests on the cluster imports ``redis_url`` (and, where its tests take a client,
``redis``) from here and lists them in its ``__all__``; the imported tests then see the cluster instead of one
server without being written twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bot.redis.connection import plain_client


@pytest.fixture
def redis_url(cluster_url: str) -> str:
    return cluster_url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = plain_client(redis_url)
    await (
        client.ping()
    )  # loads the slot map (redis-py 8.1 fails a MULTI sent as a fresh cluster client's first command)
    yield client
    await client.aclose()
