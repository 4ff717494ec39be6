"""Semantic-cache quality: how often would a cached answer be served for a question that needs another answer?

Every pair goes through the production ``SemanticCache`` against a real redis-server: question ``a`` is stored
(in a channel of its own), question ``b`` is looked up, with the production policy, exact layer, FAISS search,
Redis re-check and verification guards. Nothing here decides a hit; the script only counts. Embeddings are the
production MiniLM vectors, passed in as the assistant passes them (``CacheQuery.vector``) and cached on disk by
data-file hash.

The similarity threshold is the only knob tuned here, and only on the **even-numbered** fow pairs (by the number
in ``id``): the lowest threshold whose false-hit rate stays within half the 5% goal, moved up to the most
conservative threshold that keeps recall within one point of it. Figures are reported on the **odd-numbered**
pairs. The lookup runs once with a floor threshold and records each hit's similarity, which gives the production
outcome at every threshold above the floor (a hit at threshold t is a hit at the floor with similarity >= t).

Both questions of a pair are asked by the same user in the same channel: personal questions ("my PTO") are only
reused for the same user, so a second figure shows the cross-user recall.

    python benchmarks/cache_quality.py [--pairs FILE...] [--threshold T]

``--pairs`` takes JSONL (``a``, ``b``, ``same_answer`` [, ``category``]) or CSV (``text_a``, ``text_b`` and
``label`` or ``same_intent``; 1 = the same answer serves both). CLINC150 "same intent" positives usually need
different answers, so for that file only false hits (hits on label-0 pairs) are meaningful.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

REPO_ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = REPO_ROOT.parent / "shared" / "eval"
CACHE_EVAL_DIR = EVAL_DIR / "cache"
EMBED_CACHE_DIR = Path(__file__).resolve().parent / ".cache"
FOW_PAIRS = CACHE_EVAL_DIR / "fow_pairs.jsonl"
CLINC_PAIRS = CACHE_EVAL_DIR / "clinc150_pairs.csv"
CONVERSATIONS_DIR = CACHE_EVAL_DIR / "fow_conversations"
FLOOR = 0.60
SWEEP = tuple(round(x, 2) for x in np.arange(0.60, 0.991, 0.02))
TUNE_MAX_FALSE_HIT_RATE = 0.025
NEGATION_CATEGORIES = ("negation",)
NUMBER_CATEGORIES = ("number_date",)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(REPO_ROOT))  # run as a script from anywhere, without installing the package

import redis.asyncio as aioredis  # noqa: E402
import structlog  # noqa: E402

from bot.redis.embedded import RedisServerProcess  # noqa: E402
from cache.embedder import Embedder  # noqa: E402
from cache.semantic import SemanticCache  # noqa: E402
from cache.values import CacheQuery, CacheScope, CacheSettings, context_fingerprint  # noqa: E402


@dataclass(frozen=True)
class Pair:
    pair_id: str
    a: str
    b: str
    same_answer: bool
    category: str
    context_a: tuple[str, ...] = ()
    context_b: tuple[str, ...] = ()


@dataclass
class PairResult:
    pair: Pair
    similarity: float  # cosine of the two questions (for the plain-cosine baseline)
    hit_similarity: float | None  # similarity of the production hit at the floor threshold; None = miss
    hit_kind: str | None


# ------------------------------------------------------------------------------------------------ data


def resolve(name: str) -> Path:
    path = Path(name)
    if path.exists():
        return path
    return CACHE_EVAL_DIR / name


def load_pairs(path: Path) -> list[Pair]:
    if path.suffix == ".csv":
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        pairs = []
        for i, row in enumerate(rows):
            label = row.get("label", row.get("same_intent", "0"))
            pairs.append(
                Pair(
                    f"{path.stem}-{i}",
                    row["text_a"],
                    row["text_b"],
                    str(label).strip() in ("1", "true"),
                    row.get("pair_type") or row.get("category") or ("pos" if label == "1" else "neg"),
                )
            )
        return pairs
    pairs = []
    with path.open() as fh:
        for i, line in enumerate(fh):
            if not line.strip():
                continue
            row = json.loads(line)
            pairs.append(
                Pair(
                    str(row.get("id", f"{path.stem}-{i}")),
                    row["a"],
                    row["b"],
                    bool(row["same_answer"]),
                    row.get("category", "all"),
                )
            )
    return pairs


def load_conversations(directory: Path) -> list[Pair]:
    pairs = []
    for path in sorted(directory.glob("*.jsonl")):
        with path.open() as fh:
            for line in fh:
                if not line.strip():
                    continue
                row = json.loads(line)
                a_turns, b_turns = row["a"], row["b"]
                pairs.append(
                    Pair(
                        row["id"],
                        a_turns[-1]["content"],
                        b_turns[-1]["content"],
                        bool(row["same_answer"]),
                        row.get("subtype", "all"),
                        context_a=tuple(f"{t['role']}: {t['content']}" for t in a_turns[:-1]),
                        context_b=tuple(f"{t['role']}: {t['content']}" for t in b_turns[:-1]),
                    )
                )
    return pairs


def pair_number(pair_id: str) -> int:
    numbers = re.findall(r"\d+", pair_id)
    return int(numbers[-1]) if numbers else 0


def file_digest(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cached_embeddings(texts: Sequence[str], key: str, embedder: Embedder) -> dict[str, NDArray[np.float32]]:
    """Embed each distinct text once; keep the vectors under benchmarks/.cache keyed by the data files' hash."""
    unique = sorted(set(texts))
    EMBED_CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = EMBED_CACHE_DIR / f"emb-{key}.npz"
    if path.exists():
        stored = np.load(path, allow_pickle=False)
        if list(stored["texts"]) == unique:
            return dict(zip(unique, stored["vectors"], strict=True))
    vectors = embedder.embed_many(unique)
    np.savez(path, texts=np.array(unique), vectors=vectors)
    return dict(zip(unique, vectors, strict=True))


