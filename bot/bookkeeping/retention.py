"""Retention: a workspace's ledger rows older than ``PENNY_LEDGER_RETENTION_DAYS`` are trimmed from its stream —
but only after the totals of each of their days are kept (``bot/digest/daily.py``), so the weekly digest says the
same about a trimmed week as it did before. Under ``noeviction`` an untrimmed stream would one day make every write
fail; trimmed, the ledger's memory stops growing at the retention age.

Whole local days only (in the digest's time zone): a day's totals are computed from all of its rows at once, then
its rows go, so a day is never half in totals and half in rows. Days are folded page by page, never loaded whole.
Safe on every replica at once: a day's totals are written once (set if absent) and trimming is idempotent.
``penny ledger export`` archives rows before they go.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
import structlog

from bot.digest.daily import DailyFigures
from bot.digest.report import WeekFigures, aggregate, local_day_bounds
from bot.ledger import Ledger, recorded_at
from bot.redis.keys import LEDGER_STREAM_PATTERN, LEDGER_TEAMS_KEY, ledger_stream_key, team_of_key

log = structlog.get_logger(__name__)


async def ledger_teams(redis: aioredis.Redis, *, scan: bool = False) -> list[str]:
    """The workspaces with a ledger, from their set; with ``scan``, found in Redis' keys too (and added to it).

    A scan walks every key (a month of request ids is tens of millions at scale), so it runs once per process
    start, to find workspaces whose rows were written before the set existed or by a process that died before it
    named them; after that the keeper adds every workspace the process recorded a row for.
    """
    teams = {_text(t) for t in await redis.smembers(LEDGER_TEAMS_KEY)}
    if scan:
        found = {
            team_of_key(_text(key))
            async for key in redis.scan_iter(match=LEDGER_STREAM_PATTERN, count=1000, _type="STREAM")
        }
        if found - teams:
            await redis.sadd(LEDGER_TEAMS_KEY, *sorted(found - teams))
        teams |= found
    return sorted(teams)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class LedgerRetention:
    def __init__(
        self,
        redis: aioredis.Redis,
        ledger: Ledger,
        daily: DailyFigures,
        *,
        keep_days: float,
        tz: ZoneInfo,
        clock: Callable[[], float] = time.time,
        page_size: int = 1000,
    ) -> None:
        self._redis = redis
        self._ledger = ledger
        self._daily = daily
        self._keep_s = keep_days * 86400
        self._tz = tz
        self._clock = clock
        self._page_size = page_size
        self._scanned = False

    async def run(self, *, now: float | None = None) -> int:
        """Trim every workspace; returns how many rows went. The first run of a process also scans for them."""
        at = self._clock() if now is None else now
        if self._ledger.teams_seen:
            await self._redis.sadd(LEDGER_TEAMS_KEY, *sorted(self._ledger.teams_seen))
        trimmed = 0
        for team_id in await ledger_teams(self._redis, scan=not self._scanned):
            trimmed += await self.trim(team_id, now=at)
        self._scanned = True
        return trimmed

    async def trim(self, team_id: str, *, now: float | None = None) -> int:
        """Keep the totals of every whole day older than the retention age, then trim those days' rows."""
        at = self._clock() if now is None else now
        cutoff_day = datetime.fromtimestamp(at - self._keep_s, self._tz).date()
        cutoff = local_day_bounds(cutoff_day, self._tz)[0].timestamp()
        day = await self._first_day_with_rows(team_id, after=0.0)
        kept = 0
        while day is not None and day < cutoff_day:
            start, end = local_day_bounds(day, self._tz)
            if not await self._daily.exists(team_id, day):
                kept += await self._keep_day(team_id, day, start.timestamp(), end.timestamp())
            day = await self._first_day_with_rows(team_id, after=end.timestamp())
        key = ledger_stream_key(team_id)
        trimmed = int(await self._redis.xtrim(key, minid=str(round(cutoff * 1000)), approximate=False))
        if trimmed:
            log.info("ledger.trimmed", team_id=team_id, rows=trimmed, days_kept=kept, before=cutoff_day.isoformat())
        return trimmed

    async def _keep_day(self, team_id: str, day: date, start: float, end: float) -> int:
        figures, rows = WeekFigures(), 0
        async for page in self._ledger.pages_between(team_id, start, end, page_size=self._page_size):
            figures = aggregate((entry for _, entry in page), (), (figures,))
            rows += len(page)
        if not rows:
            return 0
        await self._daily.keep(team_id, day, figures, rows=rows)
        return 1

    async def _first_day_with_rows(self, team_id: str, *, after: float) -> date | None:
        """The local day of the first row recorded at or after ``after`` (skips empty stretches in one read)."""
        first = await self._redis.xrange(ledger_stream_key(team_id), min=str(round(after * 1000)), count=1)
        if not first:
            return None
        stream_id = first[0][0]
        at = recorded_at(stream_id.decode() if isinstance(stream_id, bytes) else str(stream_id))
        return datetime.fromtimestamp(at, self._tz).date()
