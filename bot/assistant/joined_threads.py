"""Threads Penny has joined: who it answered there, and who wrote the latest message (for thread manners).

Remembered in Redis with a TTL (so replicas agree and stale threads age out), one hash per thread keyed by
workspace and channel: ``asker:<user>`` for everyone Penny answered, ``last`` for the latest author (``penny``
right after Penny replied). ``bot/assistant/manners.py`` decides from that state; updating it costs one Redis
call per human message in a joined thread, never a Slack call.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.assistant.manners import PENNY, ThreadState
from bot.redis.keys import joined_thread_key

JOINED_TTL_S = 14 * 86400

# Only a thread Penny joined has state: an author is recorded there, never a new (TTL-less) key created.
_SAW = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'last', ARGV[1])
  return 1
end
return 0
"""


class JoinedThreads:
    def __init__(self, redis: aioredis.Redis, *, ttl_s: int = JOINED_TTL_S) -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._saw = redis.register_script(_SAW)

    async def join(self, team_id: str, channel_id: str, thread_ts: str, *, asker: str = "") -> None:
        """Penny replied in the thread to ``asker``: its reply is now the latest message."""
        key = joined_thread_key(team_id, channel_id, thread_ts)
        mapping: dict[str | bytes, str | bytes | int | float] = {"last": PENNY}
        if asker:
            mapping[f"asker:{asker}"] = "1"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=mapping)  # type: ignore[arg-type]
            pipe.expire(key, self._ttl_s)
            await pipe.execute()

    async def state(self, team_id: str, channel_id: str, thread_ts: str) -> ThreadState | None:
        """None for a thread Penny never joined (or one that aged out)."""
        raw = await self._redis.hgetall(joined_thread_key(team_id, channel_id, thread_ts))
        if not raw:
            return None
        fields = {(k.decode() if isinstance(k, bytes) else str(k)): v for k, v in raw.items()}
        last = fields.get("last", b"")
        return ThreadState(
            askers=frozenset(name.removeprefix("asker:") for name in fields if name.startswith("asker:")),
            last_author=last.decode() if isinstance(last, bytes) else str(last),
        )

    async def joined(self, team_id: str, channel_id: str, thread_ts: str) -> bool:
        return await self.state(team_id, channel_id, thread_ts) is not None

    async def saw(self, team_id: str, channel_id: str, thread_ts: str, author: str) -> None:
        """A person's message is now the thread's latest (answered or not)."""
        await self._saw(keys=[joined_thread_key(team_id, channel_id, thread_ts)], args=[author])
