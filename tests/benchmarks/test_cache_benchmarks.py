"""``benchmarks/cache_quality.py`` and ``cache_latency.py`` on tiny inputs: the real cache, redis-server and model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from cache.embedder import Embedder
from tests.benchmarks.loading import load_benchmark

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedder() -> Iterator[Embedder]:
    model = Embedder()
    yield model
    model.close()


async def test_quality_counts_hits_from_the_production_cache(
    embedder: Embedder, redis_url: str, eval_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load_benchmark("cache_quality")
    pairs = [
        bench.Pair("p1", "How do I reset my VPN password?", "How can I reset my VPN password?", True, "paraphrase"),
        bench.Pair("n1", "Is the office open on Sundays?", "Is the office closed on Sundays?", False, "negation"),
        bench.Pair("n2", "Can I return it after 14 days?", "Can I return it after 40 days?", False, "number_date"),
    ]
    texts = sorted({t for p in pairs for t in (p.a, p.b)})
    vectors = dict(zip(texts, embedder.embed_many(texts), strict=True))
    outcomes = await bench.run_pairs(pairs, vectors, embedder, redis_url)
    threshold = bench.PairScorer.packaged().threshold
    score = bench.score(outcomes, threshold)
    assert (score.true_hits, score.false_hits) == (1, 0)
    bench.print_report([bench.ReportRow("tiny", "held out", outcomes)], threshold)
    assert "tiny" in capsys.readouterr().out
    assert bench.trained_on(eval_dir / "cache" / "qqp_dev.csv")
    assert not bench.trained_on(eval_dir / "cache" / "clinc150_pairs.csv")


async def test_latency_times_torch_encode_and_the_full_lookup_in_one_run(embedder: Embedder, redis_url: str) -> None:
    bench = load_benchmark("cache_latency")
    stored = ["How do I reset my VPN password?", "Who approves holiday requests?", "What is the VPN server address?"]
    queries = ["How can I reset my VPN password?", "What's the VPN server address?"]
    torch_ms, lookup_ms, hits = await bench.full_lookup_vs_torch(
        embedder, redis_url, 2_000, stored, embedder.embed_many(stored), queries
    )
    assert len(torch_ms) == len(lookup_ms) == len(queries)
    assert all(t > 0 for t in torch_ms + lookup_ms) and hits >= 1
    assert np.isfinite(np.median(lookup_ms) / np.median(torch_ms))
