"""The message→request map: which request, model and tier produced each of Penny's reply messages.

A 👍 arrives minutes or days after the answer, on whichever replica Slack picked, naming only a channel and a
message ts. To turn it into a quality vote we need what produced that message, so every answer (and cached
answer) is remembered here under each of its message ts — a long reply split over several messages maps each
part. What is kept is ids, the model and tier, the cache entry served or stored, and the prompt's signature
(vector and counts, ``routing/learned/signatures.py``) — never the question or the answer text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.redis.keys import answer_message_key, parked_reactions_key
from bot.request import Reaction
from vocabulary import RequestOutcome, TaskKind, Tier

DEFAULT_TTL_S = 30 * 86400  # feedback on month-old answers is rare; the map must not grow forever
# A thumb on a reply still being written waits this long for its answer to be recorded (a reply streams for
# minutes at most); after that it is dropped like any reaction on a message that is not an answer.
PARKED_TTL_S = 15 * 60


@dataclass(frozen=True)
class AnsweredMessage:
    """What produced one reply: enough to count a vote on it and to act on it (evict a bad cached answer)."""

    request_id: str
    team_id: str
    channel_id: str
    task: TaskKind | None
    model: str
    tier: Tier | None
    outcome: RequestOutcome  # answered or cache_hit
    cache_entry: str = ""  # the entry served (cache hit) or stored from this answer, if any
    signature: bytes = b""


class AnswerMap:
    def __init__(self, redis: aioredis.Redis, *, ttl_s: int = DEFAULT_TTL_S) -> None:
        self._redis = redis
        self._ttl_s = ttl_s

    async def remember(self, answer: AnsweredMessage, message_ts: Sequence[str]) -> None:
        """Map every message of the reply to the answer (replacing what an edited-in-place message meant before)."""
        fields: dict[str, str | bytes] = {
            "request_id": answer.request_id,
            "task": answer.task or "",
            "model": answer.model,
            "tier": answer.tier or "",
            "outcome": answer.outcome,
            "cache_entry": answer.cache_entry,
            "signature": answer.signature,
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            for ts in message_ts:
                key = answer_message_key(answer.team_id, answer.channel_id, ts)
                pipe.delete(key)
                pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
                pipe.expire(key, self._ttl_s)
            await pipe.execute()

    async def park(self, reaction: Reaction) -> None:
        """Keep a thumb put on one of Penny's messages before its answer was recorded (it was still streaming)."""
        key = parked_reactions_key(reaction.team_id, reaction.channel_id, reaction.message_ts)
        value = json.dumps({"user": reaction.user_id, "good": reaction.good, "added": reaction.added})
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, value)
            pipe.expire(key, PARKED_TTL_S)
            await pipe.execute()

    async def take_parked(self, team_id: str, channel_id: str, message_ts: Sequence[str]) -> list[Reaction]:
        """The thumbs parked on these messages, in the order they came, handed out once (read and deleted in one
        transaction, one round trip for all of a reply's messages)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            for ts in message_ts:
                key = parked_reactions_key(team_id, channel_id, ts)
                pipe.lrange(key, 0, -1)
                pipe.delete(key)
            results = await pipe.execute()
        return [
            Reaction(team_id, channel_id, ts, str(p["user"]), bool(p["good"]), bool(p["added"]), True)
            for ts, raw in zip(message_ts, results[::2], strict=True)
            for p in map(json.loads, raw)
        ]

    async def lookup(self, team_id: str, channel_id: str, message_ts: str) -> AnsweredMessage | None:
        """The answer behind a message of this channel, or None (not Penny's, or forgotten)."""
        raw = await self._redis.hgetall(answer_message_key(team_id, channel_id, message_ts))
        if not raw:
            return None
        fields: dict[str, bytes] = {_raw(k).decode(): _raw(v) for k, v in raw.items()}

        def text(name: str) -> str:
            return fields.get(name, b"").decode()

        return AnsweredMessage(
            request_id=text("request_id"),
            team_id=team_id,
            channel_id=channel_id,
            task=TaskKind.parse(text("task")),
            model=text("model"),
            tier=Tier(text("tier")) if text("tier") else None,
            outcome=RequestOutcome(text("outcome")),
            cache_entry=text("cache_entry"),
            signature=fields.get("signature", b""),
        )


def _raw(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()
