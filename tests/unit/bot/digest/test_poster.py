"""Posting the digest: one post per week across replicas, the text survives chart trouble, a failed post retries.

Runs the real poster and APScheduler against the Slack Web API emulator and a real redis-server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import load_settings
from bot.digest.poster import DigestPoster, PostStatus, build_digest_poster
from bot.digest.report import Digest, DigestReader, IsoWeek
from bot.digest.scheduler import JOB_ID, DigestScheduler
from bot.ledger import Ledger, LedgerEntry
from bot.redis.connection import plain_client
from bot.redis.keys import digest_lock_key
from routing.learned.feedback_log import FeedbackLog
from tests.harness.ledger_seed import record_at
from tests.harness.slack_emulator import SlackEmulator

UTC_ZONE = ZoneInfo("UTC")
WEEK = IsoWeek(2026, 47)
RUN_AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the Monday after: the scheduler reports 2026-W47


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def channel(slack: SlackEmulator) -> str:
    return slack.add_channel("penny-costs").id


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = plain_client(redis_url)
    start, _ = WEEK.bounds(UTC_ZONE)
    for hour, (model, tier, cost, baseline) in enumerate(
        [
            ("glm-4-plus", "economy", "0.000120000", "0.001500000"),
            ("deepseek-v4-pro", "premium", "0.001000000", "0.004500000"),
        ]
    ):
        await record_at(
            client,
            LedgerEntry(
                request_id=f"r{hour}",
                team_id="T0001",
                channel_id="C1",
                user_id="U1",
                surface="mention",
                task="qa",
                outcome="answered",
                model=model,
                tier=tier,
                cost_usd=Decimal(cost),
                baseline_cost_usd=Decimal(baseline),
            ),
            start + timedelta(hours=hour + 1),
        )
    yield client
    await client.aclose()


def _poster(slack: SlackEmulator, redis: aioredis.Redis, channel: str) -> DigestPoster:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
    return build_digest_poster(client, redis, channel=channel, tz=UTC_ZONE, baseline_model="gpt-4o")


def _digests(slack: SlackEmulator, channel: str) -> list[str]:
    return [m.text for m in slack.bot_messages(channel) if m.text.startswith("Penny weekly digest")]


async def test_two_scheduled_replicas_post_one_digest_with_its_chart(
    slack: SlackEmulator, redis: aioredis.Redis, redis_url: str, channel: str
) -> None:
    other_redis = plain_client(redis_url)  # a second replica: its own connection, the same Redis
    schedulers = [
        DigestScheduler(_poster(slack, client, channel), cron="0 9 * * mon", tz=UTC_ZONE, now=lambda: RUN_AT)
        for client in (redis, other_redis)
    ]
    ran: list[None] = []
    for scheduler in schedulers:
        scheduler.scheduler.add_listener(lambda _event: ran.append(None), mask=EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.start()
    try:
        for scheduler in schedulers:  # fire now instead of waiting for Monday 09:00
            scheduler.scheduler.modify_job(JOB_ID, next_run_time=datetime.now(UTC))
        await slack.await_for(lambda: len(ran) == 2, timeout=20, what="both replicas ran the job")
    finally:
        for scheduler in schedulers:
            scheduler.shutdown()
        await other_redis.aclose()
    assert _digests(slack, channel) == [
        "Penny weekly digest 2026-W47: 2 requests, $0.0011 spent, $0.0049 saved (81.3%) against gpt-4o."
    ]
    files = [f for f in slack.uploaded_files() if f.channel == channel]
    assert len(files) == 1 and files[0].filename == "penny-digest-2026-W47.png"
    assert files[0].content is not None and files[0].content.startswith(b"\x89PNG\r\n\x1a\n")
    assert await redis.exists(digest_lock_key("T0001", "2026-W47"))


async def test_concurrent_runs_post_once_and_force_posts_again(
    slack: SlackEmulator, redis: aioredis.Redis, channel: str
) -> None:
    results = await asyncio.gather(*(_poster(slack, redis, channel).run(WEEK) for _ in range(4)))
    assert sorted(r.status for r in results) == [PostStatus.ALREADY_POSTED] * 3 + [PostStatus.POSTED]
    assert len(_digests(slack, channel)) == 1
    forced = await _poster(slack, redis, channel).run(WEEK, force=True)
    assert forced.status is PostStatus.POSTED
    assert len(_digests(slack, channel)) == 2


async def test_a_failed_post_releases_the_week_so_the_next_run_posts(
    slack: SlackEmulator, redis: aioredis.Redis, channel: str
) -> None:
    slack.fail_next("chat.postMessage", "internal_error")
    with pytest.raises(SlackApiError):
        await _poster(slack, redis, channel).run(WEEK)
    assert not await redis.exists(digest_lock_key("T0001", "2026-W47"))
    assert _digests(slack, channel) == []

    result = await _poster(slack, redis, channel).run(WEEK)
    assert result.status is PostStatus.POSTED and len(_digests(slack, channel)) == 1


async def test_a_chart_that_cannot_be_drawn_leaves_the_text(
    slack: SlackEmulator, redis: aioredis.Redis, channel: str
) -> None:
    def broken_chart(_digest: Digest) -> bytes:
        raise RuntimeError("no fonts")

    client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
    reader = DigestReader(Ledger(redis), FeedbackLog(redis), tz=UTC_ZONE, baseline_model="gpt-4o")
    result = await DigestPoster(client, redis, reader, channel=channel, chart=broken_chart).run(WEEK)
    assert result.status is PostStatus.POSTED and result.chart_file_id is None
    assert len(_digests(slack, channel)) == 1 and slack.uploaded_files() == []


async def test_a_failed_upload_keeps_the_text_and_the_week_stays_posted(
    slack: SlackEmulator, redis: aioredis.Redis, channel: str
) -> None:
    slack.fail_next("files.completeUploadExternal", "internal_error")
    result = await _poster(slack, redis, channel).run(WEEK)
    assert result.status is PostStatus.POSTED and result.chart_file_id is None
    assert len(_digests(slack, channel)) == 1
    again = await _poster(slack, redis, channel).run(WEEK)
    assert again.status is PostStatus.ALREADY_POSTED, "the text went out: no second digest for a missing chart"
    assert len(_digests(slack, channel)) == 1


async def test_the_default_schedule_is_monday_nine_utc(slack: SlackEmulator, redis: aioredis.Redis) -> None:
    settings = load_settings()
    scheduler = DigestScheduler(_poster(slack, redis, "C1"), cron=settings.digest_cron, tz=settings.digest_tz)
    fire = scheduler.trigger.get_next_fire_time(None, datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    assert fire == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
