"""Semantic-cache latency and memory: Penny's full lookup against plain PyTorch embedding, at 100k entries.

- The headline, measured in one run, in alternating blocks of 10 questions so both see the same machine load:
  plain PyTorch MiniLM (``SentenceTransformer.encode`` of one question, one torch thread) against Penny's full
  ``SemanticCache.lookup`` (embed with the production ``Embedder`` — ONNX Runtime when its export works — then
  FAISS search, Redis re-check and verification) in a scope of 100k entries in a real redis-server.
  ``ratio_lookup_vs_torch_embed`` is the lookup p50 over the torch-encode p50.
- The query set is fixed: the first 300 distinct ``b`` questions of the fow pairs; their ``a`` questions are among
  the stored entries, so most lookups verify a real candidate.
- Scopes are filled with real MiniLM embeddings of real questions and dialogue turns (``../shared/eval``), padded
  with random unit vectors up to the target size. The index is the production ``ScopeIndex`` with the production
  ``CacheSettings`` (flat up to ``ann_switch_size``, IVF-Flat above).
- ANN recall@10: the IVF index's top 10 against exact inner-product search, on the real embeddings and at 100k.
- Exact-layer latency: ``SemanticCache.lookup`` end to end for a question stored verbatim.
- Memory: FAISS resident growth for 100k vectors, and Redis bytes per entry (measured on 5k entries, scaled).

    python benchmarks/cache_latency.py [--sizes 1000 10000 100000] [--queries 300] [--entries 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import faiss  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402
import structlog  # noqa: E402
from cache_quality import EMBED_CACHE_DIR, EVAL_DIR, FOW_PAIRS, cached_embeddings, file_digest, load_pairs  # noqa: E402

from bot.redis.embedded import RedisServerProcess  # noqa: E402
from cache.embedder import EMBEDDING_DIM, Embedder, TorchEncoder, packaged_model_dir  # noqa: E402
from cache.entry import Entry, index_key  # noqa: E402
from cache.index import ScopeIndex  # noqa: E402
from cache.semantic import SemanticCache  # noqa: E402
from cache.text import traits  # noqa: E402
from cache.values import CacheQuery, CacheScope, CacheSettings  # noqa: E402

DIALOGSUM = EVAL_DIR / "conversations" / "dialogsum_dev.jsonl"
MMLU = EVAL_DIR / "router" / "mmlu_dev.csv"
CLINC = EVAL_DIR / "cache" / "clinc150_pairs.csv"


def corpus_texts() -> tuple[list[str], list[Path]]:
    """Real short texts to index: questions, intents, dialogue turns and exam prompts."""
    texts: list[str] = []
    for pair in load_pairs(FOW_PAIRS):
        texts += [pair.a, pair.b]
    with CLINC.open(newline="") as fh:
        for row in csv.DictReader(fh):
            texts += [row["text_a"], row["text_b"]]
    with DIALOGSUM.open() as fh:
        for line in fh:
            for turn in json.loads(line)["dialogue"].split("\n"):
                turn = turn.split(":", 1)[-1].strip()
                if len(turn) > 12:
                    texts.append(turn[:300])
    with MMLU.open(newline="") as fh:
        for row in csv.DictReader(fh):
            texts.append(row["prompt"].split("\n")[0][:300])
    unique = sorted(set(texts))
    return unique, [FOW_PAIRS, CLINC, DIALOGSUM, MMLU]


def random_units(count: int, seed: int) -> NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((count, EMBEDDING_DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def build_index(real: NDArray[np.float32], size: int, settings: CacheSettings) -> ScopeIndex:
    index = ScopeIndex(ann_switch_size=settings.ann_switch_size, nprobe=settings.ann_nprobe)
    take = min(size, len(real))
    vectors = real[:take] if take == size else np.vstack([real[:take], random_units(size - take, seed=size)])
    for i, vec in enumerate(vectors):
        index.add(i, vec)
    if index.needs_ann():
        index.build_ann()
    return index


def set_nprobe(index: ScopeIndex, nprobe: int) -> None:
    """Search an IVF index with ``nprobe`` lists from now on (the recall sweep; production sets it at build time)."""
    index.nprobe = nprobe
    if index.approximate:
        index._index.nprobe = nprobe


def memory_bytes(index: ScopeIndex) -> int:
    """Size of the index as FAISS serialises it: vectors, ids, coarse quantiser and lists."""
    return int(faiss.serialize_index(index._index).nbytes)


def percentiles(values: Sequence[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 99))


def timed_lookups(index: ScopeIndex, queries: Sequence[str], embedder: Embedder, k: int) -> list[float]:
    timings = []
    for text in queries:
        start = time.perf_counter()
        vector = embedder.embed(text)
        index.search(vector, k)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def recall_at_10(
    real: NDArray[np.float32], queries: NDArray[np.float32], nprobes: Sequence[int], pad_to: int | None = None
) -> dict[int, tuple[float, float]]:
    """recall@10 of the production IVF-Flat against exact search, and search p50 (ms), per nprobe."""
    vectors = real if pad_to is None else np.vstack([real, random_units(pad_to - len(real), seed=7)])
    exact = ScopeIndex(ann_switch_size=len(vectors) + 1)
    ann = ScopeIndex(ann_switch_size=0)
    for i, vec in enumerate(vectors):
        exact.add(i, vec)
        ann.add(i, vec)
    ann.build_ann()
    assert ann.approximate
    truths = [{c.vector_id for c in exact.search(q, 10)} for q in queries]
    out = {}
    for nprobe in nprobes:
        set_nprobe(ann, nprobe)
        found, timings = 0, []
        for q, truth in zip(queries, truths, strict=True):
            start = time.perf_counter()
            got = ann.search(q, 10)
            timings.append((time.perf_counter() - start) * 1000)
            found += len(truth & {c.vector_id for c in got})
        out[nprobe] = (found / (10 * len(queries)), float(np.percentile(timings, 50)))
    return out


async def exact_and_redis(
    embedder: Embedder, url: str, questions: Sequence[str], paraphrases: Sequence[tuple[str, str]]
) -> tuple[float, float, float]:
    """Exact-hit lookup p50/p99 end to end, Redis bytes per entry, and the full semantic path for reference."""
    client = aioredis.Redis.from_url(url)
    await client.flushall()
    base = (await client.info("memory"))["used_memory"]
    cache = SemanticCache(client, embedder, CacheSettings(max_entries_per_scope=100_000))
    await cache.start(background_sweep=False)
    vectors = embedder.embed_many(list(questions))
    scope = CacheScope("TBENCH", "C1", "public")
    stored = 0
    for i in range(5000):
        q = questions[i % len(questions)] + ("" if i < len(questions) else f" (variant {i})")
        vec = vectors[i % len(questions)]
        if await cache.store(
            CacheQuery(scope, "qa", q, "U1", None, "", vec),
            "An answer of about two hundred "
            "characters, which is a typical cached Slack reply length for a short factual "
            "question about a workplace process, policy or tool." * 1,
            model="m",
            tier="economy",
        ):
            stored += 1
    used = (await client.info("memory"))["used_memory"] - base
    timings = []
    for i in range(2000):
        q = questions[i % len(questions)]
        start = time.perf_counter()
        hit = await cache.lookup(CacheQuery(scope, "qa", q, "U1", None, "", None))
        timings.append((time.perf_counter() - start) * 1000)
        assert hit is not None and hit.kind == "exact", q
    p50, p99 = percentiles(timings)

    # The whole semantic path as the assistant calls it: embed, FAISS, Redis re-check, verification.
    paraphrase_scope = CacheScope("TBENCH", "C2", "public")
    for a, _b in paraphrases:
        await cache.store(
            CacheQuery(paraphrase_scope, "qa", a, "U1", None, "", None), "answer", model="m", tier="economy"
        )
    full, hits = [], 0
    for _a, b in paraphrases:
        start = time.perf_counter()
        hit = await cache.lookup(CacheQuery(paraphrase_scope, "qa", b, "U1", None, "", None))
        full.append((time.perf_counter() - start) * 1000)
        hits += hit is not None
    f50, f99 = percentiles(full)
    print(
        f"full SemanticCache.lookup, non-exact questions ({len(paraphrases)} fow 'b' questions against their "
        f"'a' questions, {hits} hits): p50={f50:.2f} ms p99={f99:.2f} ms (embed + FAISS + Redis re-check + "
        f"verification, first sight of every word)"
    )
    await cache.close()
    await client.aclose()
    return p50, p99, used / stored


async def fill_scope(
    cache: SemanticCache,
    scope: CacheScope,
    questions: Sequence[str],
    vectors: NDArray[np.float32],
    count: int,
    now: float,
) -> None:
    """``count`` entries in one scope, written as ``SemanticCache.store`` writes them, in concurrent batches.

    The real questions come first; the rest are padding entries with random vectors. The IVF build runs once, at
    the end (``store`` would start it at the switch size and carry on adding, which only costs this script time).
    """
    store, replica = cache._store, cache._replica
    await replica.indexes_for([index_key(scope.team_id, scope.channel_id)])  # held, so the adds below apply
    padding = random_units(max(0, count - len(questions)), seed=count)
    batch: list[Entry] = []
    for i in range(count):
        real = i < len(questions)
        vector = vectors[i] if real else padding[i - len(questions)]
        batch.append(
            Entry(
                vector_id=await store.next_vector_id(),
                team_id=scope.team_id,
                channel_id=scope.channel_id,
                visibility=scope.visibility,
                task="qa",
                question=questions[i] if real else f"padding entry {i}",
                answer="An answer of about the length of a typical cached Slack reply to a short question.",
                model="m",
                tier="economy",
                created=now,
                expires=now + CacheSettings().ttl_seconds,
                exact_digest=f"bench-{i}",
                user_id="U1" if real and traits(questions[i]).personal else "",  # asked before by the same person
                semantic=True,
                vector=np.ascontiguousarray(vector, dtype=np.float32).tobytes(),
            )
        )
        if len(batch) == 50 or i == count - 1:
            await asyncio.gather(*(store.add(entry) for entry in batch))
            for entry in batch:
                replica.add(entry.vector_id, entry.index_keys(), entry.vector)
            batch = []
    replica.schedule_ann_builds()
    while replica._ann_builds:
        await asyncio.gather(*list(replica._ann_builds), return_exceptions=True)


async def full_lookup_vs_torch(
    embedder: Embedder,
    url: str,
    entries: int,
    stored: Sequence[str],
    stored_vectors: NDArray[np.float32],
    queries: Sequence[str],
    block: int = 10,
) -> tuple[list[float], list[float], int]:
    """Plain PyTorch ``encode`` of each question and Penny's full lookup of it, in alternating blocks (ms)."""
    torch_model = TorchEncoder(packaged_model_dir(), threads=1).model
    client = aioredis.Redis.from_url(url)
    await client.flushall()
    settings = CacheSettings(max_entries_per_scope=entries + 1)
    cache = SemanticCache(client, embedder, settings)
    await cache.start(background_sweep=False)
    scope = CacheScope("TLOOKUP", "C1", "public")
    started = time.perf_counter()
    await fill_scope(cache, scope, stored, stored_vectors, entries, time.time())
    index = cache._indexes.get(index_key(scope.team_id, scope.channel_id))
    kind = "ivf-flat" if index is not None and index.approximate else "flat"
    print(
        f"\nfull lookup scope: {entries} entries ({kind}) written and indexed in {time.perf_counter() - started:.0f}s"
    )
    for text in queries[:5]:  # warm both paths
        torch_model.encode([text], normalize_embeddings=True, show_progress_bar=False)
        await cache.lookup(CacheQuery(scope, "qa", text, "U1"))
    torch_ms, lookup_ms, hits = [], [], 0
    # Alternating blocks of ``block`` questions: both sides see the same machine load over the run, and neither
    # runs right after the other model has pushed its own weights through the CPU caches (Penny never runs torch
    # between two lookups). ``block=1`` alternates question by question.
    for start_at in range(0, len(queries), block):
        chunk = queries[start_at : start_at + block]
        for text in chunk:
            start = time.perf_counter()
            torch_model.encode([text], normalize_embeddings=True, show_progress_bar=False)
            torch_ms.append((time.perf_counter() - start) * 1000)
        for text in chunk:
            start = time.perf_counter()
            hit = await cache.lookup(CacheQuery(scope, "qa", text, "U1"))
            lookup_ms.append((time.perf_counter() - start) * 1000)
            hits += hit is not None
    await cache.close()
    await client.flushall()
    await client.aclose()
    return torch_ms, lookup_ms, hits


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1_000, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--entries", type=int, default=100_000, help="entries in the full-lookup scope")
    parser.add_argument("--block", type=int, default=10, help="questions per alternating torch/lookup block")
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))
    settings = CacheSettings()

    embedder = Embedder(onnx_dir=EMBED_CACHE_DIR / "models")
    embedder.embed("warm up")
    print(f"embedding backend: {embedder.backend}")
    texts, sources = corpus_texts()
    started = time.perf_counter()
    vectors = cached_embeddings(texts, "latency-" + file_digest(sources), embedder)
    print(f"corpus: {len(texts)} real texts embedded in {time.perf_counter() - started:.1f}s (cached on disk)")
    queries = list(dict.fromkeys(p.b for p in load_pairs(FOW_PAIRS)))[: args.queries]
    query_set = set(queries)
    real = np.vstack([vectors[t] for t in texts if t not in query_set]).astype(np.float32)
    query_vectors = np.vstack([vectors[q] for q in queries]).astype(np.float32)
    print(f"index corpus: {len(real)} real embeddings; query set: {len(queries)} questions (kept out of the index)")
    print(
        f"settings: ann_switch_size={settings.ann_switch_size} nprobe={settings.ann_nprobe} "
        f"candidates={settings.candidates}"
    )

    embedder.embed("warm up")
    embed_only = []
    for text in queries:
        start = time.perf_counter()
        embedder.embed(text)
        embed_only.append((time.perf_counter() - start) * 1000)
    e50, e99 = percentiles(embed_only)
    print(f"\nembed only: p50={e50:.2f} ms p99={e99:.2f} ms")

    results: dict[int, tuple[float, float]] = {}
    print(
        f"\n  {'entries':>8} {'index':>9} {'build_s':>8} {'p50_ms':>8} {'p99_ms':>8} {'search_p50':>11} "
        f"{'search_p99':>11}"
    )
    mem_per_100k = 0.0
    for size in args.sizes:
        start = time.perf_counter()
        index = build_index(real, size, settings)
        build_s = time.perf_counter() - start
        timings = timed_lookups(index, queries, embedder, settings.candidates)
        search = []
        for q in query_vectors:
            t0 = time.perf_counter()
            index.search(q, settings.candidates)
            search.append((time.perf_counter() - t0) * 1000)
        p50, p99 = percentiles(timings)
        s50, s99 = percentiles(search)
        results[size] = (p50, p99)
        kind = "ivf-flat" if index.approximate else "flat"
        print(f"  {size:>8} {kind:>9} {build_s:>8.1f} {p50:>8.2f} {p99:>8.2f} {s50:>11.3f} {s99:>11.3f}")
        if size == 100_000:
            mem_per_100k = memory_bytes(index) / 2**20
        del index

    nprobes = sorted({8, 16, 32, 48, 64, 96, settings.ann_nprobe})
    on_real = recall_at_10(real, query_vectors, nprobes)
    at_100k = recall_at_10(real, query_vectors, nprobes, pad_to=max(args.entries, len(real) + 1))
    print(f"\nANN (IVF-Flat) recall@10 vs exact search, {len(queries)} queries:")
    print(f"  {'nprobe':>6} {'recall_real':>12} {'search_p50_ms':>14} {'recall_100k':>12} {'search_p50_ms':>14}")
    for nprobe in nprobes:
        mark = "  <- production" if nprobe == settings.ann_nprobe else ""
        print(
            f"  {nprobe:>6} {on_real[nprobe][0]:>12.4f} {on_real[nprobe][1]:>14.3f} {at_100k[nprobe][0]:>12.4f} "
            f"{at_100k[nprobe][1]:>14.3f}{mark}"
        )
    recall_real = on_real[settings.ann_nprobe][0]
    print(f"  real embeddings: {len(real)}; the 100k index is those plus random unit vectors")

    stored = [t for t in texts if t not in query_set]
    with tempfile.TemporaryDirectory(prefix="penny-bench-redis-") as tmp:
        server = RedisServerProcess(data_dir=Path(tmp)).start()
        try:
            paraphrases = [(p.a, p.b) for p in load_pairs(FOW_PAIRS)]
            x50, x99, redis_bytes = asyncio.run(exact_and_redis(embedder, server.url, queries, paraphrases))
            torch_ms, lookup_ms, hits = asyncio.run(
                full_lookup_vs_torch(embedder, server.url, args.entries, stored, real, queries, args.block)
            )
        finally:
            server.stop()
    t50, t99 = percentiles(torch_ms)
    l50, l99 = percentiles(lookup_ms)
    ratio = l50 / t50
    print(
        f"plain PyTorch MiniLM encode, one question (SentenceTransformer.encode, 1 torch thread): "
        f"p50={t50:.2f} ms p99={t99:.2f} ms"
    )
    print(
        f"Penny full lookup at {args.entries} entries ({embedder.backend} embed + FAISS + Redis re-check + "
        f"verification; {hits} hits in {len(queries)}): p50={l50:.2f} ms p99={l99:.2f} ms; "
        f"ratio to torch encode {ratio:.2f}"
    )
    print(f"exact-layer hit (SemanticCache.lookup, real redis-server): p50={x50:.3f} ms p99={x99:.3f} ms")
    print(
        f"memory per 100k entries: FAISS {mem_per_100k:.0f} MiB in each process (IVF-Flat, serialised size; "
        f"vectors alone {100_000 * EMBEDDING_DIM * 4 / 2**20:.0f} MiB); Redis {redis_bytes * 100_000 / 2**20:.0f} "
        f"MiB ({redis_bytes:.0f} bytes/entry incl. question, answer and vector)"
    )

    recall = min(recall_real, at_100k[settings.ann_nprobe][0])
    print(
        f"RESULT cache_latency entries={args.entries} p50_ms={l50:.2f} p99_ms={l99:.2f} "
        f"ratio_lookup_vs_torch_embed={ratio:.3f} exact_p50_ms={x50:.3f} ann_recall_at_10={recall:.4f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
