"""A per-workspace budget for ``chat.update``, shared by every replica through Redis.

Slack allows roughly one edit per second per message, but ``chat.update`` also has a workspace-wide rate tier
(about 50 a minute). With many replies streaming at once, per-message throttling alone would run into 429s, and
every 429 stalls all of Penny's edits in that workspace. So intermediate streaming edits draw from a token bucket
per workspace: when it is empty they are skipped (the next flush shows more text at once), while final edits wait
for a token (briefly) and are never dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.redis.keys import slack_budget_key

_TAKE = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local keep = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', key, 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate)
local granted = 0
if tokens >= 1 + keep then
  tokens = tokens - 1
  granted = 1
end
redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', key, math.ceil(burst / rate) + 60)
return granted
"""


class UpdateBudget:
    """Token bucket: ``per_minute`` edits a minute per workspace, up to ``burst`` at once.

    Edits are not equally useful. A final edit must land; the first words of a reply are what tells people
    it is coming; a further progress edit only shows more of what is already moving. So progress edits leave
    ``progress_reserve`` tokens in the bucket for the other two, and under load replies still finish on time
    instead of every token going to refresh streams that already show something.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        per_minute: float = 50.0,
        burst: int = 10,
        progress_reserve: int = 5,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = burst
        self._progress_reserve = min(progress_reserve, burst - 1)
        self._take = redis.register_script(_TAKE)
        self._sleep = sleep
        self._clock = clock

    async def try_take(self, team_id: str, *, progress: bool = False) -> bool:
        """One token for an intermediate edit, if there is one now (beyond the reserve, for a ``progress`` edit)."""
        keep = self._progress_reserve if progress else 0
        return bool(await self._take(keys=[slack_budget_key(team_id)], args=[self._rate, self._burst, keep]))

    async def take(self, team_id: str, *, max_wait_s: float = 10.0) -> None:
        """A token for a final edit: wait for one, but never longer than ``max_wait_s`` (Slack's 429 handling
        takes over after that; a final answer is never dropped)."""
        deadline = self._clock() + max_wait_s
        while not await self.try_take(team_id) and self._clock() < deadline:
            await self._sleep(min(1.0 / self._rate, 0.5))

    def for_team(self, team_id: str) -> TeamUpdateBudget:
        return TeamUpdateBudget(self, team_id)


@dataclass(frozen=True)
class TeamUpdateBudget:
    """The budget of one workspace, in the shape ``MessageStreamer`` asks for."""

    budget: UpdateBudget
    team_id: str

    async def try_take(self, *, progress: bool = False) -> bool:
        return await self.budget.try_take(self.team_id, progress=progress)

    async def take(self) -> None:
        await self.budget.take(self.team_id)
