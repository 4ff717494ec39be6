"""Workspace budgets: reserve the estimated cost atomically before a call, settle the actual cost after.

Why reserve instead of checking "spent < cap": twenty replies started at once would all see the same spent
total and all go ahead. A Lua script checks every period's cap and adds the reservation in one step, so the sum
of reservations can never pass a hard cap, whatever the concurrency or the number of replicas. Settling adds
the difference between actual and reserved cost. Money is integer nano-dollars in Redis (``routing/spend/cost.py``).

A reservation whose process dies before settling stays counted: budgets err on the side of spending less.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import redis.asyncio as aioredis
import structlog

from routing.keys import budget_soft_note_key, budget_spent_key
from routing.policy import BudgetLimit, Budgets
from routing.spend.cost import from_nanos, to_nanos

log = structlog.get_logger(__name__)

# KEYS: one spent counter per period. ARGV: amount, then (cap, ttl) per key; cap -1 means no cap.
# Returns 0 when reserved, else the 1-based index of the period whose cap would be crossed.
_RESERVE = """
local amount = tonumber(ARGV[1])
if amount > 0 then
  for i, key in ipairs(KEYS) do
    local cap = tonumber(ARGV[2 * i])
    if cap >= 0 and tonumber(redis.call('GET', key) or '0') + amount > cap then
      return i
    end
  end
end
for i, key in ipairs(KEYS) do
  redis.call('INCRBY', key, amount)
  redis.call('EXPIRE', key, tonumber(ARGV[2 * i + 1]))
end
return 0
"""

_DAY_TTL_S = 3 * 86400
_MONTH_TTL_S = 40 * 86400


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


def _periods(now: float) -> tuple[str, str]:
    moment = datetime.fromtimestamp(now, tz=UTC)
    return f"day:{moment:%Y-%m-%d}", f"month:{moment:%Y-%m}"


def _cap(limit: BudgetLimit, which: str) -> int:
    value = limit.hard_usd if which == "hard" else limit.soft_usd
    return -1 if value is None else to_nanos(value)


class Budget:
    """Per-workspace daily and monthly spend, shared by all replicas through Redis."""

    def __init__(self, redis: aioredis.Redis, budgets: Budgets, *, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._budgets = budgets
        self._clock = clock
        self._reserve = redis.register_script(_RESERVE)

    def _limits(self, now: float) -> list[tuple[str, BudgetLimit, int]]:
        day, month = _periods(now)
        return [(day, self._budgets.daily, _DAY_TTL_S), (month, self._budgets.monthly, _MONTH_TTL_S)]

    async def state(self, team_id: str, *, now: float | None = None) -> BudgetState:
        limits = self._limits(self._clock() if now is None else now)
        raw = await self._redis.mget([budget_spent_key(team_id, p) for p, _, _ in limits])
        spent: dict[str, Decimal] = {}
        soft: list[str] = []
        hard: list[str] = []
        for (period, limit, _), value in zip(limits, raw, strict=True):
            nanos = int(value or 0)
            spent[period] = from_nanos(nanos)
            if (cap := _cap(limit, "hard")) >= 0 and nanos >= cap:
                hard.append(period)
            if (cap := _cap(limit, "soft")) >= 0 and nanos >= cap:
                soft.append(period)
        return BudgetState(spent, tuple(soft), tuple(hard))

    async def _add(self, team_id: str, periods: tuple[str, ...], nanos: int, now: float) -> bool:
        by_period = {p: (limit, ttl) for p, limit, ttl in self._limits(now)}
        args: list[int] = [nanos]
        for period in periods:
            limit, ttl = by_period.get(period, (BudgetLimit(), _MONTH_TTL_S))
            args += [_cap(limit, "hard"), ttl]
        keys = [budget_spent_key(team_id, p) for p in periods]
        return int(await self._reserve(keys=keys, args=args)) == 0

    async def reserve(self, team_id: str, amount: Decimal, *, now: float | None = None) -> Reservation | None:
        """Hold ``amount`` against every period's hard cap; None if that would cross one (no model call then)."""
        at = self._clock() if now is None else now
        periods = _periods(at)
        nanos = to_nanos(amount)
        if not await self._add(team_id, periods, nanos, at):
            log.info("budget.reserve_refused", team_id=team_id, nanos=nanos)
            return None
        return Reservation(team_id, periods, nanos)

    async def extend(self, reservation: Reservation, amount: Decimal) -> bool:
        """Raise a reservation to ``amount`` (a fallback to a dearer model); False if a hard cap forbids it."""
        extra = to_nanos(amount) - reservation.nanos
        if extra <= 0 or reservation.settled:
            return not reservation.settled
        # The periods are the reservation's own, so a request straddling midnight settles where it reserved.
        if not await self._add(reservation.team_id, reservation.periods, extra, self._clock()):
            return False
        reservation.nanos += extra
        return True

    async def settle(self, reservation: Reservation, actual: Decimal) -> None:
        """Replace the reserved amount by the actual cost (which may be zero when every model failed)."""
        if reservation.settled:
            return
        delta = to_nanos(actual) - reservation.nanos
        reservation.settled = True
        pipe = self._redis.pipeline(transaction=True)
        for period in reservation.periods:
            pipe.incrby(budget_spent_key(reservation.team_id, period), delta)
        await pipe.execute()

    async def claim_soft_note(self, team_id: str, period: str) -> bool:
        """True exactly once per workspace and period: the caller then tells users about the downgrade."""
        ttl = _DAY_TTL_S if period.startswith("day:") else _MONTH_TTL_S
        return bool(await self._redis.set(budget_soft_note_key(team_id, period), "1", nx=True, ex=ttl))
