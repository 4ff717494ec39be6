"""Answer quality from 👍/👎: one vote per person and polarity, counted per model × task, logged for later.

Reactions are state, not events: people add and remove them, Slack may deliver an event twice, and several
replicas receive them. So a vote is a member of its answer's vote hash (``<user>:<good|bad>``, one hash per request
id); a Lua script changes the hash, the per model × task counters and the change log together, and only when the
hash actually changed — a repeated or out-of-order event cannot count twice or drive a counter below zero.

Bounded: an answer's vote hash expires with the message→request map (30 days; after that a reaction on the answer
is not recognised as feedback any more), the log is a capped stream, the counters are one field per model × task.
Votes from before the per-request hashes sit in one legacy hash that only ever shrinks.

Idempotent under retries: redis-py re-sends a command after a connection error even when Redis ran it. Each change
carries an operation id, and the script remembers (for a day) what that operation answered, so a re-sent change
returns the same answer and applies nothing.

The change log is what other parts read: the weekly digest takes a week of it for its
quality figures, and ``routing/learned/sync.py`` replays it into the learned scorer, because each vote carries the
prompt's signature (``routing/learned/signatures.py``) and the tier that answered.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from routing.keys import (
    feedback_counters_key,
    feedback_legacy_votes_key,
    feedback_log_key,
    feedback_op_key,
    feedback_votes_key,
)
from vocabulary import TaskKind, Tier

# KEYS: the answer's votes hash, log stream, counters hash, this operation's memo, the legacy votes hash.
# ARGV: vote field, 'add' | 'remove', counter field, approximate log length cap, votes ttl, memo ttl, legacy field,
# then the log entry's field/values. Returns the log entry id when the vote changed something, else false.
_APPLY = """
local done = redis.call('GET', KEYS[4])
if done then
  if done == '' then return false end
  return done
end
local changed
if ARGV[2] == 'add' then
  changed = redis.call('HEXISTS', KEYS[5], ARGV[7]) == 0 and redis.call('HSETNX', KEYS[1], ARGV[1], '1') == 1
else
  changed = redis.call('HDEL', KEYS[1], ARGV[1]) == 1 or redis.call('HDEL', KEYS[5], ARGV[7]) == 1
end
local result = ''
if changed then
  redis.call('HINCRBY', KEYS[3], ARGV[3], ARGV[2] == 'add' and 1 or -1)
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
  result = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, 8))
end
redis.call('SET', KEYS[4], result, 'EX', tonumber(ARGV[6]))
if result == '' then return false end
return result
"""

VOTES_TTL_S = 30 * 86400  # as long as bot/feedback/answer_map.py remembers which request a reply answered
OP_MEMO_TTL_S = 86400  # a re-sent command arrives within seconds; a day is plenty
DEFAULT_LOG_CAP = 50_000  # well above the learned scorer's memory (20k votes); a week of any real workspace


@dataclass(frozen=True)
class Vote:
    """One person's 👍 (``good``) or 👎 on one answer, with what produced the answer."""

    team_id: str
    channel_id: str
    request_id: str
    user_id: str
    good: bool
    model: str
    tier: Tier | None
    task: TaskKind | None
    signature: bytes = b""  # routing.learned.signatures.prompt_signature of the question; empty when none was kept

    @property
    def field(self) -> str:
        """Who voted which way on which answer: unique per person, polarity and request."""
        return f"{self.request_id}:{self.user_id}:{'good' if self.good else 'bad'}"

    @property
    def answer_field(self) -> str:
        """The vote within its answer's own hash."""
        return f"{self.user_id}:{'good' if self.good else 'bad'}"

    @property
    def counter_field(self) -> str:
        return f"{self.model}|{self.task or ''}|{'good' if self.good else 'bad'}"


@dataclass(frozen=True)
class FeedbackEvent:
    """One change in the log: a vote ``added`` (or removed), at ``at`` (seconds since the epoch)."""

    event_id: str
    at: float
    added: bool
    vote: Vote


