"""Router quality vs cost, scored the way RouteLLM does, for the production learned scorer.

For every held-out prompt, sending it to the weak model earns the weak model's correctness and sending it to the
strong model earns the strong model's. Ranking prompts by ``LearnedScorer.score`` and sending the top share to the
strong model gives a quality-vs-share curve; CPT(x%) is the smallest share of strong calls that recovers x% of the
gap between all-weak and all-strong. A random router needs x% by construction, so CPT(80%) well under 80% is the
claim to check.

Honesty rules: the scorer sees only the prompt (its MiniLM embedding and text features) — never ``subject``, the
models' responses, or test labels, which are read only for scoring. Its configuration is the production default,
untouched by this script, so nothing is tuned to the test file; ``--shuffle-test-labels`` must land near random.

    python benchmarks/router_quality.py [--train FILE...] [--test FILE...] [--seed N...] [--shuffle-test-labels]

A file named in both --train and --test is split (per file, fixed seed, 80/20 by default); a file named only in
--test is used whole, which is how the scorer is checked on prompts it was never shown. Splits are by prompt text:
repeated prompts (MMLU dev holds 46 verbatim pairs) land on one side together, and a test prompt whose exact text
is among the training prompts is dropped from the test set, so no answer is looked up rather than predicted.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT.parent / "shared" / "eval" / "router"
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
DEFAULT_FILES = ("mmlu_dev.csv", "gsm8k_dev.csv")
TIERS = ("weak", "strong")
SHARES = tuple(range(0, 101, 10))
RANDOM_DRAWS = 200

sys.path.insert(0, str(REPO_ROOT))  # run as a script from anywhere, without installing the package

from routing.learned.config import ScorerConfig  # noqa: E402
from routing.learned.scorer import LearnedScorer  # noqa: E402
from routing.learned.signatures import prompt_signature  # noqa: E402


@dataclass(frozen=True)
class RouterSet:
    """Prompts of one file with whether the weak and the strong model answered each correctly."""

    path: Path
    digest: str
    prompts: list[str]
    weak: NDArray[np.bool_]
    strong: NDArray[np.bool_]


def resolve(name: str) -> Path:
    """A path as given, else relative to the shared router data directory (so bare file names work in CI)."""
    path = Path(name)
    if path.exists():
        return path.resolve()
    candidate = DATA_DIR / name
    if candidate.exists():
        return candidate
    raise SystemExit(f"router data file not found: {name} (looked in . and {DATA_DIR})")


def _truthy(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "1.0", "yes"):
        return True
    if lowered in ("false", "0", "0.0", "no"):
        return False
    return None


def load_router_csv(path: Path, weak_pattern: str, strong_pattern: str) -> RouterSet:
    """Accepts both RouteLLM layouts: ``mixtral_8x7b_correct``-style and model-id columns with responses."""
    data = path.read_bytes()
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "prompt" not in rows[0]:
        raise SystemExit(f"{path}: expected a CSV with a 'prompt' column")
    candidates = [
        c
        for c in rows[0]
        if c not in ("prompt", "subject")
        and not c.endswith("_response")
        and all(_truthy(r[c] or "") is not None for r in rows[:50])
    ]

    def pick(pattern: str, role: str) -> str:
        found = [c for c in candidates if re.search(pattern, c, re.IGNORECASE)]
        if len(found) != 1:
            raise SystemExit(
                f"{path}: need exactly one {role} correctness column matching {pattern!r}, "
                f"found {found} among {candidates}"
            )
        return found[0]

    weak_col, strong_col = pick(weak_pattern, "weak"), pick(strong_pattern, "strong")
    return RouterSet(
        path=path,
        digest=hashlib.sha256(data).hexdigest(),
        prompts=[r["prompt"] for r in rows],
        weak=np.array([bool(_truthy(r[weak_col])) for r in rows]),
        strong=np.array([bool(_truthy(r[strong_col])) for r in rows]),
    )


def embeddings(dataset: RouterSet) -> NDArray[np.float32]:
    """MiniLM vectors of the prompts, cached on disk by the file's hash (encoding MMLU takes minutes here)."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cache = CACHE_DIR / f"{dataset.path.stem}-{dataset.digest[:16]}-minilm.npy"
    if cache.exists():
        vectors = np.load(cache)
        if vectors.shape[0] == len(dataset.prompts):
            return vectors.astype(np.float32)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from cache.embedder import Embedder

    started = time.perf_counter()
    print(f"encoding {len(dataset.prompts)} prompts of {dataset.path.name} (cached afterwards)...", flush=True)
    vectors = Embedder().embed_many(dataset.prompts)
    np.save(cache, vectors)
    print(f"  done in {time.perf_counter() - started:.0f} s -> {cache.relative_to(REPO_ROOT)}", flush=True)
    return vectors


