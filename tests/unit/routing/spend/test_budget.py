"""Budgets in a real Redis: atomic reservations never overshoot a cap, settling keeps the books exact."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from bot.redis.connection import plain_client
from routing.policy import BudgetLimit, Budgets
from routing.spend.budget import Budget, Reservation


def budgets(daily_hard: str | None = None, daily_soft: str | None = None, monthly_hard: str | None = None) -> Budgets:
    return Budgets(
        daily=BudgetLimit(soft_usd=daily_soft and Decimal(daily_soft), hard_usd=daily_hard and Decimal(daily_hard)),
        monthly=BudgetLimit(hard_usd=monthly_hard and Decimal(monthly_hard)),
    )


async def test_twenty_concurrent_reservations_never_overshoot(redis, clock) -> None:
    cost = Decimal("0.0125")  # one premium request's estimate
    budget = Budget(redis, budgets(daily_hard=str(cost * 5)), clock=clock)
    results = await asyncio.gather(*(budget.reserve("T1", cost) for _ in range(20)))
    granted = [r for r in results if r is not None]
    assert len(granted) == 5
    state = await budget.state("T1")
    assert state.spent["day:2026-11-18"] == cost * 5
    assert state.hard


async def test_twenty_concurrent_budget_instances_never_overshoot(redis, redis_url, clock) -> None:
    """Replicas: separate clients and Budget objects on the same Redis."""
    clients = [plain_client(redis_url) for _ in range(4)]
    try:
        # Connected first, as Penny connects (``connect_redis`` pings): a fresh redis-py cluster client that gets
        # concurrent first commands loads its slot map under them and can drop their connections.
        await asyncio.gather(*(c.ping() for c in clients))
        instances = [Budget(c, budgets(monthly_hard="0.05"), clock=clock) for c in clients]
        results = await asyncio.gather(*(instances[i % 4].reserve("T1", Decimal("0.01")) for i in range(20)))
        assert sum(r is not None for r in results) == 5
    finally:
        for c in clients:
            await c.aclose()


async def test_settle_replaces_reservation_with_actual(redis, clock) -> None:
    budget = Budget(redis, budgets(daily_hard="1"), clock=clock)
    reservation = await budget.reserve("T1", Decimal("0.30"))
    assert reservation is not None
    await budget.settle(reservation, Decimal("0.000123456"))
    await budget.settle(reservation, Decimal("0.5"))  # a second settle is a no-op
    state = await budget.state("T1")
    assert state.spent["day:2026-11-18"] == Decimal("0.000123456")
    assert state.spent["month:2026-11"] == Decimal("0.000123456")


async def test_settle_lands_in_the_period_it_reserved(redis, clock) -> None:
    budget = Budget(redis, budgets(daily_hard="1"), clock=clock)
    reservation = await budget.reserve("T1", Decimal("0.2"))
    assert reservation is not None
    clock.advance(86_400)  # the answer finished after midnight
    await budget.settle(reservation, Decimal("0.1"))
    assert (await budget.state("T1", now=clock.now - 86_400)).spent["day:2026-11-18"] == Decimal("0.1")
    assert (await budget.state("T1")).spent["day:2026-11-19"] == Decimal(0)


async def test_extend_respects_the_cap(redis, clock) -> None:
    budget = Budget(redis, budgets(daily_hard="0.10"), clock=clock)
    reservation = await budget.reserve("T1", Decimal("0.04"))
    assert reservation is not None
    assert await budget.extend(reservation, Decimal("0.10"))
    assert not await budget.extend(reservation, Decimal("0.11"))
    assert reservation.amount == Decimal("0.10")


async def test_soft_limit_state_and_note_said_once(redis, clock) -> None:
    budget = Budget(redis, budgets(daily_soft="0.01", daily_hard="1"), clock=clock)
    assert not (await budget.state("T1")).soft
    reservation = await budget.reserve("T1", Decimal("0.02"))
    assert reservation is not None
    state = await budget.state("T1")
    assert state.soft and not state.hard and state.soft_reached == ("day:2026-11-18",)
    assert await budget.claim_soft_note("T1", "day:2026-11-18")
    assert not await budget.claim_soft_note("T1", "day:2026-11-18")
    assert await budget.claim_soft_note("T2", "day:2026-11-18")  # per workspace


async def test_no_caps_means_no_refusal(redis, clock) -> None:
    budget = Budget(redis, Budgets(), clock=clock)
    assert await budget.reserve("T1", Decimal("1000")) is not None


async def test_a_re_sent_reserve_extend_and_settle_each_apply_once(redis, clock) -> None:
    """redis-py re-sends a command after a connection error even when Redis ran it: each change twice, same id."""
    budget = Budget(redis, budgets(daily_hard="1"), clock=clock)
    first = await budget.reserve("T1", Decimal("0.30"), reservation_id="req-1")
    again = await budget.reserve("T1", Decimal("0.30"), reservation_id="req-1")
    assert first is not None and again is not None
    assert (await budget.state("T1")).spent["day:2026-11-18"] == Decimal("0.30")

    assert await budget.extend(first, Decimal("0.50"))
    resent = Reservation("T1", first.periods, 30 * 10**7, id="req-1")  # what the re-sent command still says
    assert await budget.extend(resent, Decimal("0.50"))
    assert (await budget.state("T1")).spent["day:2026-11-18"] == Decimal("0.50")

    await budget.settle(first, Decimal("0.12"))
    await budget.settle(Reservation("T1", first.periods, 50 * 10**7, id="req-1"), Decimal("0.12"))
    state = await budget.state("T1")
    assert state.spent["day:2026-11-18"] == Decimal("0.12")
    assert state.spent["month:2026-11"] == Decimal("0.12")


async def test_every_budget_key_expires(redis, clock) -> None:
    budget = Budget(redis, budgets(daily_soft="0.01", daily_hard="1"), clock=clock)
    reservation = await budget.reserve("T1", Decimal("0.30"))
    assert reservation is not None
    await budget.settle(reservation, Decimal("0.02"))
    await budget.claim_soft_note("T1", "day:2026-11-18")
    keys = [key async for key in redis.scan_iter(match="penny:{T1}:budget:*")]
    assert len(keys) == 4  # the day and month counters, the hold, the soft-limit note
    ttls = [await redis.ttl(key) for key in keys]
    assert all(0 < ttl <= 40 * 86400 for ttl in ttls), ttls
