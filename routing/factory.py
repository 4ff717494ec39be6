"""Building the routing stack from a catalog and a Redis connection (called once by ``bot/app.py``).

Usage from the assistant::

    routing = build_routing(catalog, redis, escalator=workspace_scorers)   # routing.learned.workspaces.WorkspaceScorers
    plan = await routing.router.plan(RouteRequest(team_id, channel_id, user_id, text, messages, command=cmd,
                                                  prompt_vector=vector))
    if isinstance(plan, Refusal):
        post(replies.refusal(plan)); ledger(outcome=REFUSED); return      # the bot words the reason
    async for item in routing.generator.stream(plan):
        if isinstance(item, TextDelta):
            streamer.append(item.text)
        else:                                   # the Generation, always last
            generation = item                   # ok / model / attempts / cost / baseline_cost / partial
    for note in plan.notes: ...                 # PlanNote values: soft budget, trimmed context
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis

from routing.calls.generate import Generator, StreamingClient
from routing.calls.health import Health
from routing.calls.llm import LLMClient
from routing.catalog import Catalog
from routing.router import Escalator, Router
from routing.spend.budget import Budget, BudgetObserver
from routing.spend.limits import UserRateLimiter


@dataclass(frozen=True)
class Routing:
    """The assembled parts; the assistant needs ``router`` and ``generator``, admin views ``budget``/``health``."""

    router: Router
    generator: Generator
    budget: Budget
    health: Health
    limiter: UserRateLimiter
    client: StreamingClient


def build_routing(
    catalog: Catalog,
    redis: aioredis.Redis,
    *,
    client: StreamingClient | None = None,
    escalator: Escalator | None = None,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    rng: random.Random | None = None,
    budget_observer: BudgetObserver | None = None,
) -> Routing:
    """Wire router, generator, budget, health and limits; ``client`` defaults to an ``LLMClient``."""
    policy = catalog.policy
    budget = Budget(redis, policy.budgets, clock=clock, observer=budget_observer)
    health = Health(redis, catalog, policy.health, clock=clock)
    limiter = UserRateLimiter(redis, policy.user_limits, clock=clock)
    llm = client or LLMClient(catalog)
    router = Router(catalog, budget=budget, health=health, limiter=limiter, escalator=escalator)
    generator = Generator(
        catalog, llm, health=health, budget=budget, retry=policy.retry, monotonic=monotonic, sleep=sleep, rng=rng
    )
    return Routing(router, generator, budget, health, limiter, llm)