@dataclass
class Part:
    vectors: NDArray[np.float32]
    prompts: list[str]
    weak: NDArray[np.bool_]
    strong: NDArray[np.bool_]

    @classmethod
    def join(cls, parts: list[Part]) -> Part:
        return cls(
            np.concatenate([p.vectors for p in parts]),
            [t for p in parts for t in p.prompts],
            np.concatenate([p.weak for p in parts]),
            np.concatenate([p.strong for p in parts]),
        )


def split(
    sets: dict[Path, RouterSet],
    vectors: dict[Path, NDArray[np.float32]],
    train: list[Path],
    test: list[Path],
    seed: int,
    test_fraction: float,
) -> tuple[Part, Part]:
    """Per-file split: stratified by file so both sources appear in train and test in their own proportions.

    Rows are grouped by prompt text before splitting (a repeated prompt never straddles the split), and test rows
    whose text is a training prompt are dropped (e.g. a --test file overlapping a --train file).
    """
    chosen: dict[Path, tuple[NDArray[np.intp], NDArray[np.intp]]] = {}
    for path, data in sets.items():
        groups: dict[str, list[int]] = {}
        for i, prompt in enumerate(data.prompts):
            groups.setdefault(prompt, []).append(i)
        members = list(groups.values())
        order = np.random.default_rng([seed, int(data.digest[:8], 16)]).permutation(len(members))
        if path in train and path in test:
            n_test = round(len(members) * test_fraction)
            test_groups, train_groups = order[:n_test], order[n_test:]
        elif path in test:
            test_groups, train_groups = order, order[:0]
        else:
            test_groups, train_groups = order[:0], order
        chosen[path] = (
            np.array([i for g in train_groups for i in members[g]], dtype=np.intp),
            np.array([i for g in test_groups for i in members[g]], dtype=np.intp),
        )
    seen = {sets[path].prompts[i] for path, (train_idx, _) in chosen.items() for i in train_idx}
    train_parts: list[Part] = []
    test_parts: list[Part] = []
    for path, (train_idx, test_idx) in chosen.items():
        data = sets[path]
        test_idx = np.array([i for i in test_idx if data.prompts[i] not in seen], dtype=np.intp)
        for idx, bucket in ((train_idx, train_parts), (test_idx, test_parts)):
            if len(idx):
                bucket.append(
                    Part(vectors[path][idx], [data.prompts[i] for i in idx], data.weak[idx], data.strong[idx])
                )
    if not train_parts or not test_parts:
        raise SystemExit("empty train or test split")
    return Part.join(train_parts), Part.join(test_parts)


def quality_curve(scores: NDArray[np.float64], part: Part, rng: np.random.Generator) -> NDArray[np.float64]:
    """Quality when the m highest-scored prompts go to the strong model, for m = 0..n (ties broken at random)."""
    order = np.lexsort((rng.random(len(scores)), -scores))
    gain = part.strong[order].astype(np.float64) - part.weak[order].astype(np.float64)
    return (part.weak.sum() + np.concatenate([[0.0], np.cumsum(gain)])) / len(scores)


def cpt(curve: NDArray[np.float64], part: Part, fraction: float) -> float:
    """Smallest share of strong calls whose quality recovers ``fraction`` of the weak→strong gap."""
    target = part.weak.mean() + fraction * (part.strong.mean() - part.weak.mean())
    reached = np.nonzero(curve >= target - 1e-12)[0]
    return float(reached[0]) / (len(curve) - 1) if len(reached) else 1.0


