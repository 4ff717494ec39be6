"""Workspace budgets: reserve the estimated cost atomically before a call, settle the actual cost after.

Why reserve instead of checking "spent < cap": twenty replies started at once would all see the same spent
total and all go ahead. A Lua script checks every period's cap and adds the reservation in one step, so the sum
of reservations can never pass a hard cap, whatever the concurrency or the number of replicas. Settling adds
the difference between actual and reserved cost. Money is integer nano-dollars in Redis (``routing/spend/cost.py``).

A reservation whose process dies before settling stays counted: budgets err on the side of spending less.

Every change is keyed by the reservation's id (one per request), because redis-py re-sends a command after a
connection error even when Redis already ran it: a hold record (``budget_hold_key``) says what the reservation
holds and whether it was settled, so a re-sent reserve, extend or settle finds its own work done and adds nothing.
Extend and settle name the amount they want the reservation to end at, never a difference.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import redis.asyncio as aioredis
import structlog

from routing.keys import budget_hold_key, budget_soft_note_key, budget_spent_key
from routing.policy import BudgetLimit, Budgets
from routing.spend.cost import from_nanos, to_nanos

log = structlog.get_logger(__name__)

# KEYS: the hold record, then one spent counter per period. ARGV: amount, hold ttl, then (cap, ttl) per counter;
# cap -1 means no cap. Returns 0 when reserved (or already reserved under this id), else the 1-based index of the
# period whose cap would be crossed.
_RESERVE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local amount = tonumber(ARGV[1])
if amount > 0 then
  for i = 2, #KEYS do
    local cap = tonumber(ARGV[2 * i - 1])
    if cap >= 0 and tonumber(redis.call('GET', KEYS[i]) or '0') + amount > cap then
      return i - 1
    end
  end
end
for i = 2, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[1])
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[2 * i]))
end
redis.call('HSET', KEYS[1], 'held', ARGV[1], 'settled', '0')
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 0
"""

# KEYS as for _RESERVE. ARGV: the amount to hold in all, hold ttl, what the caller believes is held (a hold record
# written before records existed, or expired), then (cap, ttl) per counter. Returns 0 when the reservation now
# holds at least that amount, -2 when it was settled already, else the index of the cap that forbids it.
_EXTEND = """
if redis.call('HGET', KEYS[1], 'settled') == '1' then return -2 end
local held = tonumber(redis.call('HGET', KEYS[1], 'held') or ARGV[3])
local extra = tonumber(ARGV[1]) - held
if extra <= 0 then return 0 end
for i = 2, #KEYS do
  local cap = tonumber(ARGV[2 * i])
  if cap >= 0 and tonumber(redis.call('GET', KEYS[i]) or '0') + extra > cap then
    return i - 1
  end
end
local step = string.format('%.0f', extra)
for i = 2, #KEYS do
  redis.call('INCRBY', KEYS[i], step)
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[2 * i + 1]))
end
redis.call('HSET', KEYS[1], 'held', ARGV[1], 'settled', '0')
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 0
"""

# KEYS as for _RESERVE. ARGV: the actual cost, hold ttl, what the caller believes is held, then one ttl per counter.
# Returns each counter's value after settling (a re-sent settle changes nothing and returns them as they are).
_SETTLE = """
local settled = redis.call('HGET', KEYS[1], 'settled') == '1'
local spent = {}
local held = tonumber(redis.call('HGET', KEYS[1], 'held') or ARGV[3])
local delta = string.format('%.0f', tonumber(ARGV[1]) - held)
for i = 2, #KEYS do
  if settled then
    spent[i - 1] = redis.call('GET', KEYS[i]) or '0'
  else
    spent[i - 1] = redis.call('INCRBY', KEYS[i], delta)
    redis.call('EXPIRE', KEYS[i], tonumber(ARGV[i + 2]))
  end
end
if not settled then
  redis.call('HSET', KEYS[1], 'held', ARGV[1], 'settled', '1')
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return spent
"""

_DAY_TTL_S = 3 * 86400
_MONTH_TTL_S = 40 * 86400
_HOLD_TTL_S = 86400  # far longer than any request; a re-sent command arrives within seconds


@dataclass
class Reservation:
    """Money held for one request; pass it back to ``extend`` / ``settle``. Settling twice is a no-op."""

    team_id: str
    periods: tuple[str, ...]
    nanos: int
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    settled: bool = False

    @property
    def amount(self) -> Decimal:
        return from_nanos(self.nanos)


@dataclass(frozen=True)
class BudgetState:
    """Where a workspace stands now: spent per period, and which limits are reached."""

    spent: dict[str, Decimal]
    soft_reached: tuple[str, ...]  # periods whose soft limit is reached
    hard_reached: tuple[str, ...]  # periods whose hard limit is reached

    @property
    def soft(self) -> bool:
        return bool(self.soft_reached)

    @property
    def hard(self) -> bool:
        return bool(self.hard_reached)


BudgetObserver = Callable[[str, BudgetState, Budgets], None]
"""Told what a workspace has spent whenever ``state`` reads it and whenever a settle changes it
(``bot/observability.py`` sets its gauges)."""


def _periods(now: float) -> tuple[str, str]:
    moment = datetime.fromtimestamp(now, tz=UTC)
    return f"day:{moment:%Y-%m-%d}", f"month:{moment:%Y-%m}"


