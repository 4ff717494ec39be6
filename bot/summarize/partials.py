"""Partial summaries kept in Redis, so a repeated or overlapping ``/summarize`` pays only for what is new.

A map step's output — the summary of one chunk (``chunks.stable_chunks``) — is stored under a key made of the
chunk's content (every message id, edit version and text), the map prompt's version and the tier of the model
that wrote it, inside the source conversation's scope: the key names the channel it was read from, so a private
channel's partials only ever serve summaries of that same channel (and Penny only reads a conversation for
someone who may read it). Keys expire after a bounded TTL (a week of daily summaries and a day to spare, by
default).

An edit or deletion of a message deletes exactly the partials built from it: each message id has an index set
of the partials that contain it. The content key alone would already stop a stale partial from being served (an
edit changes the version); the index also removes the old text's summary from Redis.

Best-effort, like every cache: a Redis error here is logged and the summary is made as if nothing were stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from bot.redis.keys import summary_partial_index_key, summary_partial_key
from vocabulary import Tier

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Partial:
    """One chunk's summary and what making it took, so a reuse can say what it saved."""

    text: str
    model: str
    tier: Tier
    cost: Decimal  # what the map call cost
    latency_ms: int  # how long the map call took

    def dump(self) -> str:
        return json.dumps(
            {
                "text": self.text,
                "model": self.model,
                "tier": str(self.tier),
                "cost": str(self.cost),
                "latency_ms": self.latency_ms,
            }
        )

    @classmethod
    def load(cls, raw: bytes | str) -> Partial | None:
        """The stored partial, or None for anything unreadable (treated as a miss, never as an error)."""
        try:
            data = json.loads(raw)
            return cls(
                text=str(data["text"]),
                model=str(data["model"]),
                tier=Tier(data["tier"]),
                cost=Decimal(data["cost"]),
                latency_ms=int(data["latency_ms"]),
            )
        except (ValueError, KeyError, TypeError, ArithmeticError):
            return None


def partial_key(chunk_digest: str, *, tier: Tier, prompt_version: str) -> str:
    """What a partial is stored under (within its channel): the chunk's content, the map prompt and the tier."""
    return hashlib.sha256(f"{prompt_version}\x1f{tier}\x1f{chunk_digest}".encode()).hexdigest()[:40]


class PartialSummaries(Protocol):
    """``PartialStore`` in production; ``NoPartials`` when reuse is off (``PENNY_SUMMARY_PARTIAL_TTL_DAYS=0``)."""

    @property
    def remembers(self) -> bool:
        """Whether a partial outlives its request: only then are chunks cut for reuse rather than packed full."""
        ...

    async def find(self, team_id: str, channel_id: str, keys: Sequence[str]) -> dict[str, Partial]: ...

    async def keep(
        self, team_id: str, channel_id: str, key: str, partial: Partial, message_ts: Sequence[str]
    ) -> None: ...

    async def forget_message(self, team_id: str, channel_id: str, message_ts: str) -> int: ...


class PartialStore:
    def __init__(self, redis: aioredis.Redis, *, ttl_s: int) -> None:
        self._redis = redis
        self._ttl_s = ttl_s

    @property
    def remembers(self) -> bool:
        return True

    async def find(self, team_id: str, channel_id: str, keys: Sequence[str]) -> dict[str, Partial]:
        """The stored partials among ``keys`` (one round trip), by key."""
        if not keys:
            return {}
        try:
            raw = await self._redis.mget([summary_partial_key(team_id, channel_id, key) for key in keys])
        except RedisError:
            log.warning("summary_partials.read_failed", channel_id=channel_id, exc_info=True)
            return {}
        found = {}
        for key, value in zip(keys, raw, strict=True):
            partial = Partial.load(value) if value is not None else None
            if partial is not None:
                found[key] = partial
        return found

    async def keep(self, team_id: str, channel_id: str, key: str, partial: Partial, message_ts: Sequence[str]) -> None:
        """Store one partial and index it under every message it was made from, all with the same TTL."""
        name = summary_partial_key(team_id, channel_id, key)
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(name, partial.dump(), ex=self._ttl_s)
        for ts in message_ts:
            index = summary_partial_index_key(team_id, channel_id, ts)
            pipe.sadd(index, key)
            pipe.expire(index, self._ttl_s)
        try:
            await pipe.execute()
        except RedisError:
            log.warning("summary_partials.write_failed", channel_id=channel_id, exc_info=True)

    async def forget_message(self, team_id: str, channel_id: str, message_ts: str) -> int:
        """Delete every partial built from this message (it was edited or deleted); how many there were."""
        index = summary_partial_index_key(team_id, channel_id, message_ts)
        try:
            keys = [k.decode() if isinstance(k, bytes) else str(k) for k in await self._redis.smembers(index)]
            await self._redis.delete(*[summary_partial_key(team_id, channel_id, k) for k in keys], index)
        except RedisError:
            log.warning("summary_partials.forget_failed", channel_id=channel_id, exc_info=True)
            return 0
        if keys:
            log.info("summary_partials.forgotten", channel_id=channel_id, partials=len(keys))
        return len(keys)


class NoPartials:
    """Reuse off: nothing is found or kept, and summaries pack their chunks as full as a call allows."""

    @property
    def remembers(self) -> bool:
        return False

    async def find(self, team_id: str, channel_id: str, keys: Sequence[str]) -> dict[str, Partial]:
        return {}

    async def keep(self, team_id: str, channel_id: str, key: str, partial: Partial, message_ts: Sequence[str]) -> None:
        return None

    async def forget_message(self, team_id: str, channel_id: str, message_ts: str) -> int:
        return 0