# ------------------------------------------------------------------------------------------------ run


async def run_pairs(
    pairs: Sequence[Pair],
    vectors: dict[str, NDArray[np.float32]],
    embedder: Embedder,
    redis_url: str,
    *,
    same_user: bool = True,
) -> list[PairResult]:
    """Store ``a`` and look up ``b`` through the production cache, each pair in a channel of its own."""
    client = aioredis.Redis.from_url(redis_url)
    await client.flushall()
    settings = CacheSettings(similarity_threshold=FLOOR)
    cache = SemanticCache(client, embedder, settings)
    await cache.start(background_sweep=False)
    outcomes = []
    try:
        for i, pair in enumerate(pairs):
            channel = f"C{i:05d}"
            va, vb = vectors[pair.a], vectors[pair.b]
            fp_a = context_fingerprint(*pair.context_a) if pair.context_a else ""
            fp_b = context_fingerprint(*pair.context_b) if pair.context_b else ""
            scope = CacheScope("TBENCH", channel, "public")
            stored = await cache.store(
                CacheQuery(scope, "qa", pair.a, "U1", None, fp_a, va), "answer", model="bench", tier="economy"
            )
            hit = None
            if stored is not None:
                user = "U1" if same_user else "U2"
                hit = await cache.lookup(CacheQuery(scope, "qa", pair.b, user, None, fp_b, vb))
            outcomes.append(
                PairResult(pair, float(va @ vb), hit.similarity if hit else None, hit.kind if hit else None)
            )
    finally:
        await cache.close()
        await client.aclose()
    return outcomes


# ------------------------------------------------------------------------------------------------ scoring


@dataclass
class Score:
    hits: int = 0
    true_hits: int = 0
    positives: int = 0
    negatives: int = 0
    by_category: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def false_hits(self) -> int:
        return self.hits - self.true_hits

    @property
    def precision(self) -> float:
        return self.true_hits / self.hits if self.hits else 1.0

    @property
    def recall(self) -> float:
        return self.true_hits / self.positives if self.positives else 0.0

    @property
    def false_hit_rate(self) -> float:
        return self.false_hits / self.hits if self.hits else 0.0

    def category_false_hits(self, categories: Sequence[str]) -> int:
        return sum(self.by_category[c]["false_hits"] for c in categories)


