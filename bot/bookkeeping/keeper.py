"""The ledger's keeper: one background task per process that flushes the spool whenever Redis answers, and trims
rows past the retention age (after their day's totals are kept) about once an hour.

Started by ``Penny.start``: a process that starts with rows left in the spool (it crashed, or Redis was down when
it stopped) flushes them first thing. Nothing here ever raises out of the loop: a failed flush or trim is logged
and tried again later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import redis.asyncio as aioredis
import structlog

from bot.bookkeeping.retention import LedgerRetention
from bot.bookkeeping.spool import FileSpool
from bot.ledger import Ledger
from bot.observability import FLUSHED

log = structlog.get_logger(__name__)


class LedgerKeeper:
    def __init__(
        self,
        redis: aioredis.Redis,
        ledger: Ledger,
        spool: FileSpool,
        retention: LedgerRetention | None,
        *,
        flush_interval_s: float = 1.0,
        idle_interval_s: float = 5.0,
        retention_interval_s: float = 3600.0,
        redis_timeout_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._ledger = ledger
        self._spool = spool
        self._retention = retention
        self._flush_interval_s = flush_interval_s
        self._idle_interval_s = idle_interval_s
        self._retention_interval_s = retention_interval_s
        self._redis_timeout_s = redis_timeout_s
        self._monotonic = monotonic
        self._next_retention = 0.0

    async def run(self) -> None:
        """Until cancelled: flush what is spooled, trim what is old."""
        while True:
            pending = await asyncio.to_thread(self._spool.pending)
            if pending:
                try:
                    await self.flush()
                except Exception as exc:
                    log.warning("ledger.flush_failed", error=type(exc).__name__)
            if self._retention is not None and self._monotonic() >= self._next_retention:
                try:
                    await self._retention.run()
                    self._next_retention = self._monotonic() + self._retention_interval_s
                except Exception as exc:  # Redis away: try again soon, not in an hour
                    log.warning("ledger.retention_failed", error=type(exc).__name__)
                    self._next_retention = self._monotonic() + 60.0
            await asyncio.sleep(self._flush_interval_s if pending else self._idle_interval_s)

    async def flush(self) -> int:
        """Write every spooled row Redis will take now; returns how many went. Stops at the first failure."""
        await asyncio.wait_for(self._redis.ping(), timeout=self._redis_timeout_s)
        written = 0
        for segment in self._spool.take():
            try:
                for entry in segment.entries:
                    await asyncio.wait_for(self._ledger.record(entry), timeout=self._redis_timeout_s)
            except BaseException:
                self._spool.release(segment)
                raise
            self._spool.done(segment)
            written += len(segment.entries)
            FLUSHED.inc(len(segment.entries))
            log.info("ledger.spool_flushed", segment=segment.path.name, rows=len(segment.entries))
        return written
