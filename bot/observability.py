"""Structured logging (structlog) and Prometheus metrics.

One event name per line with key=value fields; message text and tokens never appear at INFO (the bot logs ids,
sizes and outcomes). Third-party loggers are routed through the same renderer and quieted to WARNING because
slack_sdk logs request bodies at DEBUG.

The metrics are what a cost dashboard needs, each counted where the fact is final: money per tier and model when
the request's ledger row closes (``observe_row``), every model call's time to first token and duration when its
generation ends (``observe_generation``), cache hits and misses at the lookup, Slack's 429s in the Web API
client's retry handler, budget usage whenever the router reads it, the ledger spool's depth as it changes, the
cache's FAISS indexes (scopes held, estimated memory) whenever they are scraped. All
are in prometheus_client's default registry, served at ``/metrics``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

import structlog
from prometheus_client import Counter, Gauge, Histogram

from cache.resident import IndexStats
from routing.calls.generate import BUDGET as NOT_CALLED
from routing.calls.generation import Generation
from routing.policy import Budgets
from routing.spend.budget import BudgetState

REQUESTS = Counter("penny_requests_total", "Requests handled, by surface and outcome", ["surface", "outcome"])
DUPLICATE_EVENTS = Counter("penny_duplicate_events_total", "Event deliveries dropped as duplicates", ["reason"])
ANSWER_SECONDS = Histogram("penny_answer_seconds", "Time from request to final reply")

SPEND_USD = Counter("penny_spend_usd_total", "Paid to model providers, USD, by tier and model", ["tier", "model"])
BASELINE_USD = Counter(
    "penny_baseline_usd_total", "What the catalog's baseline model would have cost, USD", ["tier", "model"]
)
SAVED_USD = Counter(
    "penny_saved_usd_total", "Baseline cost minus what was paid, USD (cache hits save it all)", ["tier", "model"]
)
CACHE_LOOKUPS = Counter("penny_cache_lookups_total", "Answer cache lookups, by result", ["result"])
CACHE_INDEX_SCOPES = Gauge("penny_cache_index_scopes", "Scopes (channels, shared indexes) whose FAISS index is held")
CACHE_INDEX_BYTES = Gauge("penny_cache_index_memory_bytes", "Estimated memory of the FAISS indexes held")
CACHE_INDEX_BUDGET = Gauge("penny_cache_index_budget_bytes", "PENNY_CACHE_INDEX_MEMORY_MB in bytes (0: no bound)")

_CALL_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 60.0, 120.0)
LLM_TTFT_SECONDS = Histogram(
    "penny_llm_time_to_first_token_seconds", "Time to a model's first token, per call", ["model"], buckets=_CALL_BUCKETS
)
LLM_CALL_SECONDS = Histogram("penny_llm_call_seconds", "Duration of one model call", ["model"], buckets=_CALL_BUCKETS)
LLM_CALLS = Counter(
    "penny_llm_calls_total", "Model calls, by model and result (ok or an error kind)", ["model", "result"]
)
FALLBACKS = Counter(
    "penny_llm_fallbacks_total", "Moves to another model after a failed call", ["from_model", "to_model"]
)

ESCALATIONS = Counter(
    "penny_quality_escalations_total",
    "Answers that failed a quality check (loop, leaked template tokens, empty refusal), by model and reason",
    ["model", "reason"],
)
SLACK_RATE_LIMITED = Counter("penny_slack_rate_limited_total", "HTTP 429 answers from Slack, by method", ["method"])

BUDGET_SPENT_USD = Gauge("penny_budget_spent_usd", "Spent (settled and reserved) this period, USD", ["team", "period"])
BUDGET_LIMIT_USD = Gauge("penny_budget_limit_usd", "Budget limits, USD", ["team", "period", "limit"])
BUDGET_USED_RATIO = Gauge(
    "penny_budget_used_ratio",
    "Spent as a share of the hard limit (the soft one if there is no hard)",
    ["team", "period"],
)

SPOOL_ROWS = Gauge("penny_ledger_spool_rows", "Ledger rows waiting in the local spool for Redis")
SPOOLED = Counter("penny_ledger_spooled_total", "Ledger rows Redis could not take at once, kept in the spool")
FLUSHED = Counter("penny_ledger_flushed_total", "Spooled ledger rows written to Redis")


class Row(Protocol):
    """What the metrics read of a ledger row (``bot/ledger.py``'s ``LedgerEntry``)."""

    @property
    def surface(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def latency_ms(self) -> int: ...
    @property
    def model(self) -> str: ...
    @property
    def tier(self) -> str | None: ...
    @property
    def cost_usd(self) -> Decimal: ...
    @property
    def baseline_cost_usd(self) -> Decimal: ...


def observe_row(row: Row) -> None:
    """A request ended: count it, its latency, what it paid and what it saved against the baseline."""
    REQUESTS.labels(surface=row.surface, outcome=row.outcome).inc()
    ANSWER_SECONDS.observe(row.latency_ms / 1000)
    if not row.model and not row.cost_usd and not row.baseline_cost_usd:
        return  # refused, help, or failed before any model: no money moved
    labels = {"tier": str(row.tier or "none"), "model": row.model or "none"}
    SPEND_USD.labels(**labels).inc(float(row.cost_usd))
    BASELINE_USD.labels(**labels).inc(float(row.baseline_cost_usd))
    SAVED_USD.labels(**labels).inc(float(max(row.baseline_cost_usd - row.cost_usd, Decimal(0))))


def observe_generation(generation: Generation) -> None:
    """One plan's model calls ended: each call's timings and result, and every move to another model."""
    previous = None
    for attempt in generation.attempts:
        if previous is not None and previous.error is not None and previous.model != attempt.model:
            FALLBACKS.labels(from_model=previous.model, to_model=attempt.model).inc()
        previous = attempt
        if attempt.error == NOT_CALLED:
            continue  # skipped for the budget: no call was made
        LLM_CALLS.labels(model=attempt.model, result=attempt.error or "ok").inc()
        LLM_CALL_SECONDS.labels(model=attempt.model).observe(attempt.duration_s)
        if attempt.ttft_s is not None:
            LLM_TTFT_SECONDS.labels(model=attempt.model).observe(attempt.ttft_s)
    for model, reason in generation.escalations:
        ESCALATIONS.labels(model=model, reason=reason).inc()


def observe_cache_lookup(kind: str | None) -> None:
    """``kind`` is the hit's kind (``exact``, ``semantic``), None for a miss."""
    CACHE_LOOKUPS.labels(result=kind or "miss").inc()


def watch_cache_indexes(stats: Callable[[], IndexStats]) -> None:
    """Read the held indexes' figures at every scrape (they change with every lookup; nothing to push)."""
    CACHE_INDEX_SCOPES.set_function(lambda: stats().loaded_scopes)
    CACHE_INDEX_BYTES.set_function(lambda: stats().memory_bytes)
    CACHE_INDEX_BUDGET.set_function(lambda: stats().budget_bytes or 0)


def observe_budget(team_id: str, state: BudgetState, budgets: Budgets) -> None:
    """The router read a workspace's budget: publish spent, limits and the share used, per period kind."""
    limits = {"day": budgets.daily, "month": budgets.monthly}
    for period, spent in state.spent.items():
        kind = period.split(":", 1)[0]
        BUDGET_SPENT_USD.labels(team=team_id, period=kind).set(float(spent))
        limit = limits.get(kind)
        if limit is None:
            continue
        for name, value in (("soft", limit.soft_usd), ("hard", limit.hard_usd)):
            if value is not None:
                BUDGET_LIMIT_USD.labels(team=team_id, period=kind, limit=name).set(float(value))
        cap = limit.hard_usd if limit.hard_usd is not None else limit.soft_usd
        if cap:
            BUDGET_USED_RATIO.labels(team=team_id, period=kind).set(float(spent / cap))


def slack_method(url: str) -> str:
    """``https://slack.com/api/chat.update?x=1`` → ``chat.update`` (the label of Slack metrics)."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or "unknown"


def configure_logging(level: str = "INFO", fmt: str = "console") -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    third_party_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for noisy in ("slack_bolt", "slack_sdk", "openai", "httpx", "httpx2", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(third_party_level)