def score(outcomes: Sequence[PairResult], threshold: float, *, plain_cosine: bool = False) -> Score:
    result = Score()
    for o in outcomes:
        if plain_cosine:
            hit = o.similarity >= threshold
        else:
            hit = o.hit_similarity is not None and o.hit_similarity >= threshold
        cat = result.by_category[o.pair.category]
        cat["pairs"] += 1
        if o.pair.same_answer:
            result.positives += 1
        else:
            result.negatives += 1
        if hit:
            result.hits += 1
            cat["hits"] += 1
            if o.pair.same_answer:
                result.true_hits += 1
            else:
                cat["false_hits"] += 1
    return result


def tune(outcomes: Sequence[PairResult]) -> float:
    """Lowest threshold within the false-hit budget, then the highest one that keeps recall within 1 point."""
    admissible = [t for t in SWEEP if score(outcomes, t).false_hit_rate <= TUNE_MAX_FALSE_HIT_RATE]
    if not admissible:
        return max(SWEEP)
    best = max(score(outcomes, t).recall for t in admissible)
    return max(t for t in admissible if score(outcomes, t).recall >= best - 0.01)


def print_categories(outcomes: Sequence[PairResult], threshold: float, title: str) -> None:
    result = score(outcomes, threshold)
    positive = {o.pair.category for o in outcomes if o.pair.same_answer}
    print(f"\n{title} (threshold {threshold:.2f})")
    print(f"  {'category':<28}{'pairs':>6}{'hits':>6}  {'meaning':<30}")
    for category in sorted(result.by_category):
        cat = result.by_category[category]
        if category in positive:
            meaning = f"recall {cat['hits'] / cat['pairs']:.2f}"
        else:
            meaning = f"false hits {cat['false_hits']}"
        print(f"  {category:<28}{cat['pairs']:>6}{cat['hits']:>6}  {meaning:<30}")
    print(
        f"  precision={result.precision:.3f} recall={result.recall:.3f} false_hit_rate={result.false_hit_rate:.3f} "
        f"hits={result.hits} false_hits={result.false_hits}"
    )


def print_sweep(outcomes: Sequence[PairResult], title: str) -> None:
    print(f"\n{title}: threshold sweep (production pipeline | plain cosine)")
    print(
        f"  {'thr':>5} {'prec':>6} {'recall':>6} {'fhr':>6} {'neg':>4} {'num':>4} | {'prec':>6} {'recall':>6} "
        f"{'fhr':>6}"
    )
    for t in SWEEP:
        s, c = score(outcomes, t), score(outcomes, t, plain_cosine=True)
        print(
            f"  {t:>5.2f} {s.precision:>6.3f} {s.recall:>6.3f} {s.false_hit_rate:>6.3f} "
            f"{s.category_false_hits(NEGATION_CATEGORIES):>4} {s.category_false_hits(NUMBER_CATEGORIES):>4} | "
            f"{c.precision:>6.3f} {c.recall:>6.3f} {c.false_hit_rate:>6.3f}"
        )


def result_line(outcomes: Sequence[PairResult], threshold: float) -> str:
    s = score(outcomes, threshold)
    return (
        f"RESULT cache_quality precision={s.precision:.4f} recall={s.recall:.4f} "
        f"false_hit_rate={s.false_hit_rate:.4f} negation_false_hits={s.category_false_hits(NEGATION_CATEGORIES)} "
        f"number_false_hits={s.category_false_hits(NUMBER_CATEGORIES)} threshold={threshold:.2f}"
    )


