"""Per-user request limits (per hour and per day), counted in Redis so every replica sees the same count.

Fixed windows (the clock hour and the UTC day) rather than sliding ones: a user can read "20 per hour" off a
clock, and the check is one atomic script. A refused request is not counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import redis.asyncio as aioredis

from routing.keys import user_requests_key
from routing.policy import UserLimits

# KEYS: counters; ARGV: (limit, ttl) per key, limit -1 = unlimited. Returns 0 if counted, else the index refused.
_COUNT = """
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i - 1])
  if limit >= 0 and tonumber(redis.call('GET', key) or '0') >= limit then
    return i
  end
end
for i, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('EXPIRE', key, tonumber(ARGV[2 * i]))
end
return 0
"""


@dataclass(frozen=True)
class LimitVerdict:
    allowed: bool
    window: str | None = None  # "hour" or "day" when refused
    limit: int | None = None


class UserRateLimiter:
    def __init__(self, redis: aioredis.Redis, limits: UserLimits, *, clock: Callable[[], float] = time.time):
        self._limits = limits
        self._clock = clock
        self._count = redis.register_script(_COUNT)

    async def check_and_count(self, team_id: str, user_id: str, *, now: float | None = None) -> LimitVerdict:
        moment = datetime.fromtimestamp(self._clock() if now is None else now, tz=UTC)
        windows = [
            ("hour", f"hour:{moment:%Y-%m-%dT%H}", self._limits.per_hour, 2 * 3600),
            ("day", f"day:{moment:%Y-%m-%d}", self._limits.per_day, 2 * 86400),
        ]
        keys = [user_requests_key(team_id, user_id, w) for _, w, _, _ in windows]
        args: list[int] = []
        for _, _, limit, ttl in windows:
            args += [-1 if limit is None else limit, ttl]
        refused = int(await self._count(keys=keys, args=args))
        if refused == 0:
            return LimitVerdict(True)
        name, _, limit, _ = windows[refused - 1]
        return LimitVerdict(False, name, limit)
