"""Bounded index memory: a replica serving 2,000 channels × 500 entries within ``PENNY_CACHE_INDEX_MEMORY_MB``.

- Redis (a real redis-server in a temporary directory, or ``--redis-url``) is filled with ``channels × entries``
  cache entries, written with pipelines in batches in the layout ``EntryStore`` writes (entry hash, channel set,
  LRU and expiry sets). Most vectors are random unit vectors; ``--real`` channels also hold a real question
  (a paraphrase pair of ``../shared/eval/cache/fow_pairs.jsonl``, embedded with the production MiniLM ``Embedder``).
- One production ``SemanticCache`` (budget ``--budget-mb``; 0 = no bound) then looks up channels in a seeded random
  order, each twice: the first lookup in a scope that is not held is *cold* (it includes reading the scope's
  vectors from Redis and building its index), the second is *warm*. A channel holding a real question is asked
  its paraphrase (with the paraphrase's embedding), so the hits show the reloaded indexes still answer; other
  channels are asked a random vector (a search, then a miss).
- Peak RSS is the process' high-water mark (``resource.getrusage``), embedding model included, as a replica has it;
  the RSS before the cache work is printed too, and the index memory every scope would take without a bound.
- ``--compare-unbounded`` then repeats the lookups on the same Redis with no bound and every scope loaded first (what
  every replica did at start before the bound); its peak RSS is printed after the bounded run's, which the RESULT
  line reports.

    python benchmarks/cache_memory.py [--channels 2000] [--entries 500] [--budget-mb 64] [--lookups 1000]
                                      [--compare-unbounded]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import redis.asyncio as aioredis  # noqa: E402
import structlog  # noqa: E402
from cache_quality import FOW_PAIRS, load_pairs  # noqa: E402

from bot.redis.embedded import RedisServerProcess  # noqa: E402
from cache import policy  # noqa: E402
from cache.embedder import EMBEDDING_DIM, Embedder  # noqa: E402
from cache.entry import Entry, index_key  # noqa: E402
from cache.index import PER_ENTRY_OVERHEAD_BYTES, PER_INDEX_OVERHEAD_BYTES  # noqa: E402
from cache.semantic import SemanticCache  # noqa: E402
from cache.store import TEAMS_KEY, channel_entries_key, entry_key, exact_key, expiry_key, lru_key  # noqa: E402
from cache.values import CacheQuery, CacheScope, CacheSettings  # noqa: E402
from cache.verification.verifier import Verifier  # noqa: E402
from vocabulary import TaskKind, Tier, Visibility  # noqa: E402

TEAM = "TMEM"
ANSWER = "An answer of about the length of a typical cached Slack reply to a short question."


def rss_mb() -> float:
    """The process' peak resident set so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def p99(values: Sequence[float]) -> float:
    return float(np.percentile(values, 99)) if values else 0.0


def channel_id(n: int) -> str:
    return f"C{n:06d}"


def real_questions(count: int, embedder: Embedder) -> list[tuple[str, str, NDArray[np.float32], NDArray[np.float32]]]:
    """(stored question, paraphrase, their embeddings) for the first ``count`` same-answer pairs the verifier serves.

    Only pairs it serves: the hits here show that a reloaded index still finds the entry, not the verifier's recall
    (that is cache_quality.py's).
    """
    pairs = [p for p in load_pairs(FOW_PAIRS) if p.same_answer and p.a.strip().lower() != p.b.strip().lower()]
    vectors = embedder.embed_many([t for p in pairs for t in (p.a, p.b)])
    verifier = Verifier()
    chosen = []
    for i, p in enumerate(pairs):
        stored, asked = vectors[2 * i], vectors[2 * i + 1]
        if (
            verifier.verify(p.b, p.a, float(stored @ asked)).ok
            and _semantic_for_anyone(p.a)
            and _semantic_for_anyone(p.b)
        ):
            chosen.append((p.a, p.b, stored, asked))
    return chosen[:count]


def _semantic_for_anyone(question: str) -> bool:
    """Neither exact-only (time-relative, non-English...) nor personal: the entry the fill writes can serve it."""
    key_plan = policy.plan(
        CacheQuery(CacheScope(TEAM, "C1", Visibility.PUBLIC), TaskKind.QA, question, "U1"), share_public=False
    )
    return key_plan.cacheable and key_plan.semantic and not key_plan.personal_user


