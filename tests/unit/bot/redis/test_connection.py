"""The Redis connection pool: a burst of concurrent commands waits for a connection instead of failing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError

from bot.config import Settings
from bot.redis.connection import connection_pool
from bot.redis.embedded import RedisServerProcess


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


async def test_a_command_waits_for_redis_to_come_back_within_the_retry_budget(tmp_path: Path) -> None:
    server = RedisServerProcess(data_dir=tmp_path / "redis").start()
    client = aioredis.Redis.from_pool(connection_pool(server.url, Settings(redis_retry_s=30.0)))
    try:
        await client.set("k", "before")
        server.stop()
        pending = asyncio.create_task(client.set("k", "during"))
        await asyncio.sleep(1.0)
        assert not pending.done(), "the command waits for Redis instead of failing"
        server.start()
        assert await asyncio.wait_for(pending, timeout=30) is True
        assert await client.get("k") == b"during"
    finally:
        await client.aclose()
        server.stop()


async def test_an_outage_longer_than_the_budget_fails_once_the_budget_is_spent(tmp_path: Path) -> None:
    """redis-py nests its retry loops (command, then connect); the budget is shared, not multiplied."""
    server = RedisServerProcess(data_dir=tmp_path / "redis").start()
    client = aioredis.Redis.from_pool(connection_pool(server.url, Settings(redis_retry_s=1.0)))
    try:
        await client.ping()
        server.stop()
        started = time.monotonic()
        with pytest.raises(ConnectionError):
            await client.set("k", "v")
        # With 12 counted retries per loop the nested loops waited about 107 s; a 1 s budget must not take 20.
        assert time.monotonic() - started < 20
    finally:
        await client.aclose()
        server.stop()


async def test_during_an_outage_a_command_waiting_for_a_connection_waits_as_long_as_one_waiting_for_redis(
    tmp_path: Path,
) -> None:
    """Every pooled connection is busy retrying while Redis is away; a command queued behind them gave up after
    ``redis_pool_timeout_s`` ("No connection available") although Redis came back within ``redis_retry_s``."""
    server = RedisServerProcess(data_dir=tmp_path / "redis").start()
    settings = Settings(redis_max_connections=4, redis_pool_timeout_s=0.5, redis_retry_s=30.0)
    client = aioredis.Redis.from_pool(connection_pool(server.url, settings))
    try:
        await client.ping()
        server.stop()
        pending = asyncio.gather(*(client.incr("n") for _ in range(12)))
        await asyncio.sleep(2.0)
        server.start()
        assert sorted(await asyncio.wait_for(pending, timeout=30)) == list(range(1, 13))
    finally:
        await client.aclose()
        server.stop()