def at_share(curve: NDArray[np.float64], share_pct: int) -> float:
    return float(curve[round((len(curve) - 1) * share_pct / 100)])


def train_scorer(config: ScorerConfig, part: Part) -> LearnedScorer:
    """Each training prompt gives two outcomes, one per tier: exactly what 👍/👎 on either tier records, fed in as
    production feeds votes (prompt signatures replayed from the feedback log)."""
    scorer = LearnedScorer(config)
    votes = [
        (prompt_signature(vector, prompt, config.word_buckets), tier, bool(good))
        for tier, outcomes in ((TIERS[0], part.weak), (TIERS[1], part.strong))
        for vector, prompt, good in zip(part.vectors, part.prompts, outcomes, strict=True)
    ]
    if scorer.record_signatures(votes) != len(votes):
        raise SystemExit("some training votes did not fit the scorer")
    scorer.refit()
    return scorer


def score_latency_ms(scorer: LearnedScorer, part: Part, samples: int = 200) -> float:
    """Median wall time of one production-style ``score`` call (one vector, text features included)."""
    times = []
    for i in range(samples):
        j = i % len(part.prompts)
        started = time.perf_counter()
        scorer.score(part.vectors[j], text=part.prompts[j])
        times.append(time.perf_counter() - started)
    return 1000.0 * float(np.median(times))


