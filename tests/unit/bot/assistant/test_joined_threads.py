"""Joined threads are bounded: each one is a key that expires, so the set of them cannot grow without end."""

from __future__ import annotations

from bot.assistant.joined_threads import JOINED_TTL_S, JoinedThreads
from bot.redis.connection import plain_client


async def test_a_joined_thread_is_remembered_and_expires(redis_url: str) -> None:
    client = plain_client(redis_url)
    threads = JoinedThreads(client)
    try:
        await threads.join("T1", "C1", "111.222")
        assert await threads.joined("T1", "C1", "111.222")
        assert not await threads.joined("T1", "C2", "111.222")
        keys = [key async for key in client.scan_iter(match="penny:{T1}:joined:*")]
        ttls = [await client.ttl(key) for key in keys]
        assert ttls and all(0 < ttl <= JOINED_TTL_S for ttl in ttls)
    finally:
        await client.aclose()
