"""Semantic-cache quality: how often would a cached answer be served for a question that needs another answer?

Every pair goes through the production ``SemanticCache`` against a real redis-server: question ``a`` is stored
(in a channel of its own), question ``b`` is looked up, with the production policy, exact layer, FAISS search,
Redis re-check and verification (guards, then the learned scorer). Nothing here decides a hit; the script only
counts. Embeddings are the production MiniLM vectors, passed in as the assistant passes them
(``CacheQuery.vector``) and cached on disk (benchmarks/.cache) by data-file hash.

Nothing is tuned here: the verifier's operating point (minimum cosine, score threshold) ships in
``cache/verification/verifier_model.json``, chosen by ``benchmarks/train_verifier.py`` on development pairs (qqp_dev
and the **even-numbered** fow pairs). Figures are reported on data the scorer never saw: the **odd-numbered** fow
pairs, CLINC150 and the fow conversations. A ``--pairs`` file the scorer *was* trained on (recognised by its digest
in the model file) is cross-validated instead: its pairs are split into the training script's folds, and each fold
is looked up through a cache whose scorer was retrained without that fold (the other folds plus the other
development set), at the shipped operating point.

The lookup runs once with a score threshold of 0 and records each hit's score, which gives the production
outcome at every threshold (a hit at threshold t is a hit at 0 with score >= t): the sweep.

Both questions of a pair are asked by the same user in the same channel: personal questions ("my PTO") are only
reused for the same user, so a second figure shows the cross-user recall.

    python benchmarks/cache_quality.py [--pairs FILE...] [--threshold T] [--report]

``--pairs`` takes JSONL (``a``, ``b``, ``same_answer`` [, ``category``]) or CSV (``text_a``, ``text_b`` and
``label`` or ``same_intent``; 1 = the same answer serves both). CLINC150 "same intent" positives usually need
different answers, so for that file only false hits (hits on label-0 pairs) are meaningful. ``--report`` ends with
one table row per data set.
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
SWEEP = tuple(round(x, 2) for x in np.arange(0.50, 0.991, 0.02))
BASELINE_COSINE = 0.92
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
from cache.verification.scorer import MODEL_RESOURCE, PairScorer  # noqa: E402
from cache.verification.verifier import Verifier  # noqa: E402

MODEL_FILE = REPO_ROOT / "cache" / "verification" / MODEL_RESOURCE


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
    hit_score: float | None  # the verifier's score of the hit at threshold 0 (1.0 for exact hits); None = miss
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
    scorer: PairScorer | None = None,
) -> list[PairResult]:
    """Store ``a`` and look up ``b`` through the production cache, each pair in a channel of its own.

    The cache runs with a score threshold of 0, so every candidate the guards pass is a hit carrying its score;
    ``scorer`` replaces the shipped one (cross-validation folds).
    """
    client = aioredis.Redis.from_url(redis_url)
    await client.flushall()
    cache = SemanticCache(client, embedder, CacheSettings(verifier_threshold=0.0))
    if scorer is not None:
        cache.verifier = Verifier(scorer, threshold=0.0)
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
                PairResult(pair, float(va @ vb), hit.confidence if hit else None, hit.kind if hit else None)
            )
    finally:
        await cache.close()
        await client.aclose()
    return outcomes


async def run_cross_validated(
    path: Path, pairs: Sequence[Pair], vectors: dict[str, NDArray[np.float32]], embedder: Embedder, redis_url: str
) -> list[PairResult]:
    """A file the scorer was trained on: each of the training script's folds through a scorer trained without it."""
    import train_verifier

    qqp, fow, _provenance = train_verifier.load_dev(embedder, CacheSettings().similarity_threshold)
    target, other = (qqp, fow) if path.name == train_verifier.QQP_DEV.name else (fow, qqp)
    by_text = {(p.a, p.b): i for i, p in enumerate(target.pairs)}
    outcomes: list[PairResult | None] = [None] * len(pairs)
    shipped = PairScorer.packaged()
    for held_out, scorer in train_verifier.fold_scorers(target, other, train_verifier.CV_FOLDS, seed=0):
        fold = set(int(i) for i in held_out)
        members = [j for j, p in enumerate(pairs) if by_text.get((p.a, p.b)) in fold]
        fold_scorer = PairScorer(
            scorer.mean, scorer.scale, scorer.coef, scorer.intercept, shipped.threshold, shipped.min_cosine
        )
        results = await run_pairs([pairs[j] for j in members], vectors, embedder, redis_url, scorer=fold_scorer)
        for j, result in zip(members, results, strict=True):
            outcomes[j] = result
    missing = [p.pair_id for p, o in zip(pairs, outcomes, strict=True) if o is None]
    if missing:
        raise SystemExit(f"{path.name}: {len(missing)} pairs are in no fold (the file differs from training)")
    return [o for o in outcomes if o is not None]


def trained_on(path: Path) -> bool:
    """Whether the shipped scorer was trained on this file (its digest is in the model's provenance)."""
    digests = json.loads(MODEL_FILE.read_text()).get("trained_on", {}).values()
    return hashlib.sha256(path.read_bytes()).hexdigest() in digests


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
        measured = o.similarity if plain_cosine else o.hit_score
        hit = measured is not None and measured >= threshold
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


def print_categories(outcomes: Sequence[PairResult], threshold: float, title: str) -> None:
    result = score(outcomes, threshold)
    positive = {o.pair.category for o in outcomes if o.pair.same_answer}
    print(f"\n{title} (threshold {threshold:.3f})")
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
    print(f"\n{title}: score-threshold sweep (production pipeline) | plain cosine at the same number")
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
        f"number_false_hits={s.category_false_hits(NUMBER_CATEGORIES)} threshold={threshold:.3f}"
    )


