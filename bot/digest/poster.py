"""Post one workspace's weekly digest to its channel, once, whichever replica gets there first.

Every replica runs the same schedule, so the week is claimed with a Redis lock (``SET NX`` with a TTL of two
weeks, via redis-py's ``Lock``, whose release only deletes a token it owns). Whoever holds it posts; the lock is
kept after a successful post, and released when the text could not be posted, so the next run (another replica,
or ``penny digest``) can retry. The chart is a bonus: a drawing or upload failure is logged and the text stands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
import structlog
from redis.exceptions import LockError, RedisError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.blocks import digest_blocks, fallback_text
from bot.digest.daily import DailyFigures
from bot.digest.report import Digest, DigestReader, IsoWeek
from bot.ledger import Ledger
from bot.redis.keys import digest_lock_key
from routing.learned.feedback_log import FeedbackLog

log = structlog.get_logger(__name__)

LOCK_TTL_S = 14 * 86400  # outlives any retry within the week; the key names the week, so it never blocks the next
ChartFn = Callable[[Digest], bytes]


class PostStatus(StrEnum):
    POSTED = "posted"
    ALREADY_POSTED = "already_posted"  # another replica (or an earlier run) holds this week's lock


@dataclass(frozen=True)
class PostResult:
    status: PostStatus
    week: IsoWeek
    message_ts: str | None = None
    chart_file_id: str | None = None


def _default_chart(digest: Digest) -> bytes:
    from bot.digest.chart import render_chart

    return render_chart(digest)


class DigestPoster:
    """Builds a digest from Redis and posts it (message, then chart) to one channel."""

    def __init__(
        self,
        slack: AsyncWebClient,
        redis: aioredis.Redis,
        reader: DigestReader,
        *,
        channel: str,
        chart: ChartFn = _default_chart,
        lock_ttl_s: int = LOCK_TTL_S,
    ) -> None:
        self._slack = slack
        self._redis = redis
        self._reader = reader
        self._channel = channel
        self._chart = chart
        self._lock_ttl_s = lock_ttl_s
        self._team_id: str | None = None

    async def team_id(self) -> str:
        """The workspace of the bot token (one workspace per deployment), asked once."""
        if self._team_id is None:
            response = await self._slack.auth_test()
            self._team_id = str(response["team_id"])
        return self._team_id

    async def build(self, week: IsoWeek) -> Digest:
        return await self._reader.digest(await self.team_id(), week)

    async def run(self, week: IsoWeek, *, force: bool = False) -> PostResult:
        """Post ``week``'s digest unless it was already posted; ``force`` posts regardless of the lock."""
        team_id = await self.team_id()
        if force:
            return await self._post(await self._reader.digest(team_id, week))
        lock = self._redis.lock(
            digest_lock_key(team_id, str(week)), timeout=self._lock_ttl_s, blocking=False, thread_local=False
        )
        if not await lock.acquire():
            log.info("digest.already_posted", team_id=team_id, week=str(week))
            return PostResult(PostStatus.ALREADY_POSTED, week)
        try:
            return await self._post(await self._reader.digest(team_id, week))
        except BaseException:
            try:
                await lock.release()
            except (LockError, RedisError):  # it expires on its own; say so instead of hiding the first error
                log.warning("digest.lock_release_failed", team_id=team_id, week=str(week))
            raise

    async def _post(self, digest: Digest) -> PostResult:
        png = await self._draw(digest)
        response = await self._slack.chat_postMessage(
            channel=self._channel,
            text=fallback_text(digest),
            blocks=digest_blocks(digest),
            unfurl_links=False,
            unfurl_media=False,
        )
        message_ts = str(response["ts"])
        file_id = await self._upload(digest, png) if png is not None else None
        log.info(
            "digest.posted",
            team_id=digest.team_id,
            week=str(digest.week),
            channel=self._channel,
            ts=message_ts,
            requests=digest.current.requests,
            chart=file_id is not None,
        )
        return PostResult(PostStatus.POSTED, digest.week, message_ts, file_id)

    async def _draw(self, digest: Digest) -> bytes | None:
        if digest.current.requests == 0:
            return None  # nothing to draw; the text says so
        try:
            return await asyncio.to_thread(self._chart, digest)
        except Exception:
            log.exception("digest.chart_failed", team_id=digest.team_id, week=str(digest.week))
            return None

    async def _upload(self, digest: Digest, png: bytes) -> str | None:
        try:
            response: Any = await self._slack.files_upload_v2(
                channel=self._channel,
                file=png,
                filename=f"penny-digest-{digest.week}.png",
                title=f"Penny spend {digest.week}",
                alt_txt=f"Spend per tier and model against the baseline, {digest.week}",
            )
        except SlackApiError as exc:
            log.warning(
                "digest.chart_upload_failed",
                team_id=digest.team_id,
                week=str(digest.week),
                error=exc.response.get("error"),
            )
            return None
        except Exception:  # the text is out: whatever went wrong with the file must not undo (or repeat) it
            log.exception("digest.chart_upload_failed", team_id=digest.team_id, week=str(digest.week))
            return None
        files = response.get("files") or [response.get("file") or {}]
        return str(files[0].get("id")) if files and files[0].get("id") else None


def build_digest_poster(
    slack: AsyncWebClient, redis: aioredis.Redis, *, channel: str, tz: ZoneInfo, baseline_model: str
) -> DigestPoster:
    """The poster wired to the real ledger and feedback log (the composition root and the CLI share this)."""
    reader = DigestReader(
        Ledger(redis),
        FeedbackLog(redis),
        tz=tz,
        baseline_model=baseline_model,
        kept_days=DailyFigures(redis, tz=tz.key),
    )
    return DigestPoster(slack, redis, reader, channel=channel)
