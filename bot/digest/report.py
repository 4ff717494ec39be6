"""The weekly cost digest's figures: one workspace, one ISO week, read from the ledger and the feedback log.

Aggregation is kept apart from Slack and charts (``bot/digest/blocks.py``, ``bot/digest/chart.py``) so the numbers
can be checked against real Redis without rendering anything. Money stays ``Decimal`` end to end: the ledger's
rows are already rounded to the nano-dollar, so sums here are exact and a total always equals the sum of its rows.

What "the week" is: Monday 00:00 → next Monday 00:00 in the configured time zone (UTC by default), applied to the
time a ledger row or a vote change was *recorded* (its stream id). Savings are reported against an all-premium
baseline: what every request would have cost on the catalog's baseline model (cache hits included, at zero cost).

Rows past the ledger's retention age are trimmed once their day's totals are kept (``bot/digest/daily.py``,
``bot/bookkeeping/retention.py``): a day with kept totals is read from them, any other day from its rows, and the
figures are the same either way — the totals are these very sums, and ``Decimal`` sums of sums are exact.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.ledger import Ledger, LedgerEntry
from routing.learned.feedback_log import FeedbackEvent, FeedbackLog

OUTCOMES = ("answered", "cache_hit", "failed", "refused", "help")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, order=True)
class IsoWeek:
    """An ISO 8601 week (``2026-W47``): the unit a digest covers and the name of its lock."""

    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        match = _WEEK.match(text.strip())
        if not match:
            raise ValueError(f"'{text}' is not an ISO week like 2026-W47")
        year, week = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(f"'{text}' is not a week of {year}") from None
        return cls(year, week)

    @classmethod
    def containing(cls, moment: datetime, tz: ZoneInfo) -> IsoWeek:
        year, week, _ = moment.astimezone(tz).isocalendar()
        return cls(year, week)

    @classmethod
    def last_complete(cls, now: datetime, tz: ZoneInfo) -> IsoWeek:
        """The week before the one ``now`` falls in: what a Monday-morning digest reports."""
        return cls.containing(now, tz).previous()

    def previous(self) -> IsoWeek:
        monday = date.fromisocalendar(self.year, self.week, 1) - timedelta(days=7)
        year, week, _ = monday.isocalendar()
        return IsoWeek(year, week)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """Monday 00:00 and the next Monday 00:00, local to ``tz`` (end exclusive)."""
        monday = date.fromisocalendar(self.year, self.week, 1)
        start = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
        end_day = monday + timedelta(days=7)
        return start, datetime(end_day.year, end_day.month, end_day.day, tzinfo=tz)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


@dataclass(frozen=True)
class Spend:
    """What one group of requests (a tier, a model) cost, and what the baseline model would have charged."""

    requests: int = 0
    cost_usd: Decimal = Decimal(0)
    baseline_usd: Decimal = Decimal(0)

    def plus(self, entry: LedgerEntry) -> Spend:
        return Spend(self.requests + 1, self.cost_usd + entry.cost_usd, self.baseline_usd + entry.baseline_cost_usd)

    def merged(self, other: Spend) -> Spend:
        return Spend(
            self.requests + other.requests, self.cost_usd + other.cost_usd, self.baseline_usd + other.baseline_usd
        )


@dataclass(frozen=True)
class Votes:
    """Net 👍/👎 changes within the week (a vote added then removed counts zero; one removed from an earlier
    week counts minus one)."""

    good: int = 0
    bad: int = 0

    def plus(self, event: FeedbackEvent) -> Votes:
        step = 1 if event.added else -1
        if event.vote.good:
            return Votes(self.good + step, self.bad)
        return Votes(self.good, self.bad + step)

    @property
    def total(self) -> int:
        return max(self.good, 0) + max(self.bad, 0)

    @property
    def good_share(self) -> float | None:
        return max(self.good, 0) / self.total if self.total else None


@dataclass(frozen=True)
class WeekFigures:
    """Everything the digest says about one week."""

    outcomes: dict[str, int] = field(default_factory=dict)
    cost_usd: Decimal = Decimal(0)
    baseline_usd: Decimal = Decimal(0)
    by_tier: dict[str, Spend] = field(default_factory=dict)
    by_model: dict[str, Spend] = field(default_factory=dict)
    cache_hits: int = 0
    cache_baseline_usd: Decimal = Decimal(0)
    prompt_tokens: int = 0
    cached_tokens: int = 0  # of prompt_tokens, read from providers' prompt caches (billed at the cached price)
    summary_chunks: int = 0
    chunks_reused: int = 0  # summary parts taken from earlier summaries instead of summarized again
    reuse_saved_usd: Decimal = Decimal(0)
    # model → reason → answers that failed a quality check (loop, leaked tokens, empty refusal) and went a tier up
    escalations: dict[str, dict[str, int]] = field(default_factory=dict)
    votes: Votes = Votes()
    votes_by_model: dict[str, Votes] = field(default_factory=dict)
    votes_by_tier: dict[str, Votes] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())

    @property
    def savings_usd(self) -> Decimal:
        return self.baseline_usd - self.cost_usd

    @property
    def cached_share(self) -> float | None:
        """The share of prompt tokens billed at a cached price; None when no prompt tokens were paid for."""
        return self.cached_tokens / self.prompt_tokens if self.prompt_tokens else None

    @property
    def savings_share(self) -> Decimal | None:
        """Saved as a fraction of the baseline; None when the baseline is zero (nothing to compare)."""
        return self.savings_usd / self.baseline_usd if self.baseline_usd else None


@dataclass(frozen=True)
class Digest:
    """One workspace's week, with the week before when that week had any requests."""

    team_id: str
    week: IsoWeek
    start: datetime
    end: datetime
    current: WeekFigures
    previous: WeekFigures | None
    baseline_model: str


