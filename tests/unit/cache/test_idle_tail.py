"""An idle cache is idle: the change-stream tail never spins, whatever Redis answers.

A fresh install has no team with a cache entry, so there is no stream to ``XREAD BLOCK`` on; the tail used to
ask ``SMEMBERS`` about 2,000 times a second and starve a model server on the same machine. These tests count
what a real redis-server was asked while the tail sat idle.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.redis.connection import plain_client
from cache.store import ChangeBatch
from cache.values import CacheSettings
from tests.unit.cache.conftest import CacheFactory, query, random_unit

NOW = 1_000_000.0


async def _commands_during(redis_url: str, seconds: float) -> dict[str, int]:
    """Calls per command that the server executed over ``seconds``, as ``INFO commandstats`` reports them."""
    client = plain_client(redis_url)
    try:
        await client.config_resetstat()
        await asyncio.sleep(seconds)
        stats: dict[str, Any] = await client.info("commandstats")
    finally:
        await client.aclose()
    calls = {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}
    calls.pop("info", None)
    calls.pop("config|resetstat", None)
    calls.pop("config", None)
    return calls


async def test_tail_with_no_team_yet_waits_between_polls(make_cache: CacheFactory, redis_url: str) -> None:
    await make_cache(CacheSettings(tail_block_seconds=0.5))
    calls = await _commands_during(redis_url, 2.0)
    # One blocking XREAD per half second: about 4 in 2 s. The spinning tail made thousands of SMEMBERS.
    assert sum(calls.values()) <= 8, calls


async def test_tail_with_entries_blocks_on_the_stream(make_cache: CacheFactory, redis_url: str) -> None:
    cache = await make_cache(CacheSettings(tail_block_seconds=0.5))
    stored = await cache.store(
        query("Where is the VPN guide?", vector=random_unit(1)), "In the wiki.", model="m", tier="economy", now=NOW
    )
    assert stored is not None
    await asyncio.sleep(0.6)  # the tail picks the team up and replays its one change
    calls = await _commands_during(redis_url, 2.0)
    assert calls.get("xread", 0) <= 6, calls
    assert sum(calls.values()) <= 14, calls


class _InstantStore:
    """A store whose Redis answers every read at once with nothing (a proxy that ignores BLOCK, say)."""

    def __init__(self) -> None:
        self.reads = 0

    async def read_changes(
        self, positions: dict[str, str], *, new_teams_after: str, block_ms: int, count: int = 500
    ) -> ChangeBatch:
        self.reads += 1
        return ChangeBatch(teams_position=new_teams_after)


async def test_tail_never_spins_when_redis_returns_at_once(make_cache: CacheFactory) -> None:
    cache = await make_cache(CacheSettings(tail_block_seconds=0.1))
    store = _InstantStore()
    cache._replica._store = store  # type: ignore[assignment]
    began = time.monotonic()
    await asyncio.sleep(1.0)
    elapsed = time.monotonic() - began
    assert store.reads <= elapsed / 0.1 + 2, store.reads
