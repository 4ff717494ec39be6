"""Threads Penny has joined: once it replied in a thread, follow-ups there are for Penny without an @mention.

Remembered in Redis with a TTL (so replicas agree and stale threads age out), keyed by workspace and channel.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.redis.keys import joined_thread_key

JOINED_TTL_S = 14 * 86400


class JoinedThreads:
    def __init__(self, redis: aioredis.Redis, *, ttl_s: int = JOINED_TTL_S) -> None:
        self._redis = redis
        self._ttl_s = ttl_s

    async def join(self, team_id: str, channel_id: str, thread_ts: str) -> None:
        await self._redis.set(joined_thread_key(team_id, channel_id, thread_ts), b"1", ex=self._ttl_s)

    async def joined(self, team_id: str, channel_id: str, thread_ts: str) -> bool:
        return bool(await self._redis.exists(joined_thread_key(team_id, channel_id, thread_ts)))