def aggregate(
    entries: Iterable[LedgerEntry], events: Iterable[FeedbackEvent], days: Iterable[WeekFigures] = ()
) -> WeekFigures:
    """Fold a week of ledger rows and vote changes into the digest's figures (pure: no I/O, no clock).

    ``days`` are the kept totals of days whose rows were trimmed (their ledger figures; their votes are empty).
    """
    outcomes: Counter[str] = Counter()
    cost = baseline = cache_baseline = Decimal(0)
    cache_hits = 0
    by_tier: dict[str, Spend] = {}
    by_model: dict[str, Spend] = {}
    prompt_tokens = cached_tokens = summary_chunks = chunks_reused = 0
    reuse_saved = Decimal(0)
    escalations: dict[str, Counter[str]] = {}
    for entry in entries:
        for model, reason in entry.escalations:
            escalations.setdefault(model, Counter())[reason] += 1
        outcomes[entry.outcome] += 1
        cost += entry.cost_usd
        baseline += entry.baseline_cost_usd
        prompt_tokens += entry.prompt_tokens
        cached_tokens += entry.cached_tokens
        summary_chunks += entry.summary_chunks
        chunks_reused += entry.chunks_reused
        reuse_saved += entry.reuse_saved_usd
        if entry.outcome == "cache_hit":
            # Served without a model call: counted as cache, not as spend on the model that once answered it.
            cache_hits += 1
            cache_baseline += entry.baseline_cost_usd
            continue
        if not entry.model and not entry.cost_usd:
            continue  # refused, help, or failed before any model was called
        tier, model = entry.tier or "unknown", entry.model or "unknown"
        by_tier[tier] = by_tier.get(tier, Spend()).plus(entry)
        by_model[model] = by_model.get(model, Spend()).plus(entry)
    for day in days:
        outcomes.update(day.outcomes)
        cost += day.cost_usd
        baseline += day.baseline_usd
        cache_hits += day.cache_hits
        cache_baseline += day.cache_baseline_usd
        for tier, spend in day.by_tier.items():
            by_tier[tier] = by_tier.get(tier, Spend()).merged(spend)
        for model, spend in day.by_model.items():
            by_model[model] = by_model.get(model, Spend()).merged(spend)
        for model, reasons in day.escalations.items():
            escalations.setdefault(model, Counter()).update(reasons)
    votes = Votes()
    votes_by_model: dict[str, Votes] = {}
    votes_by_tier: dict[str, Votes] = {}
    for event in events:
        votes = votes.plus(event)
        model, tier = event.vote.model or "unknown", event.vote.tier or "unknown"
        votes_by_model[model] = votes_by_model.get(model, Votes()).plus(event)
        votes_by_tier[tier] = votes_by_tier.get(tier, Votes()).plus(event)
    return WeekFigures(
        outcomes={
            name: outcomes[name] for name in (*OUTCOMES, *sorted(set(outcomes) - set(OUTCOMES))) if outcomes[name]
        },
        cost_usd=cost,
        baseline_usd=baseline,
        by_tier=by_tier,
        by_model=by_model,
        cache_hits=cache_hits,
        cache_baseline_usd=cache_baseline,
        prompt_tokens=prompt_tokens,
        cached_tokens=cached_tokens,
        summary_chunks=summary_chunks,
        chunks_reused=chunks_reused,
        reuse_saved_usd=reuse_saved,
        escalations={model: dict(sorted(reasons.items())) for model, reasons in sorted(escalations.items())},
        votes=votes,
        votes_by_model=votes_by_model,
        votes_by_tier=votes_by_tier,
    )