async def verification_latency(outcomes: Sequence[PairResult], embedder: Embedder) -> None:
    """The second stage's cost per candidate, cold (words never seen) and warm (word vectors cached)."""
    from cache.verification.verifier import Verifier

    pairs = [(o.pair, o.similarity) for o in outcomes if o.similarity >= FLOOR][:200]
    settings = CacheSettings()
    verifier = Verifier(
        embedder.aembed_many, word_threshold=settings.word_threshold, reworded_threshold=settings.reworded_threshold
    )
    for label in ("cold", "warm"):  # the same verifier twice: the second pass finds its word vectors cached
        timings = []
        for pair, similarity in pairs:
            start = time.perf_counter()
            await verifier.verify(pair.b, pair.a, similarity)
            timings.append((time.perf_counter() - start) * 1000)
        print(
            f"  verification latency ({label}, {len(pairs)} candidates): p50={np.percentile(timings, 50):.2f} ms "
            f"p99={np.percentile(timings, 99):.2f} ms"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="+", help="evaluate these pair files instead of the odd fow pairs")
    parser.add_argument("--threshold", type=float, help="use this threshold instead of tuning on even fow pairs")
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))

    embedder = Embedder()
    fow = load_pairs(FOW_PAIRS)
    conversations = load_conversations(CONVERSATIONS_DIR) if CONVERSATIONS_DIR.exists() else []
    extra_files = [resolve(p) for p in args.pairs] if args.pairs else []
    extra = {path: load_pairs(path) for path in extra_files}
    if not args.pairs and CLINC_PAIRS.exists():
        extra[CLINC_PAIRS] = load_pairs(CLINC_PAIRS)

    sources = [FOW_PAIRS, *sorted(CONVERSATIONS_DIR.glob("*.jsonl")), *extra]
    texts = [t for p in fow + conversations + [p for ps in extra.values() for p in ps] for t in (p.a, p.b)]
    started = time.perf_counter()
    vectors = cached_embeddings(texts, file_digest(sources), embedder)
    print(
        f"embeddings: {len(set(texts))} texts in {time.perf_counter() - started:.1f}s "
        f"(cache {EMBED_CACHE_DIR.relative_to(REPO_ROOT)})"
    )

    with tempfile.TemporaryDirectory(prefix="penny-bench-redis-") as tmp:
        server = RedisServerProcess(data_dir=Path(tmp)).start()
        try:
            return asyncio.run(_evaluate(args, embedder, fow, conversations, extra, vectors, server.url))
        finally:
            server.stop()


async def _evaluate(
    args: argparse.Namespace,
    embedder: Embedder,
    fow: list[Pair],
    conversations: list[Pair],
    extra: dict[Path, list[Pair]],
    vectors: dict[str, NDArray[np.float32]],
    url: str,
) -> int:
    even = [p for p in fow if pair_number(p.pair_id) % 2 == 0]
    odd = [p for p in fow if pair_number(p.pair_id) % 2 == 1]
    started = time.perf_counter()
    even_out = await run_pairs(even, vectors, embedder, url)
    odd_out = await run_pairs(odd, vectors, embedder, url)
    print(f"ran {len(even) + len(odd)} fow pairs through SemanticCache in {time.perf_counter() - started:.1f}s")
    threshold = args.threshold if args.threshold is not None else tune(even_out)
    print(
        f"threshold: {threshold:.2f} ({'given' if args.threshold is not None else 'tuned on even fow pairs'}; "
        f"production default {CacheSettings().similarity_threshold:.2f})"
    )
    print_categories(even_out, threshold, f"even fow pairs (tuning, n={len(even)})")
    print_sweep(odd_out, f"odd fow pairs (n={len(odd)})")
    print_categories(odd_out, threshold, f"odd fow pairs (held out, n={len(odd)})")
    cross = score(await run_pairs(odd, vectors, embedder, url, same_user=False), threshold)
    print(
        f"  cross-user (personal questions not reused across users): precision={cross.precision:.3f} "
        f"recall={cross.recall:.3f} false_hit_rate={cross.false_hit_rate:.3f}"
    )
    baseline = score(odd_out, 0.92, plain_cosine=True)
    print(
        f"  baseline plain cosine 0.92: precision={baseline.precision:.3f} recall={baseline.recall:.3f} "
        f"false_hit_rate={baseline.false_hit_rate:.3f}"
    )
    await verification_latency(odd_out, embedder)

    if conversations:
        conv_out = await run_pairs(conversations, vectors, embedder, url)
        print_categories(
            conv_out, threshold, f"multi-turn conversation pairs, keyed by thread context (n={len(conversations)})"
        )

    last = result_line(odd_out, threshold)
    for path, pairs in extra.items():
        outcomes = await run_pairs(pairs, vectors, embedder, url)
        print_categories(outcomes, threshold, f"{path.name} (n={len(pairs)})")
        s = score(outcomes, threshold)
        print(
            f"  {path.name}: false hits on label-0 pairs: {s.false_hits} of {s.negatives}; "
            f"hits on label-1 pairs: {s.true_hits} of {s.positives}"
        )
        if args.pairs:
            last = result_line(outcomes, threshold) if len(extra) == 1 else last
    if args.pairs and len(extra) > 1:
        last = result_line([o for p in extra.values() for o in await run_pairs(p, vectors, embedder, url)], threshold)
    print(last)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
