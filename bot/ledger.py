"""The cost ledger: one row per request — answered, served from cache, refused or failed.

Rows go to a per-workspace Redis stream. Exactly-once is enforced here rather than trusted to callers: a Lua
script adds the row only if the request id was never recorded, so a retried event or a crash-and-takeover can't
count a request twice. Money is stored as decimal strings of USD (never floats).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from bot.observability import ANSWER_SECONDS, REQUESTS
from bot.redis.keys import ledger_seen_key, ledger_stream_key
from vocabulary import RequestOutcome, TaskKind, Tier

log = structlog.get_logger(__name__)

_RECORD_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
end
return false
"""

SEEN_TTL_S = 30 * 86400


@dataclass(frozen=True)
class LedgerEntry:
    """One request's row. ``task`` is None when no task applies (a usage message, a failure before classifying).

    ``cached_tokens`` is the part of ``prompt_tokens`` providers served from their prompt caches (billed at the
    cached price). A memoized summary says how many of its ``summary_chunks`` it took from earlier summaries
    (``chunks_reused``), what making those again would have cost (``reuse_saved_usd``) and taken
    (``reuse_saved_ms``); their baseline cost is part of ``baseline_cost_usd``. Rows written before these fields
    existed read them as zero.
    """

    request_id: str
    team_id: str
    channel_id: str
    user_id: str
    surface: str
    task: TaskKind | None
    outcome: RequestOutcome
    model: str = ""
    tier: Tier | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    baseline_cost_usd: Decimal = Decimal(0)
    estimated: bool = False
    latency_ms: int = 0
    attempts: int = 0
    created_at: float = field(default_factory=time.time)
    cached_tokens: int = 0
    summary_chunks: int = 0
    chunks_reused: int = 0
    reuse_saved_usd: Decimal = Decimal(0)
    reuse_saved_ms: int = 0

    def to_fields(self) -> dict[str, str]:
        def text(value: object) -> str:
            if value is None:
                return ""
            return str(int(value)) if isinstance(value, bool) else str(value)

        return {key: text(value) for key, value in asdict(self).items()}

    @classmethod
    def from_fields(cls, fields: Any) -> LedgerEntry:
        raw = {k.decode(): v.decode() for k, v in fields.items()}
        return cls(
            request_id=raw["request_id"],
            team_id=raw["team_id"],
            channel_id=raw["channel_id"],
            user_id=raw["user_id"],
            surface=raw["surface"],
            # Rows written before the vocabulary was shared say "help" or "unknown" where no task applied: None.
            task=TaskKind.parse(raw["task"]),
            outcome=RequestOutcome(raw["outcome"]),
            model=raw["model"],
            tier=Tier(raw["tier"]) if raw["tier"] else None,
            prompt_tokens=int(raw["prompt_tokens"]),
            completion_tokens=int(raw["completion_tokens"]),
            cost_usd=Decimal(raw["cost_usd"]),
            baseline_cost_usd=Decimal(raw["baseline_cost_usd"]),
            estimated=raw["estimated"] == "1",
            latency_ms=int(raw["latency_ms"]),
            attempts=int(raw["attempts"]),
            created_at=float(raw["created_at"]),
            cached_tokens=int(raw.get("cached_tokens") or 0),
            summary_chunks=int(raw.get("summary_chunks") or 0),
            chunks_reused=int(raw.get("chunks_reused") or 0),
            reuse_saved_usd=Decimal(raw.get("reuse_saved_usd") or 0),
            reuse_saved_ms=int(raw.get("reuse_saved_ms") or 0),
        )


class Ledger:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._record = redis.register_script(_RECORD_ONCE)

    async def record(self, entry: LedgerEntry) -> bool:
        """Append the row unless this request id was already recorded; True when it was added."""
        flat: list[str] = []
        for key, value in entry.to_fields().items():
            flat.extend((key, value))
        added = await self._record(
            keys=[ledger_seen_key(entry.team_id, entry.request_id), ledger_stream_key(entry.team_id)],
            args=[SEEN_TTL_S, *flat],
        )
        return added is not None

    async def close(self, entry: LedgerEntry) -> None:
        """The end of every request, whoever served it: count it in the metrics and write its one row.

        Never raises: by now the reply is out, so a Redis outage that outlasted the client's retries is logged
        loudly (what was not counted) instead of turning a delivered answer into an error.
        """
        REQUESTS.labels(surface=entry.surface, outcome=entry.outcome).inc()
        ANSWER_SECONDS.observe(entry.latency_ms / 1000)
        try:
            await self.record(entry)
        except RedisError:
            log.error("ledger.write_failed", request_id=entry.request_id, outcome=entry.outcome)

    async def entries(self, team_id: str, channel_id: str | None = None, count: int = 10_000) -> list[LedgerEntry]:
        """Rows of one workspace (and one channel, when given): reads are always scoped."""
        rows = await self._redis.xrange(ledger_stream_key(team_id), count=count)
        entries = [LedgerEntry.from_fields(fields) for _, fields in rows or []]
        return [e for e in entries if channel_id is None or e.channel_id == channel_id]

    async def entries_between(
        self, team_id: str, start: float, end: float, *, page_size: int = 1000
    ) -> list[LedgerEntry]:
        """One workspace's rows recorded in ``[start, end)`` (epoch seconds), all of them, oldest first.

        The stream id is the time the row was recorded (milliseconds), so a time range is one XRANGE, read in
        pages so a busy week never arrives as one huge reply.
        """
        key = ledger_stream_key(team_id)
        low = str(round(start * 1000))
        # An incomplete id as the upper bound means "<ms>-<max seq>", so the last millisecond before ``end`` is
        # the inclusive bound (an exclusive "(<end ms>" would still let rows stamped exactly at ``end`` in).
        high = str(round(end * 1000) - 1)
        entries: list[LedgerEntry] = []
        while True:
            rows = await self._redis.xrange(key, min=low, max=high, count=page_size) or []
            entries.extend(LedgerEntry.from_fields(fields) for _, fields in rows)
            if len(rows) < page_size:
                return entries
            last = rows[-1][0]
            low = f"({last.decode() if isinstance(last, bytes) else last}"
