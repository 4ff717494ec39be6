"""redis-py's cluster client, made to wait for a free connection the way Penny's single-server pool does.

redis-py's async ``RedisCluster`` keeps up to ``max_connections`` connections per node and raises
``MaxConnectionsError`` for the next command at once: a burst of mentions would lose events in the dedup
middleware, which the single-server ``BlockingConnectionPool`` (connection.py) exists to prevent. Here every
command and pipeline first takes one of ``max_connections`` places (a command uses at most one connection per node,
so no node's pool can run dry) and waits up to ``wait_s`` for one, like the blocking pool's timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.exceptions import ConnectionError, RedisClusterException

# Set while this task holds a place: redis-py re-sends a pipeline's redirected commands through the client's own
# execute_command, which must not wait for a second place (with every place held, it would wait forever).
_holding: ContextVar[bool] = ContextVar("penny_cluster_place", default=False)


class WaitingRedisCluster(RedisCluster):
    """``RedisCluster`` whose commands and pipelines wait (up to ``wait_s``) for a connection instead of failing."""

    def __init__(self, *, wait_s: float = 10.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._places = asyncio.Semaphore(int(kwargs.get("max_connections", 100)))
        self._wait_s = wait_s

    @asynccontextmanager
    async def place(self) -> AsyncIterator[None]:
        """One of ``max_connections`` places for a command in flight; nested use in the same task takes none."""
        if _holding.get():
            yield
            return
        try:
            await asyncio.wait_for(self._places.acquire(), self._wait_s)
        except TimeoutError:
            raise ConnectionError(f"no Redis Cluster connection free within {self._wait_s}s") from None
        token = _holding.set(True)
        try:
            yield
        finally:
            _holding.reset(token)
            self._places.release()

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self.place():
            return await super().execute_command(*args, **kwargs)

    def pipeline(self, transaction: Any | None = None, shard_hint: Any | None = None) -> ClusterPipeline:
        if shard_hint:
            raise RedisClusterException("shard_hint is deprecated in cluster mode")
        return _WaitingPipeline(self, transaction)  # type: ignore[abstract]  # as redis-py's own pipeline()


class _WaitingPipeline(ClusterPipeline):
    """A pipeline that takes its client's place for the whole of ``execute``."""

    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> list[Any]:
        client = self.cluster_client
        assert isinstance(client, WaitingRedisCluster)
        async with client.place():
            return await super().execute(raise_on_error, allow_redirections)
