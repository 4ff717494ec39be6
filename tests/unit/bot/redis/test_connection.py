"""The Redis connection pool: a burst of concurrent commands waits for a connection instead of failing."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from bot.config import Settings
from bot.redis.connection import connection_pool


async def test_a_burst_larger_than_the_pool_waits_instead_of_failing(redis_url: str) -> None:
    settings = Settings(redis_max_connections=4, redis_pool_timeout_s=5.0)
    client = aioredis.Redis.from_pool(connection_pool(redis_url, settings))
    try:
        # BLPOP with a short timeout holds its connection, so 40 of them need 10 rounds of 4 connections.
        results = await asyncio.gather(*(client.blpop([f"nothing:{i}"], timeout=0.05) for i in range(40)))
        assert results == [None] * 40
        assert len(await client.client_list()) <= 4 + 1
    finally:
        await client.aclose()
