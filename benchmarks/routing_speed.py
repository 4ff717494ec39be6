"""How much routing adds to a request: rule classification and the learned scorer, measured on this machine.

Prints per-request costs (median and p99 over many runs). The issue's budget for classification is 15 ms.
Run: ``.venv/bin/python benchmarks/routing_speed.py``.
"""

from __future__ import annotations

import platform
import statistics
import time

import numpy as np

from routing.classify import classify
from routing.learned.config import ScorerConfig
from routing.learned.scorer import LearnedScorer
from routing.learned.signatures import prompt_signature

TEXTS = [
    "what did we decide about pricing?",
    "Analyze the trade-offs between the two designs above and recommend one, step by step. " * 20,
    "thanks!",
    "draft an email to the customer about the outage " * 50,
]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000


def main() -> None:
    print(f"machine: {platform.machine()} {platform.processor() or ''}, python {platform.python_version()}")
    samples = []
    for _ in range(2000):
        for text in TEXTS:
            started = time.perf_counter()
            classify(text, context_tokens=4_000)
            samples.append(time.perf_counter() - started)
    p50, p99 = _percentiles(samples)
    print(f"classification: p50 {p50:.3f} ms, p99 {p99:.3f} ms per request (budget 15 ms)")

    rng = np.random.default_rng(0)
    for votes in (1_000, 10_000):
        vectors = rng.standard_normal((votes, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        scorer = LearnedScorer(ScorerConfig(tiers=("weak", "strong")))
        half = votes // 2
        tiers, good = ["weak"] * half + ["strong"] * half, rng.random(votes) > 0.3
        signed = [(prompt_signature(v, "", 1024), t, bool(g)) for v, t, g in zip(vectors, tiers, good, strict=True)]
        scorer.record_signatures(signed)
        scorer.refit()
        timings = []
        for i in range(300):
            started = time.perf_counter()
            scorer.score(vectors[i % votes], text="How many eggs does Janet sell per day?")
            timings.append(time.perf_counter() - started)
        p50, p99 = _percentiles(timings)
        print(f"learned scorer at {votes} votes: p50 {p50:.2f} ms, p99 {p99:.2f} ms per score")
    for votes in (1_000, 20_000):  # a replica replaying a workspace's feedback log (routing/learned/sync.py)
        vectors = rng.standard_normal((votes, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        signed = [
            (prompt_signature(v, "how many days of leave do we get?", 1024), "economy", i % 3 == 0)
            for i, v in enumerate(vectors)
        ]
        scorer = LearnedScorer(ScorerConfig())
        started = time.perf_counter()
        scorer.record_signatures(signed)
        print(f"replaying {votes} votes into a scorer: {1000 * (time.perf_counter() - started):.0f} ms")
    print(f"RESULT routing_speed classify_p50_ms={_percentiles(samples)[0]:.3f}")


if __name__ == "__main__":
    main()
