"""The spool and its keeper against a real redis-server that is stopped and started: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.bookkeeping.keeper import LedgerKeeper
from bot.bookkeeping.spool import FileSpool
from bot.config import Settings
from bot.ledger import Ledger, LedgerEntry
from bot.redis.connection import connection_pool
from bot.redis.embedded import RedisServerProcess
from bot.redis.keys import ledger_stream_key


def _entry(request_id: str) -> LedgerEntry:
    return LedgerEntry(
        request_id=request_id,
        team_id="T1",
        channel_id="C1",
        user_id="U1",
        surface="mention",
        task=None,
        outcome="answered",
        model="glm-4-plus",
        tier="economy",
        cost_usd=Decimal("0.000123"),
        baseline_cost_usd=Decimal("0.0042"),
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServerProcess]:
    """A server of this test's own, so stopping it disturbs no other test."""
    process = RedisServerProcess(data_dir=tmp_path / "redis").start()
    yield process
    process.stop()


@pytest.fixture
async def client(server: RedisServerProcess) -> AsyncIterator[aioredis.Redis]:
    redis = aioredis.Redis.from_pool(connection_pool(server.url, Settings(redis_retry_s=1.0)))
    yield redis
    await redis.aclose()


async def _rows(client: aioredis.Redis) -> list[str]:
    return [fields[b"request_id"].decode() for _, fields in await client.xrange(ledger_stream_key("T1"))]


async def test_a_row_redis_cannot_take_is_spooled_and_flushed_once_when_it_returns(
    server: RedisServerProcess, client: aioredis.Redis, tmp_path: Path
) -> None:
    spool = FileSpool(tmp_path / "spool")
    ledger = Ledger(client, spool=spool, write_timeout_s=0.5)
    keeper = LedgerKeeper(client, ledger, spool, None, redis_timeout_s=0.5)
    await ledger.close(_entry("Ev-before"))
    server.stop()
    await ledger.close(_entry("Ev-during-1"))  # never raises
    await ledger.close(_entry("Ev-during-2"))
    assert spool.depth() == 2
    with pytest.raises((OSError, TimeoutError, aioredis.RedisError)):
        await keeper.flush()  # Redis is still down: the rows stay
    assert spool.depth() == 2
    server.start()
    assert await keeper.flush() == 2
    assert await keeper.flush() == 0
    assert await _rows(client) == ["Ev-before", "Ev-during-1", "Ev-during-2"]
    assert spool.depth() == 0 and not spool.pending()


async def test_a_row_that_reached_redis_before_the_connection_broke_is_not_counted_twice(
    client: aioredis.Redis, tmp_path: Path
) -> None:
    spool = FileSpool(tmp_path / "spool")
    ledger = Ledger(client, spool=spool)
    await ledger.record(_entry("Ev1"))
    spool.append(_entry("Ev1"))  # the reply was lost, so close() spooled what Redis had already taken
    await LedgerKeeper(client, ledger, spool, None).flush()
    assert await _rows(client) == ["Ev1"]


async def test_a_restart_flushes_what_a_dead_process_left_and_skips_a_torn_line(
    client: aioredis.Redis, tmp_path: Path
) -> None:
    directory = tmp_path / "spool"
    left = FileSpool(directory)
    left.append(_entry("Ev1"))
    left.append(_entry("Ev2"))
    left.seal()  # the process is gone: its lock with it
    segment = next(directory.glob("*.jsonl"))
    with segment.open("ab") as handle:
        handle.write(b'{"request_id": "Ev3", "team_')  # died mid-write, before its fsync returned
    restarted = FileSpool(directory)
    assert restarted.pending()
    keeper = LedgerKeeper(client, Ledger(client, spool=restarted), restarted, None)
    assert await keeper.flush() == 2
    assert await _rows(client) == ["Ev1", "Ev2"]
    assert not list(directory.glob("*.jsonl"))


async def test_a_live_writers_open_segment_is_left_alone(client: aioredis.Redis, tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    writer, other = FileSpool(directory), FileSpool(directory)  # two processes sharing one data directory
    writer.append(_entry("Ev1"))
    keeper = LedgerKeeper(client, Ledger(client, spool=other), other, None)
    assert await keeper.flush() == 0, "the writer still holds its segment"
    writer.seal()
    assert await keeper.flush() == 1
    assert await _rows(client) == ["Ev1"]


async def test_the_keeper_flushes_in_the_background_once_redis_is_back(
    server: RedisServerProcess, client: aioredis.Redis, tmp_path: Path
) -> None:
    spool = FileSpool(tmp_path / "spool")
    ledger = Ledger(client, spool=spool, write_timeout_s=0.5)
    server.stop()
    await ledger.close(_entry("Ev1"))
    keeper = LedgerKeeper(client, ledger, spool, None, flush_interval_s=0.1, redis_timeout_s=0.5)
    task = asyncio.create_task(keeper.run())
    try:
        await asyncio.sleep(0.5)
        server.start()
        for _ in range(200):
            if not spool.pending():
                break
            await asyncio.sleep(0.05)
        assert await _rows(client) == ["Ev1"]
    finally:
        task.cancel()
