"""Model health: rolling error rate and p99 time-to-first-token per model, in Redis so every replica agrees.

A model whose p99 first-token time goes over its own threshold (with at least ``min_slow_calls`` calls that slow:
the p99 of a handful of calls is just the slowest one), or that fails ≥ 50% of ≥ 5 calls in the window, is taken
out of rotation for a cool-down. After that exactly one request — the holder of a Redis lock
taken with ``SET NX PX`` — probes it; success puts it back, failure starts a new cool-down. Recording a call
and deciding to trip is one Lua script, so two replicas can never disagree about a half-applied update.

Time comes from an injected clock (``now=``) and is passed into the scripts, never read from Redis, so tests
can move through windows and cool-downs without sleeping.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

import redis.asyncio as aioredis
import structlog

from routing.catalog import Catalog
from routing.keys import health_calls_key, health_cooldown_key, health_probe_key
from routing.policy import HealthPolicy

log = structlog.get_logger(__name__)

# KEYS: calls, cooldown_until, probe lock.
# ARGV: now, member, window_s, min_calls, max_error_rate, ttft_threshold_ms, cooldown_s, probe_token, ok,
#       min_slow_calls
_RECORD = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[3])
local cooldown = tonumber(ARGV[7])
local probe = ARGV[8]
local ok = ARGV[9] == '1'
if probe ~= '' then
  if redis.call('GET', KEYS[3]) == probe then redis.call('DEL', KEYS[3]) end
  redis.call('DEL', KEYS[1])
  if ok then
    redis.call('DEL', KEYS[2])
    return 'restored'
  end
  redis.call('SET', KEYS[2], tostring(now + cooldown))
  return 'tripped'
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 'cooling'
end
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. tostring(now - window))
redis.call('EXPIRE', KEYS[1], math.ceil(window * 2))
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local n = #members
if n < tonumber(ARGV[4]) then return 'ok' end
local errors = 0
local ttfts = {}
for _, m in ipairs(members) do
  local flag, ttft = string.match(m, ':(%d):(%-?%d+)$')
  if flag == '0' then errors = errors + 1 end
  local t = tonumber(ttft)
  if t and t >= 0 then table.insert(ttfts, t) end
end
local threshold = tonumber(ARGV[6])
local p99 = 0
local slow = 0
if #ttfts > 0 then
  table.sort(ttfts)
  p99 = ttfts[math.ceil(0.99 * #ttfts)]
  for _, t in ipairs(ttfts) do
    if t > threshold then slow = slow + 1 end
  end
end
if errors / n >= tonumber(ARGV[5]) or (p99 > threshold and slow >= tonumber(ARGV[10])) then
  redis.call('SET', KEYS[2], tostring(now + cooldown))
  redis.call('DEL', KEYS[1])
  return 'tripped'
end
return 'ok'
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class ModelState(StrEnum):
    HEALTHY = "healthy"
    COOLING = "cooling"  # out of rotation until its cool-down ends
    PROBE_DUE = "probe_due"  # cool-down over: the next request holding the probe lock may try it


@dataclass(frozen=True)
class HealthStats:
    calls: int
    errors: int
    p99_ttft_s: float | None


class Health:
    """Shared per-model health. ``record`` after every attempt; the router asks ``states`` and ``acquire_probe``."""

    def __init__(
        self,
        redis: aioredis.Redis,
        catalog: Catalog,
        policy: HealthPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._catalog = catalog
        self._policy = policy or catalog.policy.health
        self._clock = clock
        self._record = redis.register_script(_RECORD)
        self._release = redis.register_script(_RELEASE)

    def _now(self, now: float | None) -> float:
        return self._clock() if now is None else now

    async def states(self, model_ids: Iterable[str], *, now: float | None = None) -> dict[str, ModelState]:
        ids = list(model_ids)
        at = self._now(now)
        # One GET per model in a pipeline, not an MGET: each model's keys have their own hash slot
        # ({health:<model>}), and a Redis Cluster refuses a multi-key command across slots.
        pipe = self._redis.pipeline(transaction=False)
        for model_id in ids:
            pipe.get(health_cooldown_key(model_id))
        values = await pipe.execute() if ids else []
        result: dict[str, ModelState] = {}
        for model_id, until in zip(ids, values, strict=True):
            if until is None:
                result[model_id] = ModelState.HEALTHY
            elif at < float(until):
                result[model_id] = ModelState.COOLING
            else:
                result[model_id] = ModelState.PROBE_DUE
        return result

    async def acquire_probe(self, model_id: str) -> str | None:
        """The probe lock's token if this caller won it (exactly one caller across replicas), else None."""
        token = uuid.uuid4().hex
        lock_ms = int(self._policy.probe_lock_s * 1000)
        won = await self._redis.set(health_probe_key(model_id), token, nx=True, px=lock_ms)
        return token if won else None

    async def release_probe(self, model_id: str, token: str) -> None:
        """Give back an unused probe lock (the request was answered before reaching that model)."""
        await self._release(keys=[health_probe_key(model_id)], args=[token])

    async def record(
        self, model_id: str, *, ok: bool, ttft_s: float | None, now: float | None = None, probe_token: str | None = None
    ) -> str:
        """Record one attempt; returns ``ok``, ``tripped``, ``restored`` (probe succeeded) or ``cooling``.

        ``ttft_s`` is the time to the first token (for a first-token timeout: the time waited); None when the
        call failed before it could say anything about latency (a 429, a refused connection).
        """
        at = self._now(now)
        threshold = self._catalog.ttft_threshold_s(self._catalog.model(model_id))
        ttft_ms = -1 if ttft_s is None else round(ttft_s * 1000)
        member = f"{at:.6f}:{uuid.uuid4().hex[:12]}:{int(ok)}:{ttft_ms}"
        keys = [health_calls_key(model_id), health_cooldown_key(model_id), health_probe_key(model_id)]
        args: list[str | int | float] = [
            repr(at),
            member,
            self._policy.window_s,
            self._policy.min_calls,
            self._policy.max_error_rate,
            round(threshold * 1000),
            self._policy.cooldown_s,
            probe_token or "",
            int(ok),
            self._policy.min_slow_calls,
        ]
        raw = await self._record(keys=keys, args=args)
        verdict = raw.decode() if isinstance(raw, bytes) else str(raw)
        if verdict in ("tripped", "restored"):
            log.info(f"health.{verdict}", model=model_id, probe=probe_token is not None)
        return verdict

    async def stats(self, model_id: str, *, now: float | None = None) -> HealthStats:
        """The current window, for dashboards and tests."""
        at = self._now(now)
        members = await self._redis.zrangebyscore(health_calls_key(model_id), at - self._policy.window_s, "+inf")
        errors = 0
        ttfts: list[int] = []
        for raw in members:
            member = raw.decode() if isinstance(raw, bytes) else str(raw)
            _, _, flag, ttft = member.rsplit(":", 3)
            errors += flag == "0"
            if int(ttft) >= 0:
                ttfts.append(int(ttft))
        ttfts.sort()
        p99 = ttfts[max(0, -(-99 * len(ttfts) // 100) - 1)] / 1000 if ttfts else None
        return HealthStats(len(members), errors, p99)
