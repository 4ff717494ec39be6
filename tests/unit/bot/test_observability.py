"""The cost dashboard's metrics, read back through ``/metrics`` after each fact they count happened for real."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.assistant.cached_answers import CachedAnswers
from bot.bookkeeping.keeper import LedgerKeeper
from bot.bookkeeping.spool import FileSpool
from bot.ledger import Ledger, LedgerEntry
from bot.observability import observe_budget, observe_generation, watch_cache_indexes
from bot.redis.connection import plain_client
from bot.slack.http_server import build_web_app
from bot.slack.rate_limits import CountingRateLimitHandler
from cache.semantic import SemanticCache
from cache.values import CacheHit, CacheQuery, CacheScope, CacheSettings
from routing.calls.generation import Attempt, Generation
from routing.policy import BudgetLimit, Budgets, Complexity
from routing.spend.budget import Budget
from routing.spend.cost import Usage
from tests.harness.slack_emulator import SlackEmulator
from tests.unit.cache.conftest import HashEmbedder
from tests.unit.cache.conftest import query as cache_query
from vocabulary import RequestOutcome, TaskKind, Tier, Visibility

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def scrape() -> AsyncIterator[Callable[[], Any]]:
    async def authorize(**_: Any) -> None:
        return None

    client = TestClient(TestServer(build_web_app(AsyncApp(authorize=authorize), serve_events=False)))
    await client.start_server()

    async def read() -> Samples:
        response = await client.get("/metrics")
        assert response.status == 200
        samples: Samples = {}
        for family in text_string_to_metric_families(await response.text()):
            for sample in family.samples:
                samples[(sample.name, frozenset(sample.labels.items()))] = float(sample.value)
        return samples

    yield read
    await client.close()


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _row(outcome: str = "answered", cost: str = "0.000250", baseline: str = "0.003000") -> LedgerEntry:
    return LedgerEntry(
        request_id=f"Ev-{outcome}-{cost}",
        team_id="T1",
        channel_id="C1",
        user_id="U1",
        surface="mention",
        task=TaskKind.QA,
        outcome=RequestOutcome(outcome),
        model="glm-4-plus",
        tier=Tier.ECONOMY,
        cost_usd=Decimal(cost),
        baseline_cost_usd=Decimal(baseline),
        latency_ms=1500,
    )


async def test_spend_and_savings_count_by_tier_and_model_when_a_row_closes(scrape: Any, redis_url: str) -> None:
    client = plain_client(redis_url)
    ledger = Ledger(client)
    labels = {"tier": "economy", "model": "glm-4-plus"}
    before = await scrape()
    await ledger.close(_row())
    await ledger.close(_row("cache_hit", cost="0", baseline="0.002"))
    after = await scrape()
    await client.aclose()
    assert value(after, "penny_spend_usd_total", **labels) - value(before, "penny_spend_usd_total", **labels) == (
        pytest.approx(0.00025)
    )
    saved = value(after, "penny_saved_usd_total", **labels) - value(before, "penny_saved_usd_total", **labels)
    assert saved == pytest.approx(0.00275 + 0.002), "a cache hit saves its whole baseline"
    hits = ("penny_requests_total", {"surface": "mention", "outcome": "cache_hit"})
    assert value(after, hits[0], **hits[1]) - value(before, hits[0], **hits[1]) == 1


async def test_each_model_call_times_and_fallbacks_are_observed(scrape: Any) -> None:
    failed = Attempt("glm-4-plus", "rate_limited", None, 0.8, 0, None, Decimal(0))
    answered = Attempt("deepseek-v4-flash", None, 0.4, 2.5, 120, Usage(100, 30), Decimal("0.0001"))
    generation = Generation(
        ok=True,
        model="deepseek-v4-flash",
        tier=Tier.STANDARD,
        task=TaskKind.QA,
        complexity=Complexity.SIMPLE,
        attempts=(failed, answered),
        usage=Usage(100, 30),
        cost=Decimal("0.0001"),
        baseline_cost=Decimal("0.001"),
        estimated=False,
        text_chars=120,
        finish_reason="stop",
        latency_s=3.3,
    )
    before = await scrape()
    observe_generation(generation)
    after = await scrape()

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("penny_llm_fallbacks_total", from_model="glm-4-plus", to_model="deepseek-v4-flash") == 1
    assert delta("penny_llm_calls_total", model="glm-4-plus", result="rate_limited") == 1
    assert delta("penny_llm_calls_total", model="deepseek-v4-flash", result="ok") == 1
    assert delta("penny_llm_time_to_first_token_seconds_count", model="deepseek-v4-flash") == 1
    assert delta("penny_llm_time_to_first_token_seconds_sum", model="deepseek-v4-flash") == pytest.approx(0.4)
    assert delta("penny_llm_time_to_first_token_seconds_count", model="glm-4-plus") == 0, "no first token"
    assert delta("penny_llm_call_seconds_count", model="glm-4-plus") == 1


async def test_a_degenerate_answer_counts_as_an_escalation_of_its_model(scrape: Any) -> None:
    looped = Attempt("glm-4-plus", "repetition", 0.2, 1.1, 0, Usage(100, 400), Decimal("0.00004"))
    answered = Attempt("deepseek-v4-flash", None, 0.4, 2.5, 120, Usage(100, 30), Decimal("0.0001"))
    generation = Generation(
        ok=True,
        model="deepseek-v4-flash",
        tier=Tier.ECONOMY,
        task=TaskKind.QA,
        complexity=Complexity.SIMPLE,
        attempts=(looped, answered),
        usage=Usage(200, 430),
        cost=Decimal("0.00014"),
        baseline_cost=Decimal("0.001"),
        estimated=False,
        text_chars=120,
        finish_reason="stop",
        latency_s=3.6,
    )
    name, labels = "penny_quality_escalations_total", {"model": "glm-4-plus", "reason": "repetition"}
    before = await scrape()
    observe_generation(generation)
    after = await scrape()
    assert value(after, name, **labels) - value(before, name, **labels) == 1
    assert value(after, "penny_llm_calls_total", model="glm-4-plus", result="repetition") >= 1


class _Cache:
    def __init__(self, hit: CacheHit | None) -> None:
        self.hit = hit

    async def lookup(self, query: CacheQuery) -> CacheHit | None:
        return self.hit


async def test_cache_hits_and_misses_are_counted_at_the_lookup(scrape: Any) -> None:
    query = CacheQuery(CacheScope("T1", "C1", Visibility.PUBLIC), TaskKind.QA, "q?", "U1")
    hit = CacheHit("T1:1", "a", "glm-4-plus", Tier.ECONOMY, 0.0, 1.0, "exact")
    before = await scrape()
    await CachedAnswers(_Cache(hit), None).lookup(query)  # type: ignore[arg-type]
    await CachedAnswers(_Cache(None), None).lookup(query)  # type: ignore[arg-type]
    after = await scrape()
    for result in ("exact", "miss"):
        lookups = value(after, "penny_cache_lookups_total", result=result)
        assert lookups - value(before, "penny_cache_lookups_total", result=result) == 1


async def test_slack_429s_are_counted_by_method(scrape: Any) -> None:
    with SlackEmulator() as slack:
        channel = slack.add_channel("general")
        client = AsyncWebClient(
            token=slack.bot_token, base_url=slack.base_url, retry_handlers=[CountingRateLimitHandler(max_retry_count=2)]
        )
        slack.force_rate_limit("chat.postMessage", times=1, retry_after=0)
        before = await scrape()
        await client.chat_postMessage(channel=channel.id, text="hello")
        after = await scrape()
    labels = {"method": "chat.postMessage"}
    assert (
        value(after, "penny_slack_rate_limited_total", **labels)
        - value(before, "penny_slack_rate_limited_total", **labels)
        == 1
    )


async def test_budget_usage_is_published_when_the_budget_is_read(scrape: Any, redis_url: str) -> None:
    client = plain_client(redis_url)
    budgets = Budgets(daily=BudgetLimit(soft_usd=Decimal("1"), hard_usd=Decimal("2")), monthly=BudgetLimit())
    budget = Budget(client, budgets, observer=observe_budget, clock=lambda: 1_795_000_000.0)
    reservation = await budget.reserve("T9", Decimal("0.5"))
    assert reservation is not None
    await budget.state("T9")
    after = await scrape()
    await client.aclose()
    assert value(after, "penny_budget_spent_usd", team="T9", period="day") == pytest.approx(0.5)
    assert value(after, "penny_budget_limit_usd", team="T9", period="day", limit="hard") == 2.0
    assert value(after, "penny_budget_used_ratio", team="T9", period="day") == pytest.approx(0.25)


async def test_the_spool_depth_follows_rows_in_and_out(scrape: Any, redis_url: str, tmp_path: Path) -> None:
    client = plain_client(redis_url)
    spool = FileSpool(tmp_path / "spool")
    spool.append(_row())
    spool.append(_row(cost="0.1"))
    assert value(await scrape(), "penny_ledger_spool_rows") == 2
    before = await scrape()
    await LedgerKeeper(client, Ledger(client, spool=spool), spool, None).flush()
    after = await scrape()
    await client.aclose()
    assert value(after, "penny_ledger_spool_rows") == 0
    assert value(after, "penny_ledger_flushed_total") - value(before, "penny_ledger_flushed_total") == 2


async def test_the_cache_index_gauges_follow_what_is_held(scrape: Any, redis_url: str) -> None:
    client = plain_client(redis_url)
    cache = SemanticCache(client, HashEmbedder(), CacheSettings(index_memory_mb=1.0))
    await cache.start(background_sweep=False)
    try:
        watch_cache_indexes(cache.index_stats)
        assert value(await scrape(), "penny_cache_index_scopes") == 0
        assert await cache.store(cache_query("Where is the VPN guide?"), "Wiki.", model="m", tier=Tier.ECONOMY)
        await cache.lookup(cache_query("Where's the VPN guide?", channel="C2"))
        after = await scrape()
        assert value(after, "penny_cache_index_scopes") == 1, "C2 was loaded by its lookup; C1 never asked"
        assert value(after, "penny_cache_index_memory_bytes") == cache.index_stats().memory_bytes > 0
        assert value(after, "penny_cache_index_budget_bytes") == 1024 * 1024
    finally:
        await cache.close()
        await client.aclose()