class KeptDays(Protocol):
    """The totals of days whose ledger rows were trimmed (``bot/digest/daily.py``'s ``DailyFigures``)."""

    async def read(self, team_id: str, days: Sequence[date]) -> Mapping[date, WeekFigures]: ...


class NoKeptDays:
    """Nothing was ever trimmed: every day is read from its rows."""

    async def read(self, team_id: str, days: Sequence[date]) -> Mapping[date, WeekFigures]:
        return {}


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight of ``day`` and of the day after (23 or 25 hours apart on a DST change)."""
    after = day + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=tz), datetime(after.year, after.month, after.day, tzinfo=tz)


class DigestReader:
    """Reads one workspace's week from Redis; every read is scoped by team."""

    def __init__(
        self,
        ledger: Ledger,
        feedback: FeedbackLog,
        *,
        tz: ZoneInfo,
        baseline_model: str,
        kept_days: KeptDays | None = None,
    ) -> None:
        self._ledger = ledger
        self._feedback = feedback
        self._tz = tz
        self._baseline_model = baseline_model
        self._kept_days: KeptDays = kept_days or NoKeptDays()

    async def week(self, team_id: str, week: IsoWeek) -> WeekFigures:
        start, end = week.bounds(self._tz)
        monday = start.date()
        days = [monday + timedelta(days=n) for n in range(7)]
        kept = await self._kept_days.read(team_id, days)
        entries: list[LedgerEntry] = []
        for first, last in _runs(d for d in days if d not in kept):
            low, _ = local_day_bounds(first, self._tz)
            _, high = local_day_bounds(last, self._tz)
            entries.extend(await self._ledger.entries_between(team_id, low.timestamp(), high.timestamp()))
        events = await self._events(team_id, start.timestamp(), end.timestamp())
        return aggregate(entries, events, kept.values())

    async def digest(self, team_id: str, week: IsoWeek) -> Digest:
        start, end = week.bounds(self._tz)
        current = await self.week(team_id, week)
        previous = await self.week(team_id, week.previous())
        return Digest(
            team_id=team_id,
            week=week,
            start=start,
            end=end,
            current=current,
            previous=previous if previous.requests else None,
            baseline_model=self._baseline_model,
        )

    async def _events(self, team_id: str, start: float, end: float, page_size: int = 1000) -> list[FeedbackEvent]:
        """Vote changes in ``[start, end)``, paged; the log's own range is end-inclusive, so the end is cut here."""
        events: list[FeedbackEvent] = []
        page = await self._feedback.events(team_id, start=start, end=end, count=page_size)
        while True:
            events.extend(e for e in page if e.at < end)
            if len(page) < page_size:
                return events
            page = await self._feedback.events(team_id, after_id=page[-1].event_id, end=end, count=page_size)


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs: the rows of a run are one paged read."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
