"""The weekly digest's schedule: APScheduler's ``AsyncIOScheduler`` with a crontab trigger from settings
(``bot/crontab.py``: standard crontab weekday numbers, which APScheduler 3.x's own parser shifts by a day).

Every replica schedules the same job; the week's Redis lock in ``bot/digest/poster.py`` makes exactly one of them
post. The job reports the last *complete* week in the digest's time zone, so a Monday-morning run covers
Monday → Sunday just ended. A failed run is logged and left to the next trigger or to ``penny digest``: the
lock was released, so nothing is lost but time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.crontab import crontab_trigger
from bot.digest.poster import DigestPoster
from bot.digest.report import IsoWeek

log = structlog.get_logger(__name__)

JOB_ID = "penny-weekly-digest"
MISFIRE_GRACE_S = 6 * 3600  # a replica that was down at 09:00 and is back by 15:00 still posts (if nobody did)


class DigestScheduler:
    """Owns one ``AsyncIOScheduler`` (on the running loop) with the digest job on it."""

    def __init__(
        self, poster: DigestPoster, *, cron: str, tz: ZoneInfo, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._poster = poster
        self._tz = tz
        self._now = now
        self.trigger = crontab_trigger(cron, timezone=tz)
        self.scheduler = AsyncIOScheduler(timezone=tz)
        self.scheduler.add_job(
            self.run_once, self.trigger, id=JOB_ID, coalesce=True, max_instances=1, misfire_grace_time=MISFIRE_GRACE_S
        )

    def start(self) -> None:
        """Start on the running event loop (call from async code)."""
        self.scheduler.start()
        job = self.scheduler.get_job(JOB_ID)
        log.info("digest.scheduled", next_run=str(job.next_run_time) if job else None)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def run_once(self) -> None:
        """The scheduled job: post the last complete week's digest; never raises into the scheduler."""
        week = IsoWeek.last_complete(self._now(), self._tz)
        try:
            result = await self._poster.run(week)
        except Exception:
            log.exception("digest.failed", week=str(week))
            return
        log.info("digest.run", week=str(week), status=result.status.value)
