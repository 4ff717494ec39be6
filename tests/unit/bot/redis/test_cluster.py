"""The cluster client waits for a free connection, as the single-server pool does, instead of failing a burst."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ConnectionError, MaxConnectionsError

from bot.config import Settings
from bot.redis.cluster import WaitingRedisCluster
from bot.redis.connection import cluster_client, plain_url


async def _burst(client: RedisCluster, n: int = 40) -> list[object]:
    # BLPOP with a short timeout holds its connection, so 40 of them need rounds of 4 connections per node.
    return await asyncio.gather(*(client.blpop([f"nothing:{i}"], timeout=0.05) for i in range(n)))


async def test_a_burst_larger_than_the_connections_waits_instead_of_failing(cluster_url: str) -> None:
    settings = Settings(_env_file=None, redis_url=cluster_url, redis_max_connections=4)  # type: ignore[call-arg]
    client = cluster_client(cluster_url, settings)
    assert isinstance(client, WaitingRedisCluster)
    try:
        await client.ping()
        assert await _burst(client) == [None] * 40
        pipe = client.pipeline(transaction=False)
        for i in range(10):
            pipe.set(f"penny:{{T{i}}}:k", i)
        assert await pipe.execute() == [True] * 10, "pipelines over several nodes take a place too"
        assert all(len(node._connections) <= 4 for node in client.get_nodes())
    finally:
        await client.aclose()


async def test_redis_pys_own_cluster_client_fails_the_same_burst(cluster_url: str) -> None:
    client = RedisCluster.from_url(plain_url(cluster_url), max_connections=4)
    try:
        await client.ping()
        with pytest.raises(MaxConnectionsError):
            await _burst(client)
    finally:
        await client.aclose()


async def test_no_place_within_the_wait_is_a_connection_error(cluster_url: str) -> None:
    client = WaitingRedisCluster.from_url(plain_url(cluster_url), max_connections=1, wait_s=0.1)
    try:
        await client.ping()
        held = asyncio.create_task(client.blpop(["nothing"], timeout=1))
        await asyncio.sleep(0.05)
        with pytest.raises(ConnectionError, match="no Redis Cluster connection free"):
            await client.get("penny:{T1}:k")
        assert await held is None
    finally:
        await client.aclose()
