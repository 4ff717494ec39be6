"""``benchmarks/replay_cost.py`` on a tiny slice of the real data: the accounting must hold whatever the figures.

The replay test's slice goes through the same production router, real redis-server and MiniLM cache as the full
replay (hence ``slow``); one request is an exact repeat of an earlier one in the same channel by the same person, so
the cache has something it must serve.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

from cache.embedder import Embedder
from routing.catalog import load_catalog
from routing.spend.cost import call_cost

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "replay_cost.py"


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("replay_cost", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("replay_cost", module)  # dataclasses resolve their annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def embedder():
    model = Embedder()
    yield model
    model.close()


@pytest.mark.slow
async def test_tiny_replay_accounts_for_every_dollar(eval_dir: Path, redis_url: str, embedder: Embedder) -> None:
    bench = load_benchmark()
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
    line = bench.result_line(plain, cached, bench.cacheable_lookups(asks))
    assert line.startswith(f"RESULT replay_cost n={len(asks)} saved_pct=")


def test_repeats_follow_their_originals_in_one_channel(eval_dir: Path) -> None:
    """Every question after the first of its group comes after one of its pair partners, in the same channel."""
    bench = load_benchmark()
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