class FeedbackLog:
    """Votes of every workspace, each workspace under its own keys; reads are always scoped by team."""

    def __init__(
        self, redis: aioredis.Redis, *, log_cap: int = DEFAULT_LOG_CAP, votes_ttl_s: int = VOTES_TTL_S
    ) -> None:
        self._redis = redis
        self._apply = redis.register_script(_APPLY)
        self._log_cap = log_cap
        self._votes_ttl_s = votes_ttl_s

    async def add(self, vote: Vote, *, op_id: str | None = None) -> bool:
        """Count the vote; False when this person's vote of this polarity was already counted.

        ``op_id`` (a fresh id by default) names this change, so that a re-sent command gets the same answer.
        """
        return await self._change(vote, "add", op_id or uuid.uuid4().hex)

    async def remove(self, vote: Vote, *, op_id: str | None = None) -> bool:
        """Take the vote back; False when there was none to take back."""
        return await self._change(vote, "remove", op_id or uuid.uuid4().hex)

    async def _change(self, vote: Vote, op: str, op_id: str) -> bool:
        entry: dict[str, str | bytes] = {
            "op": op,
            "channel": vote.channel_id,
            "request": vote.request_id,
            "user": vote.user_id,
            "good": "1" if vote.good else "0",
            "model": vote.model,
            "tier": vote.tier or "",
            "task": vote.task or "",
            "sig": vote.signature,
        }
        flat: list[str | bytes | int] = []
        for key, value in entry.items():
            flat.extend((key, value))
        team = vote.team_id
        added = await self._apply(
            keys=[
                feedback_votes_key(team, vote.request_id),
                feedback_log_key(team),
                feedback_counters_key(team),
                feedback_op_key(team, op_id),
                feedback_legacy_votes_key(team),
            ],
            args=[
                vote.answer_field,
                op,
                vote.counter_field,
                self._log_cap,
                self._votes_ttl_s,
                OP_MEMO_TTL_S,
                vote.field,
                *flat,
            ],
        )
        return added is not None

    async def events(
        self,
        team_id: str,
        *,
        channel_id: str | None = None,
        after_id: str | None = None,
        start: float | None = None,
        end: float | None = None,
        count: int = 10_000,
    ) -> list[FeedbackEvent]:
        """Changes in log order, after ``after_id`` (exclusive) or between ``start`` and ``end`` (seconds)."""
        low = f"({after_id}" if after_id else (f"{int(start * 1000)}" if start is not None else "-")
        high = f"{int(end * 1000)}" if end is not None else "+"
        rows = await self._redis.xrange(feedback_log_key(team_id), min=low, max=high, count=count)
        events = [_event(team_id, entry_id, fields) for entry_id, fields in rows or []]
        return [e for e in events if channel_id is None or e.vote.channel_id == channel_id]

    async def first_id(self, team_id: str) -> str | None:
        """The oldest change still in the log (older ones were trimmed), or None when the log is empty."""
        rows = await self._redis.xrange(feedback_log_key(team_id), count=1)
        return _text(rows[0][0]) if rows else None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _event(team_id: str, entry_id: Any, fields: Any) -> FeedbackEvent:
    raw = {_text(k): v for k, v in fields.items()}
    event_id = _text(entry_id)
    vote = Vote(
        team_id=team_id,
        channel_id=_text(raw["channel"]),
        request_id=_text(raw["request"]),
        user_id=_text(raw["user"]),
        good=_text(raw["good"]) == "1",
        model=_text(raw["model"]),
        tier=Tier(_text(raw["tier"])) if _text(raw["tier"]) else None,
        task=TaskKind.parse(_text(raw["task"])),
        signature=bytes(raw.get("sig", b"")),
    )
    return FeedbackEvent(
        event_id=event_id, at=int(event_id.split("-")[0]) / 1000, added=_text(raw["op"]) == "add", vote=vote
    )
