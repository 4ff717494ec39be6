"""Model health in a real Redis, with a fake clock: trip, cool down, one probe, back in rotation."""

from __future__ import annotations

import asyncio

from bot.redis.connection import plain_client
from routing.calls.health import Health, ModelState


async def test_slow_model_leaves_and_returns_after_one_probe(redis, catalog, clock) -> None:
    health = Health(redis, catalog, clock=clock)
    model = "gpt-4o"  # threshold 2.5 s (the default)
    for _ in range(4):
        assert await health.record(model, ok=True, ttft_s=3.2) == "ok"  # not enough calls yet
        clock.advance(5)
    assert await health.record(model, ok=True, ttft_s=3.1) == "tripped"  # 5th call, within one window
    assert (await health.states([model]))[model] is ModelState.COOLING

    clock.advance(catalog.policy.health.cooldown_s)
    assert (await health.states([model]))[model] is ModelState.PROBE_DUE
    tokens = await asyncio.gather(*(health.acquire_probe(model) for _ in range(10)))
    winners = [t for t in tokens if t is not None]
    assert len(winners) == 1  # exactly one request probes

    assert await health.record(model, ok=True, ttft_s=0.4, probe_token=winners[0]) == "restored"
    assert (await health.states([model]))[model] is ModelState.HEALTHY
    assert await health.acquire_probe(model) is not None  # the lock was released with the verdict


async def test_failed_probe_starts_a_new_cooldown(redis, catalog, clock) -> None:
    health = Health(redis, catalog, clock=clock)
    for _ in range(5):
        await health.record("glm-4-plus", ok=False, ttft_s=None)
    clock.advance(31)
    token = await health.acquire_probe("glm-4-plus")
    assert token is not None
    assert await health.record("glm-4-plus", ok=False, ttft_s=None, probe_token=token) == "tripped"
    assert (await health.states(["glm-4-plus"]))["glm-4-plus"] is ModelState.COOLING


async def test_error_rate_needs_five_calls_in_the_window(redis, catalog, clock) -> None:
    health = Health(redis, catalog, clock=clock)
    model = "qwen3-32b"
    for _ in range(4):
        await health.record(model, ok=False, ttft_s=None)
        clock.advance(20)  # spread over more than a minute: old failures fall out of the window
    assert (await health.states([model]))[model] is ModelState.HEALTHY
    stats = await health.stats(model)
    assert stats.calls == 3 and stats.errors == 3
    for ok in (True, True, False):
        clock.advance(1)
        await health.record(model, ok=ok, ttft_s=0.3 if ok else None)
    # window now: 4 errors of 6 calls, >= 50% -> tripped on the call that crossed it
    assert (await health.states([model]))[model] is ModelState.COOLING


async def test_half_errors_trip_but_fewer_do_not(redis, catalog, clock) -> None:
    health = Health(redis, catalog, clock=clock)
    for ok in (True, True, True, False, False):
        await health.record("deepseek-v4-flash", ok=ok, ttft_s=0.2 if ok else None)
    assert (await health.states(["deepseek-v4-flash"]))["deepseek-v4-flash"] is ModelState.HEALTHY
    await health.record("deepseek-v4-flash", ok=False, ttft_s=None)  # 3 of 6
    assert (await health.states(["deepseek-v4-flash"]))["deepseek-v4-flash"] is ModelState.COOLING


async def test_model_threshold_is_its_own(redis, catalog, clock) -> None:
    health = Health(redis, catalog, clock=clock)
    for _ in range(5):
        await health.record("deepseek-v4-pro", ok=True, ttft_s=3.5)  # its threshold is 4.0 s
    assert (await health.states(["deepseek-v4-pro"]))["deepseek-v4-pro"] is ModelState.HEALTHY
    stats = await health.stats("deepseek-v4-pro")
    assert stats.p99_ttft_s == 3.5


async def test_two_instances_sharing_redis_agree(redis_url, catalog, clock) -> None:
    a_client, b_client = plain_client(redis_url), plain_client(redis_url)
    try:
        a, b = Health(a_client, catalog, clock=clock), Health(b_client, catalog, clock=clock)
        for i in range(5):  # calls land on alternating replicas
            await (a if i % 2 else b).record("gpt-4o", ok=False, ttft_s=None)
        assert (await a.states(["gpt-4o"]))["gpt-4o"] is ModelState.COOLING
        assert (await b.states(["gpt-4o"]))["gpt-4o"] is ModelState.COOLING
        clock.advance(30)
        token_a, token_b = await asyncio.gather(a.acquire_probe("gpt-4o"), b.acquire_probe("gpt-4o"))
        assert (token_a is None) != (token_b is None)
        winner = a if token_a else b
        await winner.record("gpt-4o", ok=True, ttft_s=0.5, probe_token=token_a or token_b)
        assert (await a.states(["gpt-4o"]))["gpt-4o"] is ModelState.HEALTHY
        assert (await b.states(["gpt-4o"]))["gpt-4o"] is ModelState.HEALTHY
    finally:
        await a_client.aclose()
        await b_client.aclose()


async def test_one_slow_first_token_does_not_take_a_model_out(redis, catalog, clock) -> None:
    """The p99 of a handful of calls is their slowest one: a single slow first token (a busy process, a provider
    at 2 s) took a model out for its cool-down and shortened every chain (found by faults_load). A p99 over the
    threshold counts only when at least ``min_slow_calls`` calls were that slow."""
    health = Health(redis, catalog, clock=clock)
    model = "gpt-4o"  # threshold 2.5 s
    assert catalog.policy.health.min_slow_calls == 3
    for ttft in (0.4, 0.5, 3.4, 0.6, 0.5, 0.4, 2.9, 0.5):
        assert await health.record(model, ok=True, ttft_s=ttft) == "ok"
        clock.advance(1)
    assert await health.record(model, ok=True, ttft_s=3.0) == "tripped", "the third slow call of the window"
