"""``benchmarks/replay_cost.py`` on a tiny slice of the real data: the accounting must hold whatever the figures.

The replay test's slice goes through the same production router, real redis-server and MiniLM cache as the full
replay (hence ``slow``); one request is an exact repeat of an earlier one in the same channel by the same person, so
the cache has something it must serve.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from cache.embedder import Embedder
from routing.catalog import load_catalog
from routing.spend.cost import call_cost
from tests.benchmarks.loading import load_benchmark


@pytest.fixture(scope="module")
def embedder():
    model = Embedder()
    yield model
    model.close()


@pytest.mark.slow
async def test_tiny_replay_accounts_for_every_dollar(eval_dir: Path, redis_url: str, embedder: Embedder) -> None:
    bench = load_benchmark("replay_cost")
    workload = bench.build_workload(eval_dir, limit=3)
    first_qa = next(a for a in workload.asks if a.kind == bench.QA_FOW)
    asks = [*workload.asks, replace(first_qa)]  # the same question again, same channel and person
    assert {a.kind for a in asks} == set(bench.KINDS)
    catalog = bench.relaxed_catalog(load_catalog(None))
    vectors = bench.cached_embeddings(bench.embedding_texts(asks), embedder, cache_dir=None)

    plain = await bench.replay(asks, catalog, redis_url, embedder=None, vectors=vectors)
    cached = await bench.replay(asks, catalog, redis_url, embedder=embedder, vectors=vectors)

    assert len(plain) == len(cached) == len(asks)
    assert bench.accounting_problems(plain) == [] and bench.accounting_problems(cached) == []
    baseline = catalog.baseline_model
    for served in plain + cached:
        assert served.baseline >= served.cost
        assert served.baseline == call_cost(baseline, served.usage)
        if served.hit is None:
            assert served.cost == call_cost(catalog.model(served.model), served.usage) > 0
    assert all(s.hit is None for s in plain)
    hits = [s for s in cached if s.hit is not None]
    assert hits and all(s.cost == 0 and s.tier == "cache" for s in hits)
    assert cached[-1].hit is not None and cached[-1].hit.kind == "exact"
    assert not any(bench.is_false_hit(bench.judge_hit(s, workload.labels)) for s in hits)  # negation pairs

    total, parts = bench.spend(cached), bench.spend_by(cached, lambda s: s.tier)
    assert total.cost == sum((p.cost for p in parts.values()), Decimal(0))
    assert total.baseline == sum((p.baseline for p in parts.values()), Decimal(0))
    assert total.cost < bench.spend(plain).cost  # a hit saves what its routed answer cost
    kinds = bench.by_kind(cached, [], [])
    line = bench.result_line(
        len(asks), bench.total(kinds.values()), bench.total(bench.by_kind(plain, [], []).values()), 0.0, 0.0
    )
    assert re.fullmatch(
        rf"RESULT replay_cost n={len(asks)} saved_pct=[\d.]+ saved_pct_no_cache=[\d.]+ cache_hit_rate=[\d.]+ "
        r"summary_chunk_reuse=[\d.]+",
        line,
    )
    assert bench.total(kinds.values()).cost == total.cost


def test_repeats_follow_their_originals_in_one_channel(eval_dir: Path) -> None:
    """Every question after the first of its group comes after one of its pair partners, in the same channel."""
    bench = load_benchmark("replay_cost")
    workload = bench.build_workload(eval_dir, limit=40)
    position = {a.text: i for i, a in enumerate(workload.asks) if a.command is None}
    channel = {a.text: a.channel for a in workload.asks}
    partners: dict[str, set[str]] = {}
    for pair in workload.labels:
        a, b = tuple(pair)
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)
    assert len(position) == len({a.text for a in workload.asks if a.command is None})  # each question once
    for text, linked in partners.items():
        assert all(channel[p] == channel[text] for p in linked)
    openers = sum(1 for t, linked in partners.items() if all(position[p] > position[t] for p in linked))
    groups = len(bench.repeat_groups([tuple(p) for p in workload.labels], random.Random(0)))
    assert openers == groups  # exactly one opener per group: every other question follows a partner


async def test_the_growing_workload_reuses_parts_and_never_costs_more_than_the_baseline(
    eval_dir: Path, redis_url: str
) -> None:
    """A small slice (100 dialogues over 10 days, 10 threads): summaries of busy channels reuse earlier parts, a
    repeated one pays less than the first of the day, and every request stays below the all-baseline bill."""
    bench = load_benchmark("replay_cost")
    growth = bench.growth
    grow = growth.build_growth(eval_dir, seed=7, limit=100, days=10, threads=10)
    catalog = bench.relaxed_catalog(load_catalog(None))
    plain = await growth.replay_growth(grow, catalog, redis_url, memo=False, prompt_cache=False)
    everything = await growth.replay_growth(grow, catalog, redis_url, memo=True, prompt_cache=True)

    assert len(plain) == len(everything) == grow.requests > 0
    assert {s.kind for s in everything} == set(growth.GROWTH_KINDS)
    baselines = growth.baseline_costs(plain, catalog)
    assert all(s.cost <= b for s, b in zip(plain, baselines, strict=True))
    assert all(s.cost <= b for s, b in zip(everything, baselines, strict=True))
    assert bench.chunk_reuse(everything) > 0.3 and bench.chunk_reuse(plain) == 0
    assert all(s.chunks == 0 for s in plain), "without reuse a week fits one call, as before"
    assert [s.tier for s in everything] == [s.tier for s in plain], "reuse never moves a request to another tier"
    assert {s.tier for s in everything if s.kind != growth.FOLLOW_UP} >= {"standard"}
    ext, ext_plain = (bench.total(bench.by_kind([], served, baselines).values()) for served in (everything, plain))
    assert ext.cost < ext_plain.cost and ext.baseline == ext_plain.baseline
    assert ext.reused > 0 and ext.cached > 0
