"""Ledger soak: with retention on, Redis memory stops growing at the retention age, however many rows are written.

Writes ``--rows`` ledger rows (the ledger's own field layout, ``LedgerEntry.to_fields``) into a real redis-server,
spread evenly over ``--days`` simulated days, and at the end of each simulated day runs the production retention
pass (``bot/bookkeeping/retention.py``: keep the day totals, trim rows past ``--retention-days``) with that day as
"now". Rows are written under explicit stream ids of their simulated time, as ``tests/harness/ledger_seed.py`` does,
because ``Ledger.record`` stamps rows with Redis' clock and a soak cannot wait a month.

Not simulated: the per-request "seen" keys of the record-once script. They expire on Redis' own clock (30 days), so
their memory is flat after 30 real days at any rate; their size per key is measured and printed instead.

Prints one line per simulated day (rows in the stream, ``used_memory``), then the memory at the retention point and
at the end. The last line is
``RESULT ledger_soak rows=N days=D retention_days=R stream_rows_max=N memory_at_retention_mb=F memory_end_mb=F
growth_after_retention_pct=F``.

    python benchmarks/ledger_soak.py [--rows 1000000] [--days 30] [--retention-days 7]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.bookkeeping.retention import LedgerRetention
from bot.digest.daily import DailyFigures
from bot.ledger import SEEN_TTL_S, Ledger, LedgerEntry
from bot.observability import configure_logging
from bot.redis.embedded import RedisServerProcess
from bot.redis.keys import ledger_seen_key, ledger_stream_key

TEAM = "T0SOAK"
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
MODELS = [("glm-4-plus", "economy"), ("deepseek-v4-flash", "standard"), ("deepseek-v4-pro", "premium")]


@dataclass(frozen=True)
class Day:
    day: int
    written: int
    stream_rows: int
    used_memory: int


def _entry(rng: random.Random, n: int) -> LedgerEntry:
    model, tier = rng.choice(MODELS)
    return LedgerEntry(
        request_id=f"Ev{n:012d}",
        team_id=TEAM,
        channel_id=f"C{rng.randrange(40):04d}",
        user_id=f"U{rng.randrange(500):05d}",
        surface="mention",
        task=None,
        outcome=rng.choice(["answered", "answered", "answered", "cache_hit", "failed"]),
        model=model,
        tier=tier,
        prompt_tokens=rng.randrange(50, 4000),
        completion_tokens=rng.randrange(10, 800),
        cost_usd=Decimal(rng.randrange(0, 3_000_000)) / 10**9,
        baseline_cost_usd=Decimal(rng.randrange(0, 30_000_000)) / 10**9,
        latency_ms=rng.randrange(300, 9000),
        attempts=1,
    )


async def _used_memory(redis: aioredis.Redis) -> int:
    return int((await redis.info("memory"))["used_memory"])


async def _seen_key_bytes(redis: aioredis.Redis, count: int = 20_000) -> float:
    """What one record-once marker costs, measured on this server."""
    before = await _used_memory(redis)
    pipe = redis.pipeline(transaction=False)
    for n in range(count):
        pipe.set(ledger_seen_key(TEAM, f"Ev-seen-{n:012d}"), "1", ex=SEEN_TTL_S)
    await pipe.execute()
    after = await _used_memory(redis)
    await redis.flushall()
    return (after - before) / count


async def soak(redis: aioredis.Redis, *, rows: int, days: int, retention_days: int, batch: int = 2000) -> list[Day]:
    rng = random.Random(20260105)
    retention = LedgerRetention(
        redis, Ledger(redis), DailyFigures(redis, tz="UTC"), keep_days=retention_days, tz=ZoneInfo("UTC")
    )
    per_day = rows // days
    step_ms = 86_400_000 // per_day
    key = ledger_stream_key(TEAM)
    written = 0
    report: list[Day] = []
    for day in range(days):
        day_ms = int((START + timedelta(days=day)).timestamp() * 1000)
        for first in range(0, per_day, batch):
            pipe = redis.pipeline(transaction=False)
            for n in range(first, min(first + batch, per_day)):
                fields: dict[str | bytes, str | bytes | int | float] = dict(_entry(rng, written + n).to_fields())
                pipe.xadd(key, fields, id=f"{day_ms + n * step_ms}-1")
            await pipe.execute()
        written += per_day
        end_of_day = (START + timedelta(days=day + 1)).timestamp()
        await retention.run(now=end_of_day)
        report.append(Day(day + 1, written, int(await redis.xlen(key)), await _used_memory(redis)))
        print(
            f"day {day + 1:3d}  written {written:9d}  stream rows {report[-1].stream_rows:9d}  "
            f"used_memory {report[-1].used_memory / 2**20:8.1f} MiB",
            flush=True,
        )
    return report


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="penny-soak-") as tmp:
        server = RedisServerProcess(data_dir=Path(tmp)).start()
        redis = aioredis.Redis.from_url(server.url)
        try:
            started = time.monotonic()
            seen_bytes = await _seen_key_bytes(redis)
            report = await soak(redis, rows=args.rows, days=args.days, retention_days=args.retention_days)
            elapsed = time.monotonic() - started
        finally:
            await redis.aclose()
            server.stop()
    # The retention point: the first day whose end trims a day (``retention_days`` whole days are kept, plus today).
    point = min(args.retention_days + 1, len(report) - 1)
    at_point = report[point].used_memory
    after = report[point:]
    end = report[-1].used_memory
    growth = (max(d.used_memory for d in after) - at_point) / at_point * 100
    per_day = args.rows // args.days
    print(f"machine: {platform.node()} {platform.machine()}, {elapsed:.0f} s (measured as it ran, under whatever load)")
    print(f"rows per simulated day: {per_day}; the stream holds at most {max(d.stream_rows for d in report)} rows")
    print(
        f"used_memory at the retention point (day {point + 1}): {at_point / 2**20:.1f} MiB; "
        f"at the end: {end / 2**20:.1f} MiB"
    )
    print(
        f"seen keys (not simulated, TTL {SEEN_TTL_S // 86400} d on Redis' clock): {seen_bytes:.0f} bytes each, "
        f"{seen_bytes * per_day * SEEN_TTL_S / 86400 / 2**20:.1f} MiB at this rate once flat"
    )
    print(
        f"RESULT ledger_soak rows={report[-1].written} days={args.days} retention_days={args.retention_days} "
        f"stream_rows_max={max(d.stream_rows for d in report)} memory_at_retention_mb={at_point / 2**20:.1f} "
        f"memory_end_mb={end / 2**20:.1f} growth_after_retention_pct={growth:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--retention-days", type=int, default=7)
    args = parser.parse_args()
    configure_logging("WARNING")
    if args.days <= args.retention_days + 1:
        parser.error("--days must exceed --retention-days + 1, or there is no retention point to look past")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