async def fill(
    client: aioredis.Redis,
    channels: int,
    entries: int,
    real: Sequence[tuple[str, str, NDArray[np.float32], NDArray[np.float32]]],
    now: float,
    batch: int = 1000,
) -> None:
    """``channels × entries`` entries, pipelined in batches; channel n < len(real) also holds real question n."""
    rng = np.random.default_rng(7)
    pipe = client.pipeline(transaction=False)
    queued = 0
    vector_id = 0
    for n in range(channels):
        channel = channel_id(n)
        vectors = rng.standard_normal((entries, EMBEDDING_DIM), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        for i in range(entries):
            vector_id += 1
            is_real = i == 0 and n < len(real)
            question = real[n][0] if is_real else f"padding question {i} in {channel}"
            vector = real[n][2] if is_real else vectors[i]
            entry = Entry(
                vector_id=vector_id,
                team_id=TEAM,
                channel_id=channel,
                visibility=Visibility.PUBLIC,
                task=TaskKind.QA,
                question=question,
                answer=ANSWER,
                model="m",
                tier=Tier.ECONOMY,
                created=now,
                expires=now + CacheSettings().ttl_seconds,
                exact_digest=f"bench-{vector_id}",
                semantic=True,
                vector=np.ascontiguousarray(vector, dtype=np.float32).tobytes(),
            )
            pipe.hset(entry_key(TEAM, vector_id), mapping=entry.to_mapping())  # type: ignore[arg-type]
            pipe.sadd(channel_entries_key(TEAM, channel), vector_id)
            pipe.zadd(lru_key(TEAM, channel), {str(vector_id): now})
            pipe.zadd(expiry_key(TEAM), {str(vector_id): entry.expires})
            if is_real:
                pipe.set(exact_key(TEAM, entry.exact_digest), vector_id)
            queued += 1
            if queued >= batch:
                await pipe.execute()
                queued = 0
    pipe.sadd(TEAMS_KEY, TEAM)
    pipe.set("penny:{cache}:seq", vector_id)
    await pipe.execute()


@dataclass
class Measured:
    cold: list[float] = field(default_factory=list)  # ms, lookups whose scope was not held
    warm: list[float] = field(default_factory=list)
    hits: int = 0  # real questions served their stored answer
    asked: int = 0
    evictions: int = 0
    held: int = 0  # scopes held at the end
    index_mib: float = 0.0  # the cache's own estimate of the indexes held at the end
    preload_s: float = 0.0
    peak_rss_mb: float = 0.0


async def measure(
    url: str,
    args: argparse.Namespace,
    real: Sequence[tuple[str, str, NDArray[np.float32], NDArray[np.float32]]],
    *,
    budget_mb: float,
    preload: bool = False,
) -> Measured:
    """Each of ``args.lookups`` random channels looked up twice; ``preload`` first loads every scope, as every
    replica did at start before indexes were bounded."""
    client = aioredis.Redis.from_url(url)
    settings = CacheSettings(index_memory_mb=budget_mb or None, max_entries_per_scope=args.entries + 1)
    cache = SemanticCache(client, embedder=_NoEmbedder(), settings=settings)
    await cache.start(background_sweep=False)
    result = Measured()
    if preload:
        started = time.perf_counter()
        for n in range(args.channels):
            await cache._replica.indexes_for([index_key(TEAM, channel_id(n))])
        result.preload_s = time.perf_counter() - started
    rng = random.Random(args.seed)
    vec_rng = np.random.default_rng(args.seed)
    for _ in range(args.lookups):
        n = rng.randrange(args.channels)
        scope = CacheScope(TEAM, channel_id(n), Visibility.PUBLIC)
        if n < len(real):
            text, vector = real[n][1], real[n][3]
        else:
            vector = vec_rng.standard_normal(EMBEDDING_DIM).astype(np.float32)
            vector /= np.linalg.norm(vector)
            text = f"an unrelated question {n}"
        query = CacheQuery(scope, TaskKind.QA, text, "U1", vector=vector)
        for attempt in range(2):
            is_cold = cache._indexes.get(index_key(TEAM, scope.channel_id)) is None
            started = time.perf_counter()
            hit = await cache.lookup(query)
            (result.cold if is_cold else result.warm).append((time.perf_counter() - started) * 1000)
            if n < len(real) and attempt == 0:
                result.asked += 1
                result.hits += hit is not None and hit.entry_id == f"{TEAM}:{n * args.entries + 1}"  # fill's ids
    stats = cache.index_stats()
    result.evictions, result.held, result.index_mib = stats.evictions, stats.loaded_scopes, stats.memory_bytes / 2**20
    result.peak_rss_mb = rss_mb()
    await cache.close()
    await client.aclose()
    return result


class _NoEmbedder:
    """Every query carries its vector (as the router's shared embedding does): the cache never embeds here."""

    async def aembed(self, text: str) -> NDArray[np.float32]:
        raise AssertionError("the benchmark passes vectors")


def report(label: str, m: Measured) -> None:
    def pct(values: list[float], q: float) -> float:
        return float(np.percentile(values, q)) if values else 0.0

    print(
        f"{label}: peak RSS {m.peak_rss_mb:.0f} MiB; {m.held} scopes held at the end (~{m.index_mib:.0f} MiB "
        f"of indexes), {m.evictions} dropped"
        + (f"; every scope loaded first in {m.preload_s:.1f}s" if m.preload_s else "")
    )
    print(f"  {len(m.cold)} cold lookups (scope read from Redis first): p50={pct(m.cold, 50):.2f} ms", end="")
    print(f" p99={p99(m.cold):.2f} ms")
    print(f"  {len(m.warm)} warm lookups: p50={pct(m.warm, 50):.2f} ms p99={p99(m.warm):.2f} ms")
    print(f"  real questions asked {m.asked}, served the stored answer {m.hits}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=500, help="entries per channel")
    parser.add_argument("--budget-mb", type=float, default=64.0, help="PENNY_CACHE_INDEX_MEMORY_MB; 0: no bound")
    parser.add_argument("--lookups", type=int, default=1000, help="channels looked up (each twice: cold, warm)")
    parser.add_argument("--real", type=int, default=50, help="channels holding a real question (MiniLM)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--compare-unbounded",
        action="store_true",
        help="afterwards, on the same Redis: no bound and every scope loaded first (the behaviour before the bound)",
    )
    parser.add_argument("--redis-url", help="an empty Redis to use (it is flushed); default: a temporary server")
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))

    embedder = Embedder()
    real = real_questions(min(args.real, args.channels), embedder)
    embedder.close()
    rss_before = current_rss_mb()
    per_scope = PER_INDEX_OVERHEAD_BYTES + args.entries * (EMBEDDING_DIM * 4 + PER_ENTRY_OVERHEAD_BYTES)
    print(
        f"cache memory: {args.channels} channels x {args.entries} entries, budget {args.budget_mb:g} MB "
        f"(0 = no bound); every index held would be ~{args.channels * per_scope / 2**20:.0f} MiB "
        f"({per_scope / 2**20:.2f} MiB per channel); RSS before the cache work {rss_before:.0f} MiB "
        f"(embedding model loaded)"
    )

    async def run(url: str, flush_after: bool) -> tuple[Measured, Measured | None]:
        client = aioredis.Redis.from_url(url)
        await client.flushall()
        started = time.perf_counter()
        await fill(client, args.channels, args.entries, real, time.time())
        print(f"filled Redis in {time.perf_counter() - started:.1f}s")
        bounded = await measure(url, args, real, budget_mb=args.budget_mb)
        report(f"budget {args.budget_mb:g} MB", bounded)
        unbounded = None
        if args.compare_unbounded:
            unbounded = await measure(url, args, real, budget_mb=0, preload=True)
            report("no bound, every scope held (as before)", unbounded)
        if flush_after:
            await client.flushall(asynchronous=True)
        await client.aclose()
        return bounded, unbounded

    if args.redis_url:
        bounded, _unbounded = asyncio.run(run(args.redis_url, flush_after=True))
    else:
        with tempfile.TemporaryDirectory(prefix="penny-bench-redis-") as tmp:
            server = RedisServerProcess(data_dir=Path(tmp)).start()
            try:
                bounded, _unbounded = asyncio.run(run(server.url, flush_after=False))
            finally:
                server.stop()
    print(
        f"RESULT cache_memory channels={args.channels} entries_per_channel={args.entries} "
        f"budget_mb={args.budget_mb:.1f} peak_rss_mb={bounded.peak_rss_mb:.1f} cold_p99_ms={p99(bounded.cold):.2f} "
        f"warm_p99_ms={p99(bounded.warm):.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