@dataclass(frozen=True)
class ReportRow:
    name: str
    how: str  # "held out", "cross-validated", "trained on"
    outcomes: list[PairResult]


def print_report(rows: Sequence[ReportRow], threshold: float) -> None:
    """One line per data set at the production operating point, beside the plain-cosine baseline."""
    print(f"\nreport (verifier threshold {threshold:.3f}; baseline: plain cosine >= {BASELINE_COSINE})")
    print(
        f"  {'data set':<30}{'evaluated':<17}{'pairs':>6}{'same':>6}{'hits':>6}{'prec':>7}{'recall':>7}"
        f"{'false':>6}{'neg':>4}{'num':>4} | {'cos prec':>8}{'recall':>7}"
    )
    for row in rows:
        s, c = score(row.outcomes, threshold), score(row.outcomes, BASELINE_COSINE, plain_cosine=True)
        print(
            f"  {row.name:<30}{row.how:<17}{len(row.outcomes):>6}{s.positives:>6}{s.hits:>6}{s.precision:>7.3f}"
            f"{s.recall:>7.3f}{s.false_hits:>6}{s.category_false_hits(NEGATION_CATEGORIES):>4}"
            f"{s.category_false_hits(NUMBER_CATEGORIES):>4} | {c.precision:>8.3f}{c.recall:>7.3f}"
        )


def verification_latency(outcomes: Sequence[PairResult]) -> None:
    """The verifier's cost per candidate (guards, pair features, scorer): no model call, so no warm-up."""
    verifier = Verifier()
    pairs = [(o.pair, o.similarity) for o in outcomes if o.similarity >= CacheSettings().similarity_threshold][:200]
    timings = []
    for pair, similarity in pairs:
        start = time.perf_counter()
        verifier.verify(pair.b, pair.a, similarity)
        timings.append((time.perf_counter() - start) * 1000)
    if timings:
        print(
            f"  verification latency ({len(pairs)} candidates, first sight of each text): "
            f"p50={np.percentile(timings, 50):.3f} ms p99={np.percentile(timings, 99):.3f} ms"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="+", help="evaluate these pair files instead of CLINC150")
    parser.add_argument("--threshold", type=float, help="score threshold instead of the shipped one")
    parser.add_argument("--report", action="store_true", help="end with a table: one row per data set")
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))

    embedder = Embedder(onnx_dir=EMBED_CACHE_DIR / "models")
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
    shipped = PairScorer.packaged()
    threshold = args.threshold if args.threshold is not None else shipped.threshold
    print(
        f"verifier: score threshold {threshold:.3f} ({'given' if args.threshold is not None else 'shipped'}), "
        f"min cosine {shipped.min_cosine:.2f}, FAISS floor {CacheSettings().similarity_threshold:.2f} "
        f"(chosen by benchmarks/train_verifier.py on qqp_dev + even fow pairs)"
    )
    even = [p for p in fow if pair_number(p.pair_id) % 2 == 0]
    odd = [p for p in fow if pair_number(p.pair_id) % 2 == 1]
    started = time.perf_counter()
    even_out = await run_pairs(even, vectors, embedder, url)
    odd_out = await run_pairs(odd, vectors, embedder, url)
    print(f"ran {len(even) + len(odd)} fow pairs through SemanticCache in {time.perf_counter() - started:.1f}s")
    print_categories(even_out, threshold, f"even fow pairs (the scorer was trained on these, n={len(even)})")
    print_sweep(odd_out, f"odd fow pairs (n={len(odd)})")
    print_categories(odd_out, threshold, f"odd fow pairs (held out, n={len(odd)})")
    cross = score(await run_pairs(odd, vectors, embedder, url, same_user=False), threshold)
    print(
        f"  cross-user (personal questions not reused across users): precision={cross.precision:.3f} "
        f"recall={cross.recall:.3f} false_hit_rate={cross.false_hit_rate:.3f}"
    )
    baseline = score(odd_out, BASELINE_COSINE, plain_cosine=True)
    print(
        f"  baseline plain cosine {BASELINE_COSINE}: precision={baseline.precision:.3f} "
        f"recall={baseline.recall:.3f} false_hit_rate={baseline.false_hit_rate:.3f}"
    )
    verification_latency(odd_out)
    rows = [ReportRow("fow odd ids", "held out", odd_out), ReportRow("fow even ids", "trained on", even_out)]

    if conversations:
        conv_out = await run_pairs(conversations, vectors, embedder, url)
        print_categories(
            conv_out, threshold, f"multi-turn conversation pairs, keyed by thread context (n={len(conversations)})"
        )
        rows.append(ReportRow("fow conversations", "held out", conv_out))

    last = result_line(odd_out, threshold)
    chosen: list[PairResult] = []
    for path, pairs in extra.items():
        if trained_on(path):
            outcomes = await run_cross_validated(path, pairs, vectors, embedder, url)
            how = "cross-validated"
        else:
            outcomes = await run_pairs(pairs, vectors, embedder, url)
            how = "held out"
        title = f"{path.name} ({how}, n={len(pairs)})"
        if how == "cross-validated":
            print_sweep(outcomes, title)
        print_categories(outcomes, threshold, title)
        s = score(outcomes, threshold)
        print(
            f"  {path.name}: false hits on label-0 pairs: {s.false_hits} of {s.negatives}; "
            f"hits on label-1 pairs: {s.true_hits} of {s.positives}"
        )
        rows.append(ReportRow(path.name, how, outcomes))
        chosen += outcomes
    if args.pairs:
        last = result_line(chosen, threshold)
    if args.report:
        print_report(rows, threshold)
    print(last)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
