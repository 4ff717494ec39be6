"""A per-workspace budget for the Slack methods that show replies, shared by every replica through Redis.

Slack rate-limits each method per workspace: ``chat.update`` is tier 3 (about 50 a minute), ``chat.appendStream``
tier 4 (about 100), ``chat.startStream`` and ``chat.stopStream`` tier 2 (about 20). With many replies streaming at
once, the per-message throttle alone runs into 429s, and a 429 stalls every reply of the workspace. So each call
first takes a slot from a sliding one-minute window per method — the same rule Slack applies — and calls that
would not fit are skipped (progress) or wait for a slot (finals) instead of being refused by Slack.

Calls are not equally useful. A final edit must land, and every reply still streaming will need one; a progress
edit only shows more of what is already moving. So every reply *holds* a place for its final call while it is in
flight, and progress calls leave that many slots free: twenty replies finishing together all find a slot at once,
however busy their progress edits were (the design behind "final text within about 2 s of the last token").
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import redis.asyncio as aioredis
import structlog

from bot.redis.keys import slack_budget_key, slack_inflight_key

log = structlog.get_logger(__name__)

# KEYS: the method's call window, its in-flight replies. ARGV: limit, window ms, progress (0/1), member.
# Returns 0 when granted, -1 for a refused progress call, else milliseconds until the oldest call leaves the window.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local reserve = 0
if ARGV[3] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  reserve = redis.call('ZCARD', KEYS[2])
end
if count + reserve < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window + 1000)
  return 0
end
if ARGV[3] == '1' then
  return -1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""

# KEYS: the method's call window, its in-flight replies. ARGV: limit, window ms. 1 when a new reply's final call
# would find a slot now (calls in the window plus places held leave one), else 0. Takes nothing.
_ROOM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[1]) then
  return 1
end
return 0
"""

UPDATE = "chat.update"
APPEND = "chat.appendStream"
START = "chat.startStream"
STOP = "chat.stopStream"
DEFAULT_LIMITS: Mapping[str, float] = {UPDATE: 50, APPEND: 100, START: 20, STOP: 20}


class UpdateBudget:
    """Sliding one-minute windows of calls per workspace and method, with places held for final calls."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        per_minute: Mapping[str, float] = DEFAULT_LIMITS,
        window_s: float = 60.0,
        inflight_ttl_s: float = 300.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._limits = dict(per_minute)
        self._window_ms = int(window_s * 1000)
        self._inflight_ttl_s = inflight_ttl_s
        self._take = redis.register_script(_TAKE)
        self._room = redis.register_script(_ROOM)
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock

    async def _attempt(self, team_id: str, method: str, *, progress: bool) -> int:
        limit = self._limits.get(method)
        if limit is None:
            return 0
        keys = [slack_budget_key(team_id, method), slack_inflight_key(team_id, method)]
        args = [int(limit), self._window_ms, 1 if progress else 0, uuid.uuid4().hex]
        return int(await self._take(keys=keys, args=args))

    async def try_take(self, team_id: str, method: str, *, progress: bool = False) -> bool:
        """A slot now, or False. A ``progress`` call also leaves one slot per in-flight reply free."""
        return await self._attempt(team_id, method, progress=progress) == 0

    async def has_room(self, team_id: str, method: str) -> bool:
        """Whether a reply opened now would find a slot for its final call at once (nothing is taken).

        Past Slack's minute of finals (``chat.update`` is 50 a minute per workspace), a placeholder posted now would
        wait up to a minute for the edit that shows its answer; the streamer posts the answer whole instead.
        """
        limit = self._limits.get(method)
        if limit is None:
            return True
        keys = [slack_budget_key(team_id, method), slack_inflight_key(team_id, method)]
        return bool(await self._room(keys=keys, args=[int(limit), self._window_ms]))

    async def take(self, team_id: str, method: str, *, max_wait_s: float = 60.0) -> bool:
        """A slot for a call that must happen: wait for one, never longer than ``max_wait_s`` (then the call goes
        anyway, and Slack's ``Retry-After`` takes over). True when a slot was granted."""
        deadline = self._clock() + max_wait_s
        while True:
            wait_ms = await self._attempt(team_id, method, progress=False)
            if wait_ms == 0:
                return True
            left = deadline - self._clock()
            if left <= 0:
                return False
            await self._sleep(min(wait_ms / 1000, left, 1.0))

    async def hold(self, team_id: str, method: str, reply_id: str) -> None:
        """Keep a place for ``reply_id``'s final call (it expires on its own if the reply's worker dies)."""
        if method in self._limits:
            expiry = int((self._wall_clock() + self._inflight_ttl_s) * 1000)
            await self._redis.zadd(slack_inflight_key(team_id, method), {reply_id: expiry})

    async def release(self, team_id: str, method: str, reply_id: str) -> None:
        if method in self._limits:
            await self._redis.zrem(slack_inflight_key(team_id, method), reply_id)

    def for_team(self, team_id: str) -> TeamBudget:
        return TeamBudget(self, team_id)


@dataclass(frozen=True)
class TeamBudget:
    """The budget of one workspace, in the shape the delivery code asks for.

    Redis trouble never stops an answer: a final call then goes ahead (Slack's own 429s pace it), a progress
    call is skipped.
    """

    budget: UpdateBudget
    team_id: str

    async def try_take(self, method: str, *, progress: bool = False) -> bool:
        try:
            return await self.budget.try_take(self.team_id, method, progress=progress)
        except Exception:
            log.warning("slack_budget.unavailable", method=method, exc_info=True)
            return not progress

    async def has_room(self, method: str) -> bool:
        try:
            return await self.budget.has_room(self.team_id, method)
        except Exception:
            log.warning("slack_budget.unavailable", method=method, exc_info=True)
            return True  # a placeholder, as without a budget

    async def take(self, method: str) -> bool:
        try:
            return await self.budget.take(self.team_id, method)
        except Exception:
            log.warning("slack_budget.unavailable", method=method, exc_info=True)
            return False

    async def hold(self, method: str, reply_id: str) -> None:
        try:
            await self.budget.hold(self.team_id, method, reply_id)
        except Exception:
            log.warning("slack_budget.unavailable", method=method, exc_info=True)

    async def release(self, method: str, reply_id: str) -> None:
        try:
            await self.budget.release(self.team_id, method, reply_id)
        except Exception:
            log.warning("slack_budget.unavailable", method=method, exc_info=True)


class NoBudget:
    """No shared budget (tests, or a deployment that lets Slack's 429s do the pacing): every call may go."""

    async def try_take(self, method: str, *, progress: bool = False) -> bool:
        return True

    async def has_room(self, method: str) -> bool:
        return True

    async def take(self, method: str) -> bool:
        return True

    async def hold(self, method: str, reply_id: str) -> None:
        return None

    async def release(self, method: str, reply_id: str) -> None:
        return None
