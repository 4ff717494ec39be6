"""``penny digest``: post (or, with ``--dry-run``, print) one week's digest now, outside the schedule.

For an operator re-sending a digest that failed, or looking at a week before it is posted. It honours the same
weekly lock as the scheduler, so running it next to live replicas cannot post a week twice, unless ``--force``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.config import ENV_PREFIX, ConfigError, Settings
from bot.digest.blocks import digest_blocks, fallback_text
from bot.digest.poster import PostStatus, build_digest_poster
from bot.digest.report import IsoWeek
from routing.catalog import load_catalog


def parse_week(text: str | None, settings: Settings, now: datetime | None = None) -> IsoWeek:
    """``--week`` if given, else the last complete week in the digest's time zone."""
    if text is None:
        return IsoWeek.last_complete(now or datetime.now(UTC), settings.digest_tz)
    try:
        return IsoWeek.parse(text)
    except ValueError as exc:
        raise ConfigError(f"--week: {exc}") from None


async def run_digest(settings: Settings, *, week_text: str | None, dry_run: bool, force: bool) -> int:
    from bot.redis.connection import connect_redis
    from bot.slack.client import build_slack_client

    if settings.slack_bot_token is None:
        raise ConfigError(f"{ENV_PREFIX}SLACK_BOT_TOKEN is not set (the digest asks Slack which workspace it is)")
    if not settings.redis_url:
        # The embedded Redis keeps its files under PENNY_DATA_DIR for `penny run`; a second server on the same
        # files while Penny runs would corrupt them, so the digest command only talks to a Redis by URL.
        raise ConfigError(
            f"{ENV_PREFIX}REDIS_URL is not set (penny digest reads the deployment's Redis by URL; "
            f"with the embedded Redis, the schedule in `penny run` posts the digest)"
        )
    if settings.digest_channel is None and not dry_run:
        raise ConfigError(f"{ENV_PREFIX}DIGEST_CHANNEL is not set (the channel ID to post to; or use --dry-run)")
    week = parse_week(week_text, settings)
    catalog = load_catalog(settings.catalog)
    slack = build_slack_client(settings)
    redis = await connect_redis(settings)
    try:
        poster = build_digest_poster(
            slack,
            redis.client,
            channel=settings.digest_channel or "",
            tz=settings.digest_tz,
            baseline_model=catalog.baseline,
        )
        if dry_run:
            digest = await poster.build(week)
            print(fallback_text(digest))
            print(json.dumps(digest_blocks(digest), indent=2, ensure_ascii=False))
            return 0
        result = await poster.run(week, force=force)
    finally:
        await redis.close()
    if result.status is PostStatus.ALREADY_POSTED:
        print(f"penny: the digest for {week} was already posted (use --force to post it again)")
        return 1
    chart = "with chart" if result.chart_file_id else "without chart"
    print(f"penny: posted the digest for {week} to {settings.digest_channel} ({chart})")
    return 0
