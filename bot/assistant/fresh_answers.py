"""What a **Fresh answer** button re-asks, kept in Redis so the button carries nothing but a short key.

A button's value holds at most 2,000 characters, and JSON escapes every non-ASCII character as six, so a
question of a few hundred Japanese characters used to be cut mid-string and the click silently refused. Now
the question, its thread and the cache entry live here (30 days, like the message→request map), keyed by a
random token; a click names the token, and the request is rebuilt from what was stored.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis

from bot.redis.keys import fresh_answer_key

FRESH_TTL_S = 30 * 86400


@dataclass(frozen=True)
class FreshAnswerRecord:
    channel_id: str
    question: str
    thread_ts: str
    question_ts: str
    entry_id: str  # the cache entry the fresh answer replaces


class FreshAnswers:
    def __init__(self, redis: aioredis.Redis, *, ttl_s: int = FRESH_TTL_S) -> None:
        self._redis = redis
        self._ttl_s = ttl_s

    async def remember(self, team_id: str, record: FreshAnswerRecord) -> str:
        """Store the record; the returned key is what the button carries."""
        key = secrets.token_urlsafe(12)
        await self._redis.set(fresh_answer_key(team_id, key), json.dumps(asdict(record)), ex=self._ttl_s)
        return key

    async def lookup(self, team_id: str, key: str) -> FreshAnswerRecord | None:
        """None for an unknown, expired or malformed key (a tampered or very old button)."""
        if not key or len(key) > 64:
            return None
        raw = await self._redis.get(fresh_answer_key(team_id, key))
        if raw is None:
            return None
        try:
            return FreshAnswerRecord(**json.loads(raw))
        except (TypeError, ValueError):
            return None