def run_seed(
    sets: dict[Path, RouterSet],
    vectors: dict[Path, NDArray[np.float32]],
    train: list[Path],
    test: list[Path],
    seed: int,
    args: argparse.Namespace,
) -> dict[str, float]:
    train_part, test_part = split(sets, vectors, train, test, seed, args.test_fraction)
    rng = np.random.default_rng(seed)
    if args.shuffle_test_labels:  # keep each prompt's (weak, strong) pair together, detach it from the prompt
        perm = rng.permutation(len(test_part.prompts))
        test_part = Part(test_part.vectors, test_part.prompts, test_part.weak[perm], test_part.strong[perm])

    n_votes = 2 * len(train_part.prompts)
    learned_cfg = ScorerConfig(tiers=TIERS, max_votes=max(n_votes, ScorerConfig().max_votes))
    plain_cfg = ScorerConfig(tiers=TIERS, max_votes=learned_cfg.max_votes, k=200, knn_weight=1.0)
    started = time.perf_counter()
    learned = train_scorer(learned_cfg, train_part)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    scores = learned.score_many(test_part.vectors, texts=test_part.prompts)
    batch_ms = 1000.0 * (time.perf_counter() - started) / len(scores)
    latency = score_latency_ms(learned, test_part)
    plain_scores = train_scorer(plain_cfg, train_part).score_many(test_part.vectors)

    curves = {
        "learned": quality_curve(scores, test_part, rng),
        "plain kNN": quality_curve(plain_scores, test_part, rng),
        "oracle": quality_curve(
            test_part.strong.astype(np.float64) - test_part.weak.astype(np.float64), test_part, rng
        ),
    }
    random_curves = [quality_curve(rng.random(len(scores)), test_part, rng) for _ in range(RANDOM_DRAWS)]
    curves["random"] = np.mean(random_curves, axis=0)

    print(
        f"\n== seed {seed}: train {len(train_part.prompts)} prompts ({n_votes} votes), "
        f"test {len(test_part.prompts)} prompts"
        f"{' [TEST LABELS SHUFFLED]' if args.shuffle_test_labels else ''}"
    )
    print(
        f"   all-weak quality {test_part.weak.mean():.3f}, all-strong {test_part.strong.mean():.3f}; "
        f"fit {fit_s:.2f} s, score {batch_ms:.2f} ms/prompt batched, "
        f"{latency:.2f} ms p50 single at {learned.n_votes} votes"
    )
    print("   strong% | " + " | ".join(f"{name:>9}" for name in curves))
    for share in SHARES:
        print(f"   {share:>6}% | " + " | ".join(f"{at_share(c, share):>9.3f}" for c in curves.values()))
    result = {
        "cpt50": cpt(curves["learned"], test_part, 0.5),
        "cpt80": cpt(curves["learned"], test_part, 0.8),
        "plain_cpt80": cpt(curves["plain kNN"], test_part, 0.8),
        "oracle_cpt80": cpt(curves["oracle"], test_part, 0.8),
        "random_cpt50": float(np.mean([cpt(c, test_part, 0.5) for c in random_curves])),
        "random_cpt80": float(np.mean([cpt(c, test_part, 0.8) for c in random_curves])),
        "n_test": float(len(test_part.prompts)),
    }
    print(f"   CPT(50%) learned {100 * result['cpt50']:.1f}%  random {100 * result['random_cpt50']:.1f}%")
    print(
        f"   CPT(80%) learned {100 * result['cpt80']:.1f}%  plain kNN(k=200) {100 * result['plain_cpt80']:.1f}%"
        f"  random {100 * result['random_cpt80']:.1f}%  oracle {100 * result['oracle_cpt80']:.1f}%"
    )
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", nargs="+", default=list(DEFAULT_FILES), help="CSV files to learn from")
    parser.add_argument("--test", nargs="+", default=list(DEFAULT_FILES), help="CSV files to score on")
    parser.add_argument(
        "--seed", nargs="+", type=int, default=[0, 1, 2, 3, 4], help="one split per seed; the RESULT line averages them"
    )
    parser.add_argument("--test-fraction", type=float, default=0.2, help="held-out share of a file in both sets")
    parser.add_argument(
        "--shuffle-test-labels",
        action="store_true",
        help="detach test labels from prompts: the scorer must then look like a random router",
    )
    parser.add_argument("--weak-column", default=r"mixtral|weak", help="regex naming the weak model's column")
    parser.add_argument("--strong-column", default=r"gpt-?4|strong", help="regex naming the strong model's column")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    train, test = [resolve(f) for f in args.train], [resolve(f) for f in args.test]
    sets = {p: load_router_csv(p, args.weak_column, args.strong_column) for p in dict.fromkeys(train + test)}
    vectors = {p: embeddings(d) for p, d in sets.items()}
    for path, data in sets.items():
        role = "train+test (split)" if path in train and path in test else ("train" if path in train else "test")
        print(
            f"{path.name}: {len(data.prompts)} prompts, weak {data.weak.mean():.3f}, "
            f"strong {data.strong.mean():.3f}, sha256 {data.digest[:12]} — {role}"
        )
    config = ScorerConfig()
    print(
        f"scorer: LearnedScorer k={config.k} knn_weight={config.knn_weight} ridge_alpha={config.ridge_alpha} "
        f"feature_scale={config.feature_scale} word_buckets={config.word_buckets} "
        f"word_scale={config.word_scale} (production defaults)"
    )

    results = [run_seed(sets, vectors, train, test, seed, args) for seed in args.seed]
    mean = {k: float(np.mean([r[k] for r in results])) for k in results[0]}
    spread = {k: float(np.std([r[k] for r in results])) for k in results[0]}
    print(f"\n== summary over seeds {args.seed}{' [TEST LABELS SHUFFLED]' if args.shuffle_test_labels else ''}")
    for key in ("cpt50", "cpt80", "plain_cpt80", "random_cpt50", "random_cpt80", "oracle_cpt80"):
        per_seed = " ".join(f"{100 * r[key]:.1f}" for r in results)
        print(f"   {key:<13} mean {100 * mean[key]:5.1f}%  ±{100 * spread[key]:.1f}  (per seed: {per_seed})")
    print(f"   runtime {time.perf_counter() - started:.1f} s")
    print(
        f"RESULT router cpt50={100 * mean['cpt50']:.1f} cpt80={100 * mean['cpt80']:.1f} "
        f"random_cpt80={100 * mean['random_cpt80']:.1f} n_test={int(mean['n_test'])}"
    )


if __name__ == "__main__":
    main()
