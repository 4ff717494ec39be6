"""The totals of one day of a workspace's ledger, kept in Redis before the day's rows are trimmed.

The digest (``report.py``) reads a day from these totals when the day has them, and from its rows otherwise; the
totals are exactly ``aggregate``'s ledger figures for that day's rows, so the digest says the same either way. A
day is local to the digest's time zone (``PENNY_DIGEST_TIMEZONE``), the zone the weeks are cut in: totals kept in
another zone (the setting changed since) are still used, with a warning, because they are all that is left.

Stored as one hash per workspace and day, money as decimal strings; written once (a second writer of the same day
changes nothing) and kept for ``DAILY_TTL_S``, long after any digest could ask for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import redis.asyncio as aioredis
import structlog

from bot.digest.report import Spend, WeekFigures
from bot.redis.keys import ledger_day_key

log = structlog.get_logger(__name__)

DAILY_TTL_S = 400 * 86400  # past a year: last year's same week stays comparable

_KEEP_ONCE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
"""


def encode(figures: WeekFigures, *, tz: str, rows: int) -> dict[str, str]:
    """The ledger part of ``figures`` as hash fields (votes are not the ledger's and are not kept here)."""
    fields = {
        "tz": tz,
        "rows": str(rows),
        "cost": str(figures.cost_usd),
        "baseline": str(figures.baseline_usd),
        "cache_hits": str(figures.cache_hits),
        "cache_baseline": str(figures.cache_baseline_usd),
    }
    fields.update({f"outcome|{name}": str(count) for name, count in figures.outcomes.items()})
    for kind, groups in (("tier", figures.by_tier), ("model", figures.by_model)):
        for name, spend in groups.items():
            fields[f"{kind}|{name}|requests"] = str(spend.requests)
            fields[f"{kind}|{name}|cost"] = str(spend.cost_usd)
            fields[f"{kind}|{name}|baseline"] = str(spend.baseline_usd)
    for model, reasons in figures.escalations.items():
        fields.update({f"escalation|{model}|{reason}": str(count) for reason, count in reasons.items()})
    return fields


def decode(raw: Mapping[Any, Any]) -> tuple[WeekFigures, str]:
    """The figures and the time zone they were kept in."""
    fields = {_text(k): _text(v) for k, v in raw.items()}
    outcomes: dict[str, int] = {}
    groups: dict[str, dict[str, dict[str, str]]] = {"tier": {}, "model": {}}
    escalations: dict[str, dict[str, int]] = {}
    for key, value in fields.items():
        kind, _, rest = key.partition("|")
        if kind == "outcome":
            outcomes[rest] = int(value)
        elif kind == "escalation":
            model, _, reason = rest.rpartition("|")
            escalations.setdefault(model, {})[reason] = int(value)
        elif kind in groups:
            name, _, stat = rest.rpartition("|")
            groups[kind].setdefault(name, {})[stat] = value

    def spends(kind: str) -> dict[str, Spend]:
        return {
            name: Spend(int(stats["requests"]), Decimal(stats["cost"]), Decimal(stats["baseline"]))
            for name, stats in groups[kind].items()
        }

    figures = WeekFigures(
        outcomes=outcomes,
        cost_usd=Decimal(fields["cost"]),
        baseline_usd=Decimal(fields["baseline"]),
        by_tier=spends("tier"),
        by_model=spends("model"),
        cache_hits=int(fields["cache_hits"]),
        cache_baseline_usd=Decimal(fields["cache_baseline"]),
        escalations=escalations,
    )
    return figures, fields.get("tz", "")


class DailyFigures:
    """Kept day totals of every workspace; reads and writes are scoped by team."""

    def __init__(self, redis: aioredis.Redis, *, tz: str, ttl_s: int = DAILY_TTL_S) -> None:
        self._redis = redis
        self._tz = tz
        self._ttl_s = ttl_s
        self._keep_once = redis.register_script(_KEEP_ONCE)

    async def keep(self, team_id: str, day: date, figures: WeekFigures, *, rows: int) -> bool:
        """Store a day's totals unless they are stored already; True when this call stored them."""
        flat: list[str | int] = [self._ttl_s]
        for key, value in encode(figures, tz=self._tz, rows=rows).items():
            flat.extend((key, value))
        return bool(await self._keep_once(keys=[ledger_day_key(team_id, day.isoformat())], args=flat))

    async def exists(self, team_id: str, day: date) -> bool:
        return bool(await self._redis.exists(ledger_day_key(team_id, day.isoformat())))

    async def read(self, team_id: str, days: Sequence[date]) -> dict[date, WeekFigures]:
        """The kept totals among ``days`` (a day without any is absent)."""
        pipe = self._redis.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(ledger_day_key(team_id, day.isoformat()))
        kept: dict[date, WeekFigures] = {}
        for day, raw in zip(days, await pipe.execute(), strict=True):
            if not raw:
                continue
            figures, tz = decode(raw)
            if tz != self._tz:
                log.warning("digest.day_totals_other_zone", team_id=team_id, day=day.isoformat(), kept_in=tz)
            kept[day] = figures
        return kept


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
