"""Retention against a real redis-server: old rows go, their days' totals stay, and the digest says the same."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis

from bot.bookkeeping.retention import LedgerRetention
from bot.digest.daily import DailyFigures
from bot.digest.report import DigestReader, IsoWeek
from bot.ledger import Ledger, LedgerEntry
from bot.redis.connection import plain_client
from bot.redis.keys import LEDGER_TEAMS_KEY, ledger_stream_key
from routing.learned.feedback_log import FeedbackLog
from tests.harness.ledger_seed import record_at

BERLIN = ZoneInfo("Europe/Berlin")  # the week of 2026-10-25 has 169 hours: DST ends that Sunday
WEEKS = [IsoWeek(2026, 42), IsoWeek(2026, 43), IsoWeek(2026, 44)]
MODELS = [("glm-4-plus", "economy"), ("deepseek-v4-flash", "standard"), ("deepseek-v4-pro", "premium")]


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = plain_client(redis_url)
    yield client
    await client.aclose()


def _row(rng: random.Random, n: int, team: str) -> LedgerEntry:
    outcome = rng.choice(["answered", "answered", "answered", "cache_hit", "failed", "refused", "help"])
    model, tier = rng.choice(MODELS)
    paid = outcome in ("answered", "failed")
    return LedgerEntry(
        request_id=f"{team}-{n}",
        team_id=team,
        channel_id=rng.choice(["C1", "C2"]),
        user_id="U1",
        surface="mention",
        task=None,
        outcome=outcome,
        model=model if outcome in ("answered", "failed", "cache_hit") else "",
        tier=tier if outcome in ("answered", "failed", "cache_hit") else None,
        cost_usd=Decimal(rng.randrange(0, 5_000_000)) / 10**9 if paid else Decimal(0),
        baseline_cost_usd=Decimal(rng.randrange(0, 50_000_000)) / 10**9 if outcome != "refused" else Decimal(0),
    )


async def _seed(redis: aioredis.Redis, team: str = "T1") -> None:
    """Rows every few hours across three weeks, several of them a minute either side of local midnight."""
    rng = random.Random(7)
    start, _ = WEEKS[0].bounds(BERLIN)
    _, end = WEEKS[-1].bounds(BERLIN)
    moments: list[datetime] = []
    at = start
    while at < end:
        moments.append(at)
        at += timedelta(minutes=rng.randrange(60, 400))
    day = start
    while day < end:
        moments += [day - timedelta(minutes=1), day, day + timedelta(minutes=1)]
        day = datetime.combine(day.date() + timedelta(days=1), day.time(), tzinfo=BERLIN)
    for n, moment in enumerate(sorted(m for m in moments if start <= m < end)):
        await record_at(redis, _row(rng, n, team), moment)


def _reader(redis: aioredis.Redis) -> DigestReader:
    return DigestReader(
        Ledger(redis),
        FeedbackLog(redis),
        tz=BERLIN,
        baseline_model="gpt-4o",
        kept_days=DailyFigures(redis, tz="Europe/Berlin"),
    )


def _retention(redis: aioredis.Redis, keep_days: float = 7) -> LedgerRetention:
    return LedgerRetention(
        redis, Ledger(redis), DailyFigures(redis, tz="Europe/Berlin"), keep_days=keep_days, tz=BERLIN, page_size=7
    )


async def test_a_trimmed_week_reads_the_same_from_its_kept_days(redis: aioredis.Redis) -> None:
    await _seed(redis)
    await _seed(redis, team="T2")
    reader = _reader(redis)
    before = [await reader.week("T1", week) for week in WEEKS]
    rows_before = await redis.xlen(ledger_stream_key("T1"))

    # Thursday of the middle week, 10:00 local, minus 7 days: the first week and a half go, whole days only.
    now = datetime(2026, 10, 29, 10, 0, tzinfo=BERLIN).timestamp() + 7 * 86400
    trimmed = await _retention(redis).run(now=now)
    assert trimmed > 0
    first_id = (await redis.xrange(ledger_stream_key("T1"), count=1))[0][0].decode()
    first_kept = datetime.fromtimestamp(int(first_id.split("-")[0]) / 1000, BERLIN)
    assert first_kept >= datetime(2026, 10, 29, tzinfo=BERLIN), "every row before the cutoff day is gone"
    assert await redis.xlen(ledger_stream_key("T1")) < rows_before
    assert [await reader.week("T1", week) for week in WEEKS] == before, "partly trimmed: same figures"

    assert await _retention(redis).run(now=now) == 0, "running again changes nothing"
    assert await _retention(redis, keep_days=1).run(now=now + 30 * 86400) > 0
    assert await redis.xlen(ledger_stream_key("T1")) == 0
    assert [await reader.week("T1", week) for week in WEEKS] == before, "fully trimmed: same figures"
    assert (await reader.week("T1", IsoWeek(2026, 45))).requests == 0


async def test_trimming_is_scoped_by_team_and_leaves_recent_rows(redis: aioredis.Redis) -> None:
    await _seed(redis)
    ledger = Ledger(redis)
    await ledger.record(_row(random.Random(1), 999, "T3"))  # recorded now: far younger than any retention
    before = await _reader(redis).week("T1", WEEKS[1])
    end_of_seed = WEEKS[-1].bounds(BERLIN)[1].timestamp()
    assert await _retention(redis, keep_days=1).trim("T1", now=end_of_seed + 2 * 86400) > 0
    assert await redis.xlen(ledger_stream_key("T3")) == 1
    assert await _reader(redis).week("T1", WEEKS[1]) == before
    assert await _retention(redis, keep_days=30).run() == 0, "nothing recorded now is past 30 days"
    assert await redis.xlen(ledger_stream_key("T3")) == 1


async def test_every_kept_day_expires(redis: aioredis.Redis) -> None:
    await _seed(redis)
    await _retention(redis, keep_days=1).run(now=WEEKS[-1].bounds(BERLIN)[1].timestamp() + 2 * 86400)
    keys = [key async for key in redis.scan_iter(match="penny:{T1}:ledger:day:*")]
    assert len(keys) == 21
    ttls = [await redis.ttl(key) for key in keys]
    assert all(0 < ttl <= 400 * 86400 for ttl in ttls)


async def test_workspaces_are_found_by_one_scan_then_by_their_set(redis: aioredis.Redis) -> None:
    await _seed(redis)  # written as an older version would: no set names T1 yet
    ledger = Ledger(redis)
    await ledger.record(_row(random.Random(3), 1, "T5"))  # this process recorded a row for T5
    retention = LedgerRetention(redis, ledger, DailyFigures(redis, tz="Europe/Berlin"), keep_days=1, tz=BERLIN)
    end_of_seed = WEEKS[-1].bounds(BERLIN)[1].timestamp()
    assert await retention.run(now=end_of_seed + 2 * 86400) > 0
    assert await redis.smembers(LEDGER_TEAMS_KEY) == {b"T1", b"T5"}
    await record_at(redis, _row(random.Random(4), 2, "T7"), datetime(2026, 10, 20, tzinfo=BERLIN))
    assert await retention.run(now=end_of_seed + 2 * 86400) == 0, "no scan after the first run: T7 is unknown"
    fresh = LedgerRetention(redis, Ledger(redis), DailyFigures(redis, tz="Europe/Berlin"), keep_days=1, tz=BERLIN)
    assert await fresh.run(now=end_of_seed + 2 * 86400) == 1, "the next process start scans and finds it"
