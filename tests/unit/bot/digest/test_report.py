"""The digest's figures against a real redis-server: ledger rows over two weeks, cache hits, failures, votes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis

from bot.digest.blocks import change, digest_blocks, fallback_text, usd
from bot.digest.daily import decode, encode
from bot.digest.report import DigestReader, IsoWeek, Spend, Votes
from bot.ledger import Ledger, LedgerEntry
from bot.redis.connection import plain_client
from routing.learned.feedback_log import FeedbackLog, Vote
from tests.harness.ledger_seed import record_at

UTC_ZONE = ZoneInfo("UTC")
WEEK = IsoWeek(2026, 40)  # Mon 28 Sep 2026 → Mon 5 Oct 2026
MONDAY = datetime(2026, 9, 28, tzinfo=UTC)


def _row(
    request_id: str,
    outcome: str,
    model: str = "",
    tier: str = "",
    cost: str = "0",
    baseline: str = "0",
    team: str = "T1",
) -> LedgerEntry:
    return LedgerEntry(
        request_id=request_id,
        team_id=team,
        channel_id="C1",
        user_id="U1",
        surface="mention",
        task="qa",
        outcome=outcome,
        model=model,
        tier=tier,
        cost_usd=Decimal(cost),
        baseline_cost_usd=Decimal(baseline),
    )


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = plain_client(redis_url)
    yield client
    await client.aclose()


def _reader(redis: aioredis.Redis, tz: ZoneInfo = UTC_ZONE) -> DigestReader:
    return DigestReader(Ledger(redis), FeedbackLog(redis), tz=tz, baseline_model="gpt-4o")


async def _seed_two_weeks(redis: aioredis.Redis) -> None:
    before = MONDAY - timedelta(days=7)
    await record_at(redis, _row("p1", "answered", "glm-4-plus", "economy", "0.000500000", "0.004"), before)
    await record_at(
        redis, _row("p2", "answered", "glm-4-plus", "economy", "0.000500000", "0.004"), before + timedelta(days=3)
    )
    rows = [
        _row("a1", "answered", "glm-4-plus", "economy", "0.000123456", "0.001543200"),  # exactly Monday 00:00
        _row("a2", "answered", "glm-4-plus", "economy", "0.000200001", "0.002500010"),
        _row("a3", "answered", "deepseek-v4-pro", "premium", "0.001100000", "0.005000000"),
        _row("c1", "cache_hit", "glm-4-plus", "economy", "0", "0.000987654"),
        _row("f1", "failed", "deepseek-v4-flash", "standard", "0.000010000", "0.000090000"),
        _row("f2", "failed"),
        _row("r1", "refused"),
        _row("h1", "help"),
        _row("x1", "answered", "glm-4-plus", "economy", "0.5", "0.5", team="T2"),  # another workspace
    ]
    for offset, row in enumerate(rows):
        await record_at(redis, row, MONDAY + timedelta(hours=offset))
    last_ms = MONDAY + timedelta(days=7) - timedelta(milliseconds=1)
    await record_at(
        redis, _row("a4", "answered", "deepseek-v4-flash", "standard", "0.000300000", "0.002700000"), last_ms
    )
    await record_at(redis, _row("n1", "answered", "glm-4-plus", "economy", "1", "1"), MONDAY + timedelta(days=7))


async def test_a_week_adds_up_exactly_and_only_that_weeks_rows_of_that_team(redis: aioredis.Redis) -> None:
    await _seed_two_weeks(redis)
    digest = await _reader(redis).digest("T1", WEEK)
    now = digest.current
    assert now.outcomes == {"answered": 4, "cache_hit": 1, "failed": 2, "refused": 1, "help": 1}
    assert now.requests == 9
    assert now.cost_usd == Decimal("0.001733457")
    assert now.baseline_usd == Decimal("0.012820864")
    assert now.savings_usd == Decimal("0.011087407")
    assert now.savings_share is not None and round(now.savings_share, 4) == Decimal("0.8648")
    assert now.by_tier == {
        "economy": Spend(2, Decimal("0.000323457"), Decimal("0.004043210")),
        "premium": Spend(1, Decimal("0.001100000"), Decimal("0.005000000")),
        "standard": Spend(2, Decimal("0.000310000"), Decimal("0.002790000")),
    }
    assert now.by_model["deepseek-v4-flash"] == Spend(2, Decimal("0.000310000"), Decimal("0.002790000"))
    assert set(now.by_model) == {"glm-4-plus", "deepseek-v4-pro", "deepseek-v4-flash"}
    assert (now.cache_hits, now.cache_baseline_usd) == (1, Decimal("0.000987654"))

    assert digest.previous is not None
    assert digest.previous.requests == 2 and digest.previous.cost_usd == Decimal("0.001000000")
    assert digest.start == MONDAY and digest.end == MONDAY + timedelta(days=7)


async def test_reads_are_paged_and_scoped(redis: aioredis.Redis) -> None:
    await _seed_two_weeks(redis)
    start, end = WEEK.bounds(UTC_ZONE)
    rows = await Ledger(redis).entries_between("T1", start.timestamp(), end.timestamp(), page_size=2)
    assert [r.request_id for r in rows] == ["a1", "a2", "a3", "c1", "f1", "f2", "r1", "h1", "a4"]
    assert [r.request_id for r in await Ledger(redis).entries_between("T2", start.timestamp(), end.timestamp())] == [
        "x1"
    ]


async def test_rows_recorded_now_land_in_this_week(redis: aioredis.Redis) -> None:
    ledger = Ledger(redis)
    await ledger.record(_row("live", "answered", "glm-4-plus", "economy", "0.000001", "0.00001"))
    week = IsoWeek.containing(datetime.now(UTC), UTC_ZONE)
    figures = await _reader(redis).week("T1", week)
    assert figures.requests == 1 and figures.cost_usd == Decimal("0.000001")
    assert (await _reader(redis).week("T1", week.previous())).requests == 0


async def test_votes_count_net_per_model_and_tier(redis: aioredis.Redis) -> None:
    feedback = FeedbackLog(redis)

    def vote(request: str, user: str, good: bool, model: str, tier: str) -> Vote:
        return Vote(
            team_id="T1",
            channel_id="C1",
            request_id=request,
            user_id=user,
            good=good,
            model=model,
            tier=tier,
            task="qa",
        )

    await feedback.add(vote("r1", "U1", True, "glm-4-plus", "economy"))
    await feedback.add(vote("r1", "U2", True, "glm-4-plus", "economy"))
    await feedback.add(vote("r2", "U1", False, "glm-4-plus", "economy"))
    await feedback.add(vote("r3", "U1", True, "deepseek-v4-pro", "premium"))
    await feedback.add(vote("r4", "U3", False, "deepseek-v4-pro", "premium"))
    await feedback.remove(vote("r4", "U3", False, "deepseek-v4-pro", "premium"))  # changed their mind
    await feedback.add(vote("r1", "U1", True, "glm-4-plus", "economy"))  # a repeated event counts once
    await feedback.add(
        Vote(
            team_id="T2",
            channel_id="C9",
            request_id="z",
            user_id="U9",
            good=False,
            model="glm-4-plus",
            tier="economy",
            task="qa",
        )
    )

    week = IsoWeek.containing(datetime.now(UTC), UTC_ZONE)
    figures = await _reader(redis).week("T1", week)
    assert figures.votes == Votes(good=3, bad=1)
    assert figures.votes.good_share == 0.75
    assert figures.votes_by_model == {"glm-4-plus": Votes(2, 1), "deepseek-v4-pro": Votes(1, 0)}
    assert figures.votes_by_tier == {"economy": Votes(2, 1), "premium": Votes(1, 0)}
    assert figures.requests == 0

    await Ledger(redis).record(_row("r1", "answered", "glm-4-plus", "economy", "0.000001", "0.00001"))
    blocks = digest_blocks(await _reader(redis).digest("T1", week))
    quality = next(b["text"]["text"] for b in blocks if "Quality" in str(b))
    assert quality.splitlines() == [
        "*Quality* 👍 3 · 👎 1 · 75.0% 👍",
        "_by tier_",
        "• `economy` 👍 2 · 👎 1 · 66.7% 👍",
        "• `premium` 👍 1 · 👎 0 · 100.0% 👍",
        "_by model_",
        "• `deepseek-v4-pro` 👍 1 · 👎 0 · 100.0% 👍",
        "• `glm-4-plus` 👍 2 · 👎 1 · 66.7% 👍",
    ]


async def test_an_empty_week_gives_a_short_honest_digest(redis: aioredis.Redis) -> None:
    digest = await _reader(redis).digest("T1", WEEK)
    assert digest.current.requests == 0 and digest.previous is None
    assert fallback_text(digest) == "Penny weekly digest 2026-W40: no requests this week."
    blocks = digest_blocks(digest)
    assert len(blocks) == 3
    assert "No requests this week" in blocks[-1]["text"]["text"]


async def test_blocks_show_the_figures_and_the_change_from_last_week(redis: aioredis.Redis) -> None:
    await _seed_two_weeks(redis)
    digest = await _reader(redis).digest("T1", WEEK)
    text = str(digest_blocks(digest))
    assert fallback_text(digest) == (
        "Penny weekly digest 2026-W40: 9 requests, $0.0017 spent, $0.0111 saved (86.5%) against gpt-4o."
    )
    assert "*Requests*\\n9 (▲ 350.0% vs last week)" in text
    assert "*Spend*\\n$0.0017 (▲ 73.3% vs last week)" in text
    assert "*Saved*\\n$0.0111 (86.5%)" in text
    assert "• `economy` $0.0003 · 2 requests · $0.0040 on gpt-4o" in text
    assert "⚡ 1 answered from cache, $0.0010 not spent on gpt-4o" in text
    assert "⚠️ 2 failed · 1 refused" in text
    assert "no 👍/👎 reactions this week" in text
    assert text.index("`economy`") < text.index("`standard`") < text.index("`premium`"), "tiers cheapest first"


def test_money_is_printed_to_four_places_and_tiny_amounts_are_not_zeroed() -> None:
    assert usd(Decimal("0.01234")) == "$0.0123"
    assert usd(Decimal("0.00005")) == "<$0.0001"
    assert usd(Decimal("0.00015")) == "$0.0002"
    assert usd(Decimal("0.000006")) == "<$0.0001"
    assert usd(Decimal(0)) == "$0.0000"
    assert usd(Decimal("12.5")) == "$12.5000"
    assert usd(Decimal("-0.25")) == "-$0.2500"
    assert change(Decimal("1.5"), Decimal(1)) == "▲ 50.0%"
    assert change(3, 4) == "▼ 25.0%"
    assert change(2, 0) == "new"


def test_iso_weeks() -> None:
    assert str(IsoWeek.parse("2026-W47")) == "2026-W47"
    start, end = IsoWeek.parse("2026-W47").bounds(UTC_ZONE)
    assert (start, end) == (datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC))
    assert IsoWeek(2026, 1).previous() == IsoWeek(2025, 52)
    assert IsoWeek(2021, 1).previous() == IsoWeek(2020, 53)
    assert IsoWeek.last_complete(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), UTC_ZONE) == IsoWeek(2026, 47)
    berlin = ZoneInfo("Europe/Berlin")
    start, _ = IsoWeek(2026, 47).bounds(berlin)
    assert start.astimezone(UTC) == datetime(2026, 11, 15, 23, 0, tzinfo=UTC)
    # Sunday 23:30 UTC is already Monday in Berlin: last complete week there is the one that just ended.
    assert IsoWeek.last_complete(datetime(2026, 11, 22, 23, 30, tzinfo=UTC), berlin) == IsoWeek(2026, 47)
    for bad in ("2026-47", "2026-W54", "2025-W53", "W47"):
        with pytest.raises(ValueError):
            IsoWeek.parse(bad)


async def test_prompt_cache_and_reused_summary_parts_are_reported(redis: aioredis.Redis) -> None:
    cached = replace(
        _row("q1", "answered", "deepseek-v4-flash", "standard", "0.0001", "0.001"),
        prompt_tokens=3000,
        cached_tokens=2400,
    )
    summary = replace(
        _row("s1", "answered", "deepseek-v4-flash", "standard", "0.0002", "0.004"),
        task="summarize",
        prompt_tokens=1000,
        summary_chunks=8,
        chunks_reused=6,
        reuse_saved_usd=Decimal("0.0015"),
    )
    await record_at(redis, cached, MONDAY + timedelta(hours=1))
    await record_at(redis, summary, MONDAY + timedelta(hours=2))
    digest = await _reader(redis).digest("T1", WEEK)
    week = digest.current
    assert (week.prompt_tokens, week.cached_tokens, week.cached_share) == (4000, 2400, 0.6)
    assert (week.summary_chunks, week.chunks_reused, week.reuse_saved_usd) == (8, 6, Decimal("0.0015"))
    text = str(digest_blocks(digest))
    assert "Prompt cache: 60.0% of prompt tokens (2,400 of 4,000)" in text
    assert "6 of 8 parts were reused from earlier summaries instead of summarized again, $0.0015 not spent" in text


async def test_a_week_without_cached_tokens_or_reuse_says_nothing_about_them(redis: aioredis.Redis) -> None:
    await _seed_two_weeks(redis)
    text = str(digest_blocks(await _reader(redis).digest("T1", WEEK)))
    assert "Prompt cache" not in text and "parts were reused" not in text


async def test_escalations_are_counted_per_model_and_reason_and_survive_day_totals(redis: aioredis.Redis) -> None:
    up = replace(
        _row("e1", "answered", "deepseek-v4-flash", "standard", "0.0002", "0.002"),
        escalations=(("glm-4-plus", "repetition"),),
    )
    twice = replace(
        _row("e2", "answered", "deepseek-v4-pro", "premium", "0.0004", "0.002"),
        escalations=(("glm-4-plus", "leaked_tokens"), ("deepseek-v4-flash", "repetition")),
    )
    await record_at(redis, _row("e3", "answered", "glm-4-plus", "economy", "0.0001", "0.001"), MONDAY)
    await record_at(redis, up, MONDAY + timedelta(hours=1))
    await record_at(redis, twice, MONDAY + timedelta(hours=2))
    digest = await _reader(redis).digest("T1", WEEK)
    expected = {"deepseek-v4-flash": {"repetition": 1}, "glm-4-plus": {"leaked_tokens": 1, "repetition": 1}}
    assert digest.current.escalations == expected
    text = str(digest_blocks(digest))
    assert "*Escalations*" in text
    assert "`glm-4-plus` 2 (1 leaked template tokens · 1 looped)" in text and "`deepseek-v4-flash` 1 (1 looped)" in text
    kept, _ = decode(encode(digest.current, tz="UTC", rows=3))
    assert kept.escalations == expected, "a trimmed day keeps its escalations"


async def test_a_week_without_escalations_does_not_mention_them(redis: aioredis.Redis) -> None:
    await _seed_two_weeks(redis)
    assert "Escalations" not in str(digest_blocks(await _reader(redis).digest("T1", WEEK)))
