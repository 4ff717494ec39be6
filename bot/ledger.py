"""The cost ledger: one row per request — answered, served from cache, refused or failed.

Rows go to a per-workspace Redis stream. Exactly-once is enforced here rather than trusted to callers: a Lua
script adds the row only if the request id was never recorded, so a retried event or a crash-and-takeover can't
count a request twice. Money is stored as decimal strings of USD (never floats).

A row Redis cannot take is not lost: ``close`` gives Redis a few seconds, then hands the row to the spool (an
fsync'd local file, ``bot/bookkeeping/spool.py``), which writes it when Redis is back — through the same script,
so a row that did reach Redis before the connection broke is still counted once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import redis.asyncio as aioredis
import structlog

from bot.observability import observe_row
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
WRITE_TIMEOUT_S = 5.0  # then the row goes to the spool; Redis answers in well under a millisecond when it is up


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class LedgerEntry:
    """One request's row. ``task`` is None when no task applies (a usage message, a failure before classifying).

    ``cached_tokens`` is the part of ``prompt_tokens`` providers served from their prompt caches (billed at the
    cached price). A memoized summary says how many of its ``summary_chunks`` it took from earlier summaries
    (``chunks_reused``), what making those again would have cost (``reuse_saved_usd``) and taken
    (``reuse_saved_ms``); their baseline cost is part of ``baseline_cost_usd``. Rows written before these fields
    existed read them as zero. ``escalations`` lists (model, why) for each answer that failed its quality check
    (a loop, leaked template tokens, an empty refusal) so a dearer tier answered instead; stored as JSON.
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
    escalations: tuple[tuple[str, str], ...] = ()

    def to_fields(self) -> dict[str, str]:
        def text(value: object) -> str:
            if value is None:
                return ""
            return str(int(value)) if isinstance(value, bool) else str(value)

        fields = {key: text(value) for key, value in asdict(self).items()}
        fields["escalations"] = json.dumps([list(pair) for pair in self.escalations]) if self.escalations else ""
        return fields

    @classmethod
    def from_fields(cls, fields: Any) -> LedgerEntry:
        """From a stream entry's fields (bytes) or ``to_fields``' own strings (the spool's lines)."""
        raw = {_text(k): _text(v) for k, v in fields.items()}
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
            escalations=tuple((str(m), str(k)) for m, k in json.loads(raw.get("escalations") or "[]")),
        )


class RowSpool(Protocol):
    """Where a row goes when Redis cannot take it (``bot/bookkeeping/spool.py``; ``NoSpool`` keeps nothing)."""

    def append(self, entry: LedgerEntry) -> bool:
        """Keep the row durably until Redis takes it; False when it could not be kept."""
        ...


class NoSpool:
    """No spool (tests, read-only users of the ledger): a row Redis cannot take is logged as lost."""

    def append(self, entry: LedgerEntry) -> bool:
        return False


class Ledger:
    def __init__(
        self, redis: aioredis.Redis, *, spool: RowSpool | None = None, write_timeout_s: float = WRITE_TIMEOUT_S
    ) -> None:
        self._redis = redis
        self._record = redis.register_script(_RECORD_ONCE)
        self._spool: RowSpool = spool or NoSpool()
        self._write_timeout_s = write_timeout_s
        self.teams_seen: set[str] = set()  # written to LEDGER_TEAMS_KEY by the keeper, for retention

    async def record(self, entry: LedgerEntry) -> bool:
        """Append the row unless this request id was already recorded; True when it was added."""
        flat: list[str] = []
        for key, value in entry.to_fields().items():
            flat.extend((key, value))
        added = await self._record(
            keys=[ledger_seen_key(entry.team_id, entry.request_id), ledger_stream_key(entry.team_id)],
            args=[SEEN_TTL_S, *flat],
        )
        self.teams_seen.add(entry.team_id)
        return added is not None

    async def close(self, entry: LedgerEntry) -> None:
        """The end of every request, whoever served it: count it in the metrics and write its one row.

        Never raises: by now the reply is out. If Redis does not take the row within ``write_timeout_s`` (an
        outage, a full Redis refusing writes), the row is spooled to local disk and written when Redis is back;
        only when even that fails is it logged as lost. A request cancelled mid-write (shutdown) spools too.
        """
        observe_row(entry)
        try:
            await asyncio.wait_for(self.record(entry), timeout=self._write_timeout_s)
            return
        except asyncio.CancelledError:
            try:
                self._keep(entry, "cancelled")
            except Exception:
                log.error("ledger.write_failed", request_id=entry.request_id, outcome=entry.outcome, reason="cancelled")
            raise
        except Exception as exc:  # RedisError, a timeout, a full Redis: whatever it is, the row must survive it
            reason = type(exc).__name__
        try:
            kept = await asyncio.to_thread(self._keep, entry, reason)
        except Exception:
            kept = False
        if not kept:
            log.error("ledger.write_failed", request_id=entry.request_id, outcome=entry.outcome, reason=reason)

    def _keep(self, entry: LedgerEntry, reason: str) -> bool:
        kept = self._spool.append(entry)
        if kept:
            log.warning("ledger.spooled", request_id=entry.request_id, reason=reason)
        return kept

    async def entries(self, team_id: str, channel_id: str | None = None, count: int = 10_000) -> list[LedgerEntry]:
        """Rows of one workspace (and one channel, when given): reads are always scoped."""
        rows = await self._redis.xrange(ledger_stream_key(team_id), count=count)
        entries = [LedgerEntry.from_fields(fields) for _, fields in rows or []]
        return [e for e in entries if channel_id is None or e.channel_id == channel_id]

    async def entries_between(
        self, team_id: str, start: float, end: float, *, page_size: int = 1000
    ) -> list[LedgerEntry]:
        """One workspace's rows recorded in ``[start, end)`` (epoch seconds), all of them, oldest first."""
        entries: list[LedgerEntry] = []
        async for page in self.pages_between(team_id, start, end, page_size=page_size):
            entries.extend(entry for _, entry in page)
        return entries

    async def pages_between(
        self, team_id: str, start: float, end: float, *, page_size: int = 1000
    ) -> AsyncIterator[list[tuple[str, LedgerEntry]]]:
        """The rows recorded in ``[start, end)`` as pages of (stream id, row), oldest first.

        The stream id is the time the row was recorded (milliseconds), so a time range is one XRANGE, read in
        pages so a busy week never arrives as one huge reply (or one huge list, for whoever folds it page by page).
        """
        key = ledger_stream_key(team_id)
        low = str(round(start * 1000))
        # An incomplete id as the upper bound means "<ms>-<max seq>", so the last millisecond before ``end`` is
        # the inclusive bound (an exclusive "(<end ms>" would still let rows stamped exactly at ``end`` in).
        high = str(round(end * 1000) - 1)
        while True:
            rows = await self._redis.xrange(key, min=low, max=high, count=page_size) or []
            if rows:
                yield [(_text(stream_id), LedgerEntry.from_fields(fields)) for stream_id, fields in rows]
            if len(rows) < page_size:
                return
            low = f"({_text(rows[-1][0])}"


def recorded_at(stream_id: str) -> float:
    """When a row was recorded (epoch seconds), from its stream id."""
    return int(stream_id.split("-", 1)[0]) / 1000