def _cap(limit: BudgetLimit, which: str) -> int:
    value = limit.hard_usd if which == "hard" else limit.soft_usd
    return -1 if value is None else to_nanos(value)


class Budget:
    """Per-workspace daily and monthly spend, shared by all replicas through Redis."""

    def __init__(
        self,
        redis: aioredis.Redis,
        budgets: Budgets,
        *,
        clock: Callable[[], float] = time.time,
        observer: BudgetObserver | None = None,
    ) -> None:
        self._redis = redis
        self._budgets = budgets
        self._clock = clock
        self._observer = observer
        self._reserve = redis.register_script(_RESERVE)
        self._extend = redis.register_script(_EXTEND)
        self._settle = redis.register_script(_SETTLE)

    def _limits(self, now: float) -> list[tuple[str, BudgetLimit, int]]:
        day, month = _periods(now)
        return [(day, self._budgets.daily, _DAY_TTL_S), (month, self._budgets.monthly, _MONTH_TTL_S)]

    async def state(self, team_id: str, *, now: float | None = None) -> BudgetState:
        limits = self._limits(self._clock() if now is None else now)
        raw = await self._redis.mget([budget_spent_key(team_id, p) for p, _, _ in limits])
        return self._observed(team_id, [(period, limit) for period, limit, _ in limits], raw)

    def _observed(self, team_id: str, limits: list[tuple[str, BudgetLimit]], raw: list[Any]) -> BudgetState:
        """The state the counters' values say, told to the observer (read before routing, written by a settle)."""
        spent: dict[str, Decimal] = {}
        soft: list[str] = []
        hard: list[str] = []
        for (period, limit), value in zip(limits, raw, strict=True):
            nanos = int(value or 0)
            spent[period] = from_nanos(nanos)
            if (cap := _cap(limit, "hard")) >= 0 and nanos >= cap:
                hard.append(period)
            if (cap := _cap(limit, "soft")) >= 0 and nanos >= cap:
                soft.append(period)
        state = BudgetState(spent, tuple(soft), tuple(hard))
        if self._observer is not None:
            self._observer(team_id, state, self._budgets)
        return state

    def _keys_and_limits(self, reservation: Reservation) -> tuple[list[str], list[tuple[int, int]]]:
        """The hold record and the reservation's own period counters, with each counter's (hard cap, ttl)."""
        by_period = {p: (limit, ttl) for p, limit, ttl in self._limits(self._clock())}
        keys = [budget_hold_key(reservation.team_id, reservation.id)]
        limits: list[tuple[int, int]] = []
        for period in reservation.periods:
            limit, ttl = by_period.get(
                period, (BudgetLimit(), _DAY_TTL_S if period.startswith("day:") else _MONTH_TTL_S)
            )
            keys.append(budget_spent_key(reservation.team_id, period))
            limits.append((_cap(limit, "hard"), ttl))
        return keys, limits

    async def reserve(
        self, team_id: str, amount: Decimal, *, now: float | None = None, reservation_id: str | None = None
    ) -> Reservation | None:
        """Hold ``amount`` against every period's hard cap; None if that would cross one (no model call then).

        ``reservation_id`` (a fresh id by default) keys every later change of this reservation.
        """
        at = self._clock() if now is None else now
        reservation = Reservation(team_id, _periods(at), to_nanos(amount))
        if reservation_id is not None:
            reservation.id = reservation_id
        keys, limits = self._keys_and_limits(reservation)
        args: list[int] = [reservation.nanos, _HOLD_TTL_S]
        for cap, ttl in limits:
            args += [cap, ttl]
        if int(await self._reserve(keys=keys, args=args)) != 0:
            log.info("budget.reserve_refused", team_id=team_id, nanos=reservation.nanos)
            return None
        return reservation

    async def extend(self, reservation: Reservation, amount: Decimal) -> bool:
        """Raise a reservation to ``amount`` (a fallback to a dearer model); False if a hard cap forbids it."""
        target = to_nanos(amount)
        if target <= reservation.nanos or reservation.settled:
            return not reservation.settled
        # The periods are the reservation's own, so a request straddling midnight settles where it reserved.
        keys, limits = self._keys_and_limits(reservation)
        args: list[int] = [target, _HOLD_TTL_S, reservation.nanos]
        for cap, ttl in limits:
            args += [cap, ttl]
        if int(await self._extend(keys=keys, args=args)) != 0:
            return False
        reservation.nanos = target
        return True

    async def settle(self, reservation: Reservation, actual: Decimal) -> None:
        """Replace the reserved amount by the actual cost (which may be zero when every model failed)."""
        if reservation.settled:
            return
        keys, limits = self._keys_and_limits(reservation)
        reservation.settled = True
        args = [to_nanos(actual), _HOLD_TTL_S, reservation.nanos, *(ttl for _cap, ttl in limits)]
        spent = await self._settle(keys=keys, args=args)
        by_period = {p: limit for p, limit, _ in self._limits(self._clock())}
        periods = [(p, by_period.get(p, BudgetLimit())) for p in reservation.periods]
        self._observed(reservation.team_id, periods, list(spent))

    async def claim_soft_note(self, team_id: str, period: str) -> bool:
        """True exactly once per workspace and period: the caller then tells users about the downgrade."""
        ttl = _DAY_TTL_S if period.startswith("day:") else _MONTH_TTL_S
        return bool(await self._redis.set(budget_soft_note_key(team_id, period), "1", nx=True, ex=ttl))
