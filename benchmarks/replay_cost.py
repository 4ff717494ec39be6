"""Replay cost: what Penny's routing and semantic cache save against sending every request to the baseline model.

A workspace's worth of requests, built from the real data in ``../shared/eval/``, is replayed through the
production pieces, one request at a time in arrival order, against a real redis-server:

- every request is planned by ``routing.factory.build_routing(...).router.plan`` (classification, policy tiers,
  chain order, budget reservation — the same objects ``bot/app.py`` builds); the first model of the plan's chain
  is the one that answers, and the reservation is settled with that call's cost;
- questions asked by @mention go through ``cache.semantic.SemanticCache`` first, exactly when the assistant would
  look them up (the orchestrator's ``CACHEABLE_TASKS``), with the packaged MiniLM vectors, the production
  settings and one scope per channel; a hit costs nothing and never reaches the router, a miss stores its answer;
- prompts are the ones Penny sends: ``bot.assistant.prompts.chat_messages`` for a mention, ``bot.summarize``'s over
  ``transcript_line``s for ``/summarize``;
- money is ``routing.spend.cost.call_cost`` on ``routing.spend.cost.estimate_usage`` (prompt tokens from that prompt,
  completion tokens from the reference answer where the data has one, else a stated length per kind), in
  ``Decimal``; the baseline is the same usage on the catalog's ``baseline`` model (GPT-4o).

Nothing here decides a tier or a hit; the script builds requests, counts and prices.

What this does NOT measure (read the figures with these in mind):

- **Answer quality per tier.** No model is called. Whether the economy model's answer is as good as GPT-4o's is
  what ``benchmarks/router_quality.py`` and ``benchmarks/router_ceiling.py`` measure (quality against cost on
  RouteLLM's data); this replay takes the router's tier choices as given.
- **Output lengths differing per model.** Every model is billed for the same completion length; real models
  differ (and some write far more).
- **Retries and fallbacks.** Every first-choice model answers first time; a fallback to a dearer model, a retry
  of a cut stream or a resumed stream would add cost. Health is green throughout.
- **Budgets and user limits.** They are lifted (no caps) in an in-memory copy of the catalog so the replay is
  never refused. The shipped defaults would answer premium asks one tier down past $20 a day, which only lowers
  Penny's cost: lifting them makes the figure conservative.
- **The learned nudge.** A fresh workspace has no 👍/👎 votes; the learned scorer acts only after 50, and it
  can only move a prompt *up* a tier.
- **Thread context.** Every ask opens its own thread, so Q&A prompts carry no earlier messages; follow-ups in long
  threads would cost more on every model alike.
- **The request mix.** It is an assumption (printed with the counts); per-kind figures and a few other mixes are
  printed so the total can be re-weighted.

    python benchmarks/replay_cost.py [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import json
import math
import os
import platform
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"
EMBED_CACHE_DIR = Path(__file__).resolve().parent / ".cache"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(REPO_ROOT))  # run as a script from anywhere, without installing the package

import redis.asyncio as aioredis  # noqa: E402
import structlog  # noqa: E402

from bot.assistant.cached_answers import CACHEABLE_TASKS  # noqa: E402
from bot.assistant.prompts import chat_messages  # noqa: E402
from bot.redis.embedded import RedisServerProcess  # noqa: E402
from bot.slack.conversations import SlackMessage  # noqa: E402
from bot.summarize.mapreduce import MapReduceSettings  # noqa: E402
from bot.summarize.prompts import single_prompt  # noqa: E402
from bot.summarize.transcript import transcript_line  # noqa: E402
from cache.embedder import Embedder  # noqa: E402  (cheap: sentence-transformers loads on first use)
from cache.semantic import SemanticCache  # noqa: E402
from cache.values import CacheHit, CacheQuery, CacheScope, CacheSettings  # noqa: E402
from routing.catalog import Catalog, ModelSpec, load_catalog  # noqa: E402
from routing.chat import ChatMessage  # noqa: E402
from routing.classify import classify_task  # noqa: E402
from routing.factory import Routing, build_routing  # noqa: E402
from routing.plan import Refusal, RoutePlan  # noqa: E402
from routing.policy import Budgets, Complexity, UserLimits  # noqa: E402
from routing.router import RouteRequest  # noqa: E402
from routing.spend.cost import CHARS_PER_TOKEN, Usage, call_cost, estimate_tokens, estimate_usage, round_usd  # noqa: E402
from vocabulary import TaskKind, Tier  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling: the workload that grows
import replay_growth as growth  # noqa: E402

if TYPE_CHECKING:
    from numpy.typing import NDArray

T = TypeVar("T")
Vectors = Mapping[str, "NDArray[np.float32]"]

# ------------------------------------------------------------------------------------------------ the workspace

TEAM = "TREPLAY"
CHANNELS = tuple(f"CREPLAY{i:02d}" for i in range(12))  # a mid-sized workspace: a dozen channels Penny is in
USERS = tuple(f"UREPLAY{i:02d}" for i in range(25))  # 25 people; each ask comes from a random one
DEFAULT_SEED = 7
# A repeat follows its original after a random gap (exponential, this mean, as a share of the replayed day):
# close enough that the original's cached answer is still fresh (TTL 7 days), far enough that others interleave.
MEAN_REPEAT_GAP = 0.05

QA_FOW, QA_CLINC, SUMMARY, HARD, DRAFT = "qa-fow", "qa-clinc", "summary", "hard", "draft"
KINDS = (QA_FOW, QA_CLINC, SUMMARY, HARD, DRAFT)
QA_KINDS = (QA_FOW, QA_CLINC)
SOURCES = {
    QA_FOW: "@mention questions: cache/fow_pairs.jsonl, both sides of each pair, repeats after their originals",
    QA_CLINC: "@mention questions: cache/clinc150_pairs.csv queries, same-pair queries after each other",
    SUMMARY: "/summarize: conversations/dialogsum_dev.jsonl dialogues as the channel transcript",
    HARD: "@mention harder asks: router/mt_bench__question.jsonl first turns (writing/reasoning/coding/math...)",
    DRAFT: "@mention 'draft a reply to: <message>' over conversations/slack_export_sample/ human messages",
}
# Completion length (estimated tokens) where the data has no reference answer. Assumptions, printed with the
# figures: a concise Slack answer; a drafted reply; an essay, program or worked solution. MT-Bench has references
# for 39 questions, but they are terse key answers ("You are in second place."), not what a model writes.
ASSUMED_COMPLETION_TOKENS = {QA_FOW: 150, QA_CLINC: 150, HARD: 500, DRAFT: 120}
MIX_WHY = (
    "Assumption: each distinct question or row of each data set is replayed once, which makes Q&A the bulk (as in "
    "a workspace where people mostly @mention Penny with questions), /summarize the second use, and drafts and "
    "harder asks rarer. The per-kind table and the other mixes below show how the total moves if that is wrong."
)
# Other mixes (shares of requests) to re-weight the per-kind averages with; Q&A is fow and clinc together.
OTHER_MIXES: dict[str, dict[str, float]] = {
    "Q&A 60 / summaries 20 / harder 10 / drafts 10": {"qa": 0.6, SUMMARY: 0.2, HARD: 0.1, DRAFT: 0.1},
    "Q&A 30 / summaries 20 / harder 30 / drafts 20": {"qa": 0.3, SUMMARY: 0.2, HARD: 0.3, DRAFT: 0.2},
    "harder asks only": {HARD: 1.0},
}


@dataclass(frozen=True)
class Ask:
    """One request as Penny receives it: who asked where, the prompt Penny would send, how long the answer is."""

    kind: str
    text: str  # the words typed after @Penny, or the /summarize argument text ("" = this channel, last 24 h)
    messages: Sequence[ChatMessage]
    completion_text: str  # the reference answer, or a stand-in of the assumed length
    channel: str
    user: str
    command: str | None = None
    source_id: str = ""  # the row's id where later figures need it (MT-Bench question_id)


@dataclass(frozen=True)
class PairLabel:
    """What the data says about two questions: fow ``same_answer``, or CLINC ``same_intent``."""

    source: str
    same: bool
    category: str


@dataclass
class Workload:
    asks: list[Ask]
    labels: dict[frozenset[str], PairLabel] = field(default_factory=dict)
    rows: Counter[str] = field(default_factory=Counter)  # source rows read per kind


# ------------------------------------------------------------------------------------------------ data


def read_jsonl(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return rows[:limit]


def fow_pairs(path: Path, limit: int | None = None) -> list[tuple[str, str, PairLabel]]:
    return [
        (r["a"], r["b"], PairLabel("fow", bool(r["same_answer"]), r.get("category", "")))
        for r in read_jsonl(path, limit)
    ]


def clinc_pairs(path: Path, limit: int | None = None) -> list[tuple[str, str, PairLabel]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    return [
        (r["text_a"], r["text_b"], PairLabel("clinc", r["same_intent"].strip() == "1", r["pair_type"])) for r in rows
    ]


def slack_messages(directory: Path, limit: int | None = None) -> list[str]:
    """Human messages with text from the export, oldest first; joins, bot posts and file shares are not asks."""
    messages: list[tuple[float, str]] = []
    for path in sorted(directory.glob("*/*.json")):
        for raw in json.loads(path.read_text("utf-8")):
            text = str(raw.get("text", "")).strip()
            if text and not raw.get("subtype") and not raw.get("bot_id"):
                messages.append((float(raw.get("ts", 0)), text))
    return [text for _ts, text in sorted(messages)][:limit]


def stand_in_answer(tokens: int) -> str:
    """Text whose estimated size is ``tokens`` (ceil(chars/4)), for kinds whose data has no answer."""
    return ("lorem " * tokens)[: tokens * CHARS_PER_TOKEN]


_SPEAKER = re.compile(r"^#(Person\d+)#:\s*(.*)$")


def summary_prompt(dialogue: str) -> list[ChatMessage]:
    """What ``/summarize`` sends for a short channel: one call over ``[time] name: text`` transcript lines."""
    source = []
    for i, line in enumerate(dialogue.splitlines()):
        match = _SPEAKER.match(line)
        speaker, text = (match.group(1), match.group(2)) if match else ("", line)
        source.append(SlackMessage(user_id=speaker, text=text, ts=f"{1_763_900_000 + 60 * i}.000100", from_bot=False))
    lines = [transcript_line(m, {}) for m in source]
    if estimate_tokens("\n".join(lines)) > MapReduceSettings().max_chunk_tokens:
        raise ValueError("a dialogue needs map-reduce, which this replay does not model")
    return single_prompt(lines, "this channel")


def mention(kind: str, text: str, channel: str, user: str, source_id: str = "") -> Ask:
    """An @mention opening a thread: the assistant's prompt is the system prompt and the question alone."""
    return Ask(
        kind,
        text,
        chat_messages(text, [], current_ts="1.0"),
        stand_in_answer(ASSUMED_COMPLETION_TOKENS[kind]),
        channel,
        user,
        source_id=source_id,
    )


def repeat_groups(pairs: Sequence[tuple[str, str]], rng: random.Random) -> list[list[str]]:
    """Distinct questions grouped by the pairs that link them, each group in an order where every question after
    the first follows one of its pair partners (breadth-first from the first pair's ``a``).

    A question in several pairs is asked once: replaying it twice would invent an exact repeat the data never had.
    """
    graph: dict[str, list[str]] = defaultdict(list)
    for a, b in pairs:
        graph[a].append(b)
        graph[b].append(a)
    starts = [a for a, _ in pairs]
    rng.shuffle(starts)
    seen: set[str] = set()
    groups = []
    for start in starts:
        if start in seen:
            continue
        order, seen = [start], seen | {start}
        for text in order:  # grows while iterating: breadth-first
            partners = sorted(set(graph[text]) - seen)
            rng.shuffle(partners)
            order += partners
            seen |= set(partners)
        groups.append(order)
    return groups


def interleave(sequences: Sequence[Sequence[T]], rng: random.Random) -> list[T]:
    """Arrival order: each sequence starts at a random moment of the day, its later items follow at random gaps."""
    timed: list[tuple[float, int, int, T]] = []
    for n, sequence in enumerate(sequences):
        at = rng.random()
        for i, item in enumerate(sequence):
            if i:
                at += rng.expovariate(1 / MEAN_REPEAT_GAP)
            timed.append((at, n, i, item))
    timed.sort(key=lambda row: row[:3])
    return [row[3] for row in timed]


def qa_sequences(kind: str, pairs: Sequence[tuple[str, str, PairLabel]], rng: random.Random) -> list[list[Ask]]:
    """One sequence per group of linked questions, all in one channel (repeats happen where the original was)."""
    sequences = []
    for group in repeat_groups([(a, b) for a, b, _ in pairs], rng):
        channel = rng.choice(CHANNELS)
        sequences.append([mention(kind, text, channel, rng.choice(USERS)) for text in group])
    return sequences


def build_workload(eval_dir: Path, *, seed: int = DEFAULT_SEED, limit: int | None = None) -> Workload:
    """Every kind's requests, in arrival order; ``limit`` caps the source rows read per kind (tests)."""
    rng = random.Random(seed)
    fow = fow_pairs(eval_dir / "cache" / "fow_pairs.jsonl", limit)
    clinc = clinc_pairs(eval_dir / "cache" / "clinc150_pairs.csv", limit)
    dialogues = read_jsonl(eval_dir / "conversations" / "dialogsum_dev.jsonl", limit)
    questions = read_jsonl(eval_dir / "router" / "mt_bench__question.jsonl", limit)
    messages = slack_messages(eval_dir / "conversations" / "slack_export_sample", limit)

    sequences: list[list[Ask]] = [*qa_sequences(QA_FOW, fow, rng), *qa_sequences(QA_CLINC, clinc, rng)]
    sequences += [
        [
            Ask(
                SUMMARY,
                "",
                summary_prompt(d["dialogue"]),
                d["summary"],
                rng.choice(CHANNELS),
                rng.choice(USERS),
                command="/summarize",
            )
        ]
        for d in dialogues
    ]
    sequences += [
        [mention(HARD, q["turns"][0], rng.choice(CHANNELS), rng.choice(USERS), str(q["question_id"]))]
        for q in questions
    ]
    sequences += [[mention(DRAFT, f"draft a reply to: {m}", rng.choice(CHANNELS), rng.choice(USERS))] for m in messages]
    labels = {frozenset((a, b)): label for a, b, label in [*fow, *clinc] if a != b}
    rows = Counter(
        {QA_FOW: len(fow), QA_CLINC: len(clinc), SUMMARY: len(dialogues), HARD: len(questions), DRAFT: len(messages)}
    )
    return Workload(interleave(sequences, rng), labels, rows)


def embedding_texts(asks: Iterable[Ask]) -> list[str]:
    """The questions the assistant embeds (every @mention; ``/summarize`` embeds nothing)."""
    return sorted({a.text for a in asks if a.command is None})


def cached_embeddings(
    texts: Sequence[str], embedder: Embedder, cache_dir: Path | None = EMBED_CACHE_DIR
) -> dict[str, NDArray[np.float32]]:
    """MiniLM vectors of ``texts``, kept under ``benchmarks/.cache`` keyed by a hash of the texts themselves."""
    unique = sorted(set(texts))
    digest = hashlib.sha256("\x1e".join(unique).encode()).hexdigest()[:16]
    path = cache_dir / f"replay-emb-{digest}.npz" if cache_dir is not None else None
    if path is not None and path.exists():
        stored = np.load(path, allow_pickle=False)
        if list(stored["texts"]) == unique:
            return dict(zip(unique, stored["vectors"], strict=True))
    vectors = embedder.embed_many(unique) if unique else np.zeros((0, 384), np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, texts=np.array(unique), vectors=vectors)
    return dict(zip(unique, vectors, strict=True))


# ------------------------------------------------------------------------------------------------ replay


@dataclass(frozen=True)
class Hit:
    kind: str  # exact | semantic
    similarity: float
    source: str  # the question whose stored answer was served


@dataclass(frozen=True)
class Served:
    """One replayed request: where it went and what it cost, next to what the baseline model would have cost."""

    ask: Ask
    task: str  # the production classifier's task
    tier: str  # the routed tier, or "cache"
    model: str  # the answering model (for a hit: the model that wrote the cached answer)
    usage: Usage
    cost: Decimal
    baseline: Decimal
    hit: Hit | None = None


def relaxed_catalog(catalog: Catalog) -> Catalog:
    """The catalog with no budget caps and no per-user limits (in memory), so no replayed request is refused."""
    policy = catalog.policy.model_copy(
        update={"budgets": Budgets(), "user_limits": UserLimits(per_hour=None, per_day=None)}
    )
    return catalog.model_copy(update={"policy": policy})


class Replayer:
    """Feeds asks through the production router (and cache, when given) in arrival order, pricing each answer."""

    def __init__(
        self,
        catalog: Catalog,
        routing: Routing,
        cache: SemanticCache | None,
        vectors: Vectors,
        prompt_caches: growth.PrefixCaches | None = None,
    ) -> None:
        self._baseline: ModelSpec = catalog.baseline_model
        self._routing = routing
        self._cache = cache
        self._vectors = vectors
        self._prompt_caches = prompt_caches
        self._questions: dict[str, str] = {}  # cache entry id → the question it answers

    async def run(self, asks: Iterable[Ask]) -> list[Served]:
        return [await self.serve(ask) for ask in asks]

    async def serve(self, ask: Ask) -> Served:
        """The assistant's order: cache lookup, else route, answer (priced), settle the budget, store."""
        vector = self._vectors.get(ask.text) if ask.command is None else None
        query = self._cache_query(ask, vector)
        if query is not None and self._cache is not None:
            hit = await self._cache.lookup(query)
            if hit is not None:
                return self._from_cache(ask, hit, query.task)
        plan = await self._plan(ask, vector)
        served = self._priced(ask, plan)
        if plan.reservation is not None:
            await self._routing.budget.settle(plan.reservation, served.cost)
        if query is not None and self._cache is not None:
            entry = await self._cache.store(query, ask.completion_text, model=served.model, tier=served.tier)
            if entry is not None:
                self._questions[entry] = ask.text
        return served

    def _cache_query(self, ask: Ask, vector: NDArray[np.float32] | None) -> CacheQuery | None:
        """As ``Assistant._cache_query`` builds it for a question that opens a thread; ``/summarize`` has none."""
        if self._cache is None or ask.command is not None:
            return None
        task, _ = classify_task(ask.text)
        if task not in CACHEABLE_TASKS:
            return None
        return CacheQuery(
            scope=CacheScope(TEAM, ask.channel, "public"),
            task=task.value,  # type: ignore[arg-type]
            question=ask.text,
            user_id=ask.user,
            thread_ts=None,
            context_fingerprint="",
            vector=vector,
        )

    async def _plan(self, ask: Ask, vector: NDArray[np.float32] | None) -> RoutePlan:
        plan = await self._routing.router.plan(
            RouteRequest(
                team_id=TEAM,
                channel_id=ask.channel,
                user_id=ask.user,
                text=ask.text or "summarize",  # as bot/summarize/summarizer.py plans a bare /summarize
                messages=ask.messages,
                command=ask.command,
                prompt_vector=vector.tolist() if vector is not None else None,
            )
        )
        if isinstance(plan, Refusal):
            raise RuntimeError(f"the router refused a replayed request ({plan.reason})")
        return plan

    def _priced(self, ask: Ask, plan: RoutePlan) -> Served:
        """The first model's cost (its cached-prefix price where its provider caches), against the baseline model
        for the same tokens. Every prompt here is shorter than the baseline's own caching minimum (1,024 tokens),
        so the baseline is billed in full, as before."""
        model = plan.chain[0]
        usage = estimate_usage(plan.messages, ask.completion_text)
        cached = self._prompt_caches.cached_tokens(model, plan.messages) if self._prompt_caches else 0
        paid = Usage(usage.prompt_tokens, usage.completion_tokens, estimated=True, cached_tokens=cached)
        return Served(
            ask,
            str(plan.classification.task),
            str(plan.tier),
            model.id,
            paid,
            call_cost(model, paid),
            call_cost(self._baseline, usage),
        )

    def _from_cache(self, ask: Ask, hit: CacheHit, task: str) -> Served:
        """Cost 0; the baseline is what the assistant records for a hit (the prompt plus the cached answer)."""
        usage = estimate_usage(ask.messages, hit.answer)
        return Served(
            ask,
            task,
            "cache",
            hit.model,
            usage,
            round_usd(Decimal(0)),
            call_cost(self._baseline, usage),
            Hit(hit.kind, hit.similarity, self._questions.get(hit.entry_id, "?")),
        )


async def replay(
    asks: Sequence[Ask],
    catalog: Catalog,
    redis_url: str,
    *,
    embedder: Embedder | None,
    vectors: Vectors,
    prompt_cache: bool = False,
) -> list[Served]:
    """One pass on an empty Redis: routing only (``embedder=None``), or routing behind the semantic cache; with
    ``prompt_cache`` the providers that publish a cached price bill a repeated prompt prefix at it."""
    client = aioredis.Redis.from_url(redis_url)
    await client.flushall()
    routing = build_routing(catalog, client)
    cache = None
    if embedder is not None:
        cache = SemanticCache(client, embedder, CacheSettings())
        await cache.start(background_sweep=False)
    caches = (
        growth.PrefixCaches(
            catalog,
            {r: growth.CacheRule(c.min_tokens, c.block_tokens, math.inf) for r, c in growth.CACHE_RULES.items()},
        )
        if prompt_cache
        else None
    )
    try:
        return await Replayer(catalog, routing, cache, vectors, caches).run(asks)
    finally:
        if cache is not None:
            await cache.close()
        await client.aclose()


# ------------------------------------------------------------------------------------------------ accounting


@dataclass(frozen=True)
class Spend:
    requests: int
    cost: Decimal
    baseline: Decimal

    @property
    def saved_pct(self) -> Decimal:
        return (1 - self.cost / self.baseline) * 100 if self.baseline else Decimal(0)


def spend(served: Iterable[Served]) -> Spend:
    items = list(served)
    return Spend(len(items), sum((s.cost for s in items), Decimal(0)), sum((s.baseline for s in items), Decimal(0)))


def spend_by(served: Sequence[Served], key: Callable[[Served], str]) -> dict[str, Spend]:
    groups: dict[str, list[Served]] = defaultdict(list)
    for item in served:
        groups[key(item)].append(item)
    return {name: spend(items) for name, items in sorted(groups.items())}


def accounting_problems(served: Sequence[Served]) -> list[str]:
    """What must hold whatever the data: never dearer than the baseline, hits free, totals equal their parts."""
    problems = [f"cost {s.cost} above baseline {s.baseline} ({s.model})" for s in served if s.cost > s.baseline]
    problems += [f"cache hit cost {s.cost}" for s in served if s.hit is not None and s.cost != 0]
    total = spend(served)
    for name, key in (("tier", _tier), ("model", _model), ("kind", _kind)):
        parts = spend_by(served, key).values()
        if (
            sum((p.cost for p in parts), Decimal(0)) != total.cost
            or sum((p.baseline for p in parts), Decimal(0)) != total.baseline
            or sum(p.requests for p in parts) != total.requests
        ):
            problems.append(f"totals by {name} do not add up to the total")
    return problems


def _tier(s: Served) -> str:
    return s.tier


def _model(s: Served) -> str:
    return "(cache)" if s.hit is not None else s.model


def _kind(s: Served) -> str:
    return s.ask.kind


def judge_hit(served: Served, labels: Mapping[frozenset[str], PairLabel]) -> str:
    """Whether a served cached answer was right, by the data's labels (an unlabelled hit needs a human look)."""
    assert served.hit is not None
    if served.hit.source == served.ask.text:
        return "identical question"
    label = labels.get(frozenset((served.ask.text, served.hit.source)))
    if label is None:
        return "unlabelled: questions of different pairs (read them)"
    if label.source == "fow":
        return "fow same-answer pair (right)" if label.same else "fow NOT-same-answer pair (WRONG answer)"
    return (
        "clinc same-intent pair (same intent; answers may differ)"
        if label.same
        else "clinc different-intent pair (WRONG answer)"
    )


def is_false_hit(verdict: str) -> bool:
    return "WRONG" in verdict


# ------------------------------------------------------------------------------------------------ report


def usd(amount: Decimal) -> str:
    return f"${amount:,.4f}"


def machine() -> str:
    """CPU model, cores, memory and Python, read where the OS offers them."""
    cpu, mem = platform.processor() or platform.machine(), ""
    try:
        info = Path("/proc/cpuinfo").read_text()
        cpu = next((ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")), cpu)
        kib = next(
            int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")
        )
        mem = f", {kib / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{os.cpu_count()} CPU ({cpu}){mem}, Python {platform.python_version()}, {platform.system()}"


def print_workload(workload: Workload) -> None:
    counts = Counter(a.kind for a in workload.asks)
    print(f"\nrequests replayed: {len(workload.asks)} (one team, {len(CHANNELS)} channels, {len(USERS)} users)")
    for kind in KINDS:
        share = counts[kind] / len(workload.asks) if workload.asks else 0
        print(f"  {kind:<9}{counts[kind]:>6}  {share:>6.1%}  {SOURCES[kind]} ({workload.rows[kind]} rows)")
    print(f"  {MIX_WHY}")
    assumed = ", ".join(f"{k} {v}" for k, v in ASSUMED_COMPLETION_TOKENS.items())
    print(f"  completion tokens: summaries = the human summary's length; assumed elsewhere: {assumed}")


def print_tiers(served: Sequence[Served], key: Callable[[Served], str], title: str) -> None:
    columns = ["economy", "standard", "premium", "cache"]
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for s in served:
        table[key(s)][s.tier] += 1
    print(f"\n{title}")
    print(f"  {'':<11}" + "".join(f"{c:>10}" for c in columns) + f"{'all':>8}")
    for row in sorted(table):
        print(f"  {row:<11}" + "".join(f"{table[row][c]:>10}" for c in columns) + f"{sum(table[row].values()):>8}")


def print_spend(served: Sequence[Served], title: str) -> None:
    total = spend(served)
    print(f"\n{title}: spend {usd(total.cost)} vs all-baseline {usd(total.baseline)} → saved {total.saved_pct:.1f}%")
    for name, key in (("tier", _tier), ("model", _model)):
        for part, s in spend_by(served, key).items():
            share = s.cost / total.cost if total.cost else Decimal(0)
            print(
                f"  by {name:<6}{part:<19}{s.requests:>6} req  {usd(s.cost):>10} ({share:>6.1%} of spend)  "
                f"baseline for the same {usd(s.baseline):>10}"
            )


def per_thousand(amount: Decimal, requests: int) -> str:
    return usd(amount * 1000 / requests) if requests else "-"


def print_per_kind(plain: Sequence[Served], cached: Sequence[Served]) -> None:
    without, with_cache = spend_by(plain, _kind), spend_by(cached, _kind)
    print("\nper kind, USD per 1,000 requests (without cache | with cache)")
    print(f"  {'kind':<9}{'n':>6}{'Penny':>10}{'baseline':>10}{'saved':>8} |{'Penny':>10}{'saved':>8}")
    for kind in (*KINDS, "all"):
        a = spend(plain) if kind == "all" else without.get(kind)
        b = spend(cached) if kind == "all" else with_cache.get(kind)
        if a is None or b is None:
            continue
        print(
            f"  {kind:<9}{a.requests:>6}{per_thousand(a.cost, a.requests):>10}"
            f"{per_thousand(a.baseline, a.requests):>10}{a.saved_pct:>7.1f}% |"
            f"{per_thousand(b.cost, b.requests):>10}{b.saved_pct:>7.1f}%"
        )


def mt_bench_first_turn_scores(path: Path) -> dict[str, dict[str, float]]:
    """question_id → {"weak"|"strong": GPT-4-judge score of the first turn} from RouteLLM's MT-Bench scores."""
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["turn"] == "1":
                scores[row["question_id"]]["strong" if row["model"].startswith("gpt-4") else "weak"] = float(
                    row["score"]
                )
    return scores


def print_quality_hint(plain: Sequence[Served], scores: Mapping[str, Mapping[str, float]]) -> None:
    """Not Penny's models: what a weak vs a strong model scored on the harder asks each tier received."""
    print(
        "\nharder asks, quality hint (NOT measured here: RouteLLM's MT-Bench first-turn judge scores of its weak "
        "model Mixtral-8x7B and strong model GPT-4-1106, on the asks each tier received; 1-10)"
    )
    by_tier: dict[str, list[Mapping[str, float]]] = defaultdict(list)
    for s in plain:
        if s.ask.kind == HARD and s.ask.source_id in scores:
            by_tier[s.tier].append(scores[s.ask.source_id])
    for tier, rows in sorted(by_tier.items()):
        weak = sum(r.get("weak", 0) for r in rows) / len(rows)
        strong = sum(r.get("strong", 0) for r in rows) / len(rows)
        print(f"  {tier:<9}{len(rows):>4} asks  weak {weak:.2f}  strong {strong:.2f}")


def mix_saving(served: Sequence[Served], mix: Mapping[str, float]) -> Decimal:
    """Saved % if requests came in these shares, from the per-kind mean cost and baseline of this replay."""
    by_kind = spend_by(served, lambda s: "qa" if s.ask.kind in QA_KINDS else s.ask.kind)
    cost = sum(
        (Decimal(str(w)) * by_kind[k].cost / by_kind[k].requests for k, w in mix.items() if k in by_kind), Decimal(0)
    )
    baseline = sum(
        (Decimal(str(w)) * by_kind[k].baseline / by_kind[k].requests for k, w in mix.items() if k in by_kind),
        Decimal(0),
    )
    return (1 - cost / baseline) * 100 if baseline else Decimal(0)


def print_mixes(plain: Sequence[Served]) -> None:
    print("\nother mixes (routing only, re-weighting the per-kind means above)")
    for name, mix in OTHER_MIXES.items():
        print(f"  {name:<48} saved {mix_saving(plain, mix):.1f}%")


def print_cache(
    cached: Sequence[Served], labels: Mapping[frozenset[str], PairLabel], lookups: Counter[str], tasks: Counter[str]
) -> None:
    hits = [s for s in cached if s.hit is not None]
    total = sum(lookups.values())
    kinds = Counter(s.hit.kind for s in hits if s.hit is not None)
    print(
        f"\ncache: {len(hits)} hits in {total} lookups ({len(hits) / total if total else 0:.1%}; "
        f"exact {kinds['exact']}, semantic {kinds['semantic']}); lookups by kind: "
        + ", ".join(f"{k} {n}" for k, n in sorted(lookups.items()))
    )
    by_kind = Counter(s.ask.kind for s in hits)
    qa = sum(lookups[k] for k in QA_KINDS)
    print(
        f"  Q&A hit rate {sum(by_kind[k] for k in QA_KINDS) / qa if qa else 0:.1%} "
        f"(fow {by_kind[QA_FOW]} of {lookups[QA_FOW]}, clinc {by_kind[QA_CLINC]} of {lookups[QA_CLINC]})"
    )
    print(
        "  lookups by classified task: "
        + ", ".join(f"{t} {n}" for t, n in sorted(tasks.items()))
        + " (chat: exact reuse only, cache/policy.py)"
    )
    verdicts = Counter(judge_hit(s, labels) for s in hits)
    for verdict, n in sorted(verdicts.items()):
        print(f"  {n:>5}  {verdict}")
    negatives = Counter(label.source for label in labels.values() if not label.same)
    wrong = Counter(judge_hit(s, labels).split()[0] for s in hits if is_false_hit(judge_hit(s, labels)))
    print(
        f"  false hits (a wrong answer served): {wrong['fow']} on {negatives['fow']} fow not-same-answer pairs, "
        f"{wrong['clinc']} on {negatives['clinc']} clinc different-intent pairs"
    )
    for s in hits:
        verdict = judge_hit(s, labels)
        if is_false_hit(verdict) or verdict.startswith(("unlabelled", "clinc same")):
            assert s.hit is not None
            print(f"         {verdict.split(' (')[0]}: {s.ask.text!r} ← {s.hit.source!r} ({s.hit.similarity:.2f})")


def cacheable_lookups(asks: Iterable[Ask], by: Callable[[Ask], str] = lambda a: a.kind) -> Counter[str]:
    """Requests the assistant looks up in the cache, by kind (what the hit rate is out of) or by ``by``."""
    return Counter(by(a) for a in asks if a.command is None and classify_task(a.text)[0] in CACHEABLE_TASKS)


# ------------------------------------------------------------------------------------------------ the growing workload

GROWTH_PASSES = {  # name → (memoized partial summaries, provider prompt caches)
    "routing only": (False, False),
    "+ reused partial summaries": (True, False),
    "+ provider prompt caches": (False, True),
    "everything": (True, True),
}


@dataclass(frozen=True)
class Figures:
    """One group of requests: what was paid for, what was reused or cached, and the bill next to the baseline's."""

    requests: int = 0
    prompt_paid: int = 0  # prompt tokens billed at the full input price
    cached: int = 0  # prompt tokens billed at a provider's cached price
    reused: int = 0  # transcript tokens not sent again (reused partial summaries; a cache hit's whole prompt)
    completion: int = 0
    cost: Decimal = Decimal(0)
    baseline: Decimal = Decimal(0)

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.requests + other.requests,
            self.prompt_paid + other.prompt_paid,
            self.cached + other.cached,
            self.reused + other.reused,
            self.completion + other.completion,
            self.cost + other.cost,
            self.baseline + other.baseline,
        )

    @property
    def saved_pct(self) -> Decimal:
        return (1 - self.cost / self.baseline) * 100 if self.baseline else Decimal(0)


def served_figures(item: Served) -> Figures:
    if item.hit is not None:  # nothing was sent: the whole prompt and answer were reused
        return Figures(1, 0, 0, item.usage.prompt_tokens, 0, item.cost, item.baseline)
    usage = item.usage
    return Figures(
        1, usage.uncached_prompt_tokens, usage.cached_tokens, 0, usage.completion_tokens, item.cost, item.baseline
    )


def growth_figures(item: growth.GrowthServed, baseline: Decimal) -> Figures:
    paid = item.prompt_tokens - item.cached_tokens
    return Figures(1, paid, item.cached_tokens, item.reused_tokens, item.completion_tokens, item.cost, baseline)


def by_kind(
    mix: Sequence[Served], grown: Sequence[growth.GrowthServed], baselines: Sequence[Decimal]
) -> dict[str, Figures]:
    kinds: dict[str, Figures] = defaultdict(Figures)
    for item in mix:
        kinds[item.ask.kind] += served_figures(item)
    for item, baseline in zip(grown, baselines, strict=True):
        kinds[item.kind] += growth_figures(item, baseline)
    return dict(kinds)


def total(figures: Iterable[Figures]) -> Figures:
    return sum(figures, Figures())


async def run_growth(grow: growth.Growth, catalog: Catalog, redis_url: str) -> dict[str, list[growth.GrowthServed]]:
    """The growing workload once per pass, each on an empty Redis."""
    return {
        name: await growth.replay_growth(grow, catalog, redis_url, memo=memo, prompt_cache=cached)
        for name, (memo, cached) in GROWTH_PASSES.items()
    }


def print_growth(
    grow: growth.Growth, passes: Mapping[str, Sequence[growth.GrowthServed]], baselines: Sequence[Decimal]
) -> None:
    counts = Counter(s.kind for s in passes["everything"])
    print(f"\ngrowing workload: {grow.requests} requests over {grow.days} days (team {growth.TEAM})")
    for kind in growth.GROWTH_KINDS:
        print(f"  {kind:<10}{counts[kind]:>6}  {growth.GROWTH_SOURCES[kind]}")
    print(f"  {growth.GROWTH_WHY}")
    latency = growth.LATENCY
    print(
        f"  modelled, not measured: answer lengths from the data (a part: its dialogues' human summaries; a channel "
        f"summary: its week's, cut at {growth.FINAL_WORDS} words; follow-ups: 150/120 tokens or the human summary); "
        f"time: {latency['ttft_base_s']} s + uncached prompt / {latency['prefill_tps']:,} tokens/s to the first "
        f"token, then {latency['decode_tps']} tokens/s; prompt caches: "
        + "; ".join(
            f"{family} ≥{rule.min_tokens} tokens in steps of {rule.block_tokens}, {rule.ttl_s / 60:.0f} min"
            for family, rule in growth.CACHE_RULES.items()
        )
    )
    print("\n  saved against all-baseline, by what is switched on (same requests, same baseline bill)")
    everything_total = None
    for name, served in passes.items():
        figures = total(growth_figures(s, b) for s, b in zip(served, baselines, strict=True))
        everything_total = figures if name == "everything" else everything_total
        print(f"    {name:<30} {usd(figures.cost):>10} vs {usd(figures.baseline):>10} → saved {figures.saved_pct:.1f}%")
    summaries = [s for s in passes["everything"] if s.kind in (growth.DAILY, growth.SHARED)]
    plain = {(s.kind, s.at): s for s in passes["routing only"]}
    print("\n  time (modelled) of the summaries, with reuse against without (the same request, routing only)")
    for label, group in (
        ("every part reused (only the reduce)", [s for s in summaries if s.chunks and s.reused == s.chunks]),
        ("some parts reused, some new", [s for s in summaries if 0 < s.reused < s.chunks]),
        ("nothing to reuse", [s for s in summaries if not s.reused]),
    ):
        if group:
            now = sum(s.latency_s for s in group) / len(group)
            before = sum(plain[(s.kind, s.at)].latency_s for s in group) / len(group)
            print(f"    {label:<38}{len(group):>5} summaries  {now:5.1f} s instead of {before:5.1f} s")
    chunks = sum(s.chunks for s in summaries)
    reused = sum(s.reused for s in summaries)
    print(
        f"  reuse: {reused} of {chunks} summarized parts came from earlier summaries "
        f"({reused / chunks if chunks else 0:.1%}); "
        f"{sum(1 for s in summaries if s.chunks)} of {len(summaries)} summaries were map-reduced"
    )
    ledger = sum((s.ledger_baseline for s in passes["everything"]), Decimal(0))
    if everything_total is not None:
        print(
            f"  ledger view: the rows' own baseline (a memoized summary's is one call with its whole transcript on "
            f"the baseline model) sums to {usd(ledger)}; the all-baseline bill used here (the routing-only calls on "
            f"the baseline model, with its own prompt cache) is {usd(everything_total.baseline)}"
        )
    print_growth_tiers(passes["everything"])


def economy_summaries(catalog: Catalog) -> Catalog:
    """What-if, not the headline: every summary starts on the economy tier (what a cascade with quality checks —
    issue 13 item 4 — would try first, escalating only a bad answer)."""
    tiers = {**catalog.policy.tiers, TaskKind.SUMMARIZE: dict.fromkeys(Complexity, Tier.ECONOMY)}
    return catalog.model_copy(update={"policy": catalog.policy.model_copy(update={"tiers": tiers})})


def print_growth_tiers(served: Sequence[growth.GrowthServed]) -> None:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for item in served:
        table[item.kind][item.tier] += 1
    print(
        "  tiers (everything): "
        + "; ".join(
            f"{kind} "
            + " / ".join(f"{t} {table[kind][t]}" for t in ("economy", "standard", "premium") if table[kind][t])
            for kind in growth.GROWTH_KINDS
            if table[kind]
        )
    )


def print_kinds(kinds: Mapping[str, Figures], plain: Mapping[str, Figures], title: str) -> None:
    print(f"\n{title}")
    print(
        f"  {'kind':<11}{'n':>6}{'prompt paid':>13}{'cached':>10}{'reused':>11}{'completion':>12}"
        f"{'Penny':>11}{'baseline':>11}{'saved':>8} | {'routing only':>12}"
    )
    order = [*KINDS, *growth.GROWTH_KINDS]
    for kind in [*(k for k in order if k in kinds), "all"]:
        f = total(kinds.values()) if kind == "all" else kinds[kind]
        p = total(plain.values()) if kind == "all" else plain[kind]
        print(
            f"  {kind:<11}{f.requests:>6}{f.prompt_paid:>13,}{f.cached:>10,}{f.reused:>11,}{f.completion:>12,}"
            f"{usd(f.cost):>11}{usd(f.baseline):>11}{f.saved_pct:>7.1f}% | {p.saved_pct:>11.1f}%"
        )


def tier_split(mix: Sequence[Served], grown: Sequence[growth.GrowthServed]) -> Counter[str]:
    return Counter([s.tier for s in mix] + [s.tier for s in grown])


def result_line(n: int, everything: Figures, routing_only: Figures, hit_rate: float, chunk_reuse: float) -> str:
    return (
        f"RESULT replay_cost n={n} saved_pct={everything.saved_pct:.2f} "
        f"saved_pct_no_cache={routing_only.saved_pct:.2f} cache_hit_rate={hit_rate:.4f} "
        f"summary_chunk_reuse={chunk_reuse:.4f}"
    )


def chunk_reuse(grown: Sequence[growth.GrowthServed]) -> float:
    chunks = sum(s.chunks for s in grown)
    return sum(s.reused for s in grown) / chunks if chunks else 0.0


# ------------------------------------------------------------------------------------------------ main


async def run_both(
    workload: Workload, catalog: Catalog, redis_url: str, embedder: Embedder, vectors: Vectors
) -> tuple[list[Served], list[Served]]:
    """The same requests twice on a fresh Redis: routing alone, then routing behind the cache (and providers'
    prompt caches)."""
    plain = await replay(workload.asks, catalog, redis_url, embedder=None, vectors=vectors)
    cached = await replay(workload.asks, catalog, redis_url, embedder=embedder, vectors=vectors, prompt_cache=True)
    return plain, cached


GOAL_PCT = Decimal("96.0")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="arrival order, channels and users")
    parser.add_argument("--limit", type=int, default=None, help="source rows per kind (a quick smoke run)")
    parser.add_argument("--days", type=int, default=growth.DAYS, help="length of the growing workload's timeline")
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))

    started = time.perf_counter()
    base = load_catalog(None)
    catalog = relaxed_catalog(base)
    print(f"machine: {machine()}")
    print(
        f"catalog: packaged default, baseline {catalog.baseline}; budgets and per-user limits lifted in memory "
        f"(shipped: daily {base.policy.budgets.daily.soft_usd}/{base.policy.budgets.daily.hard_usd} USD soft/hard, "
        f"{base.policy.user_limits.per_hour}/h per user) so nothing is refused; cached-input prices: "
        + ", ".join(f"{m.id} {m.price_cached_in_per_mtok}" for m in catalog.models if m.price_cached_in_per_mtok)
    )
    workload = build_workload(EVAL_DIR, seed=args.seed, limit=args.limit)
    grow = growth.build_growth(EVAL_DIR, seed=args.seed, limit=args.limit, days=args.days)
    print_workload(workload)

    embedder = Embedder(onnx_dir=EMBED_CACHE_DIR / "models")
    texts = embedding_texts(workload.asks)
    t0 = time.perf_counter()
    vectors = cached_embeddings(texts, embedder)
    print(
        f"\nembeddings: {len(texts)} questions in {time.perf_counter() - t0:.1f}s "
        f"(MiniLM, cached in {EMBED_CACHE_DIR.relative_to(REPO_ROOT)})"
    )

    with tempfile.TemporaryDirectory(prefix="penny-replay-redis-") as tmp:
        server = RedisServerProcess(data_dir=Path(tmp)).start()
        try:
            t0 = time.perf_counter()
            plain, cached = asyncio.run(run_both(workload, catalog, server.url, embedder, vectors))
            print(f"replayed twice (routing only; routing + caches) in {time.perf_counter() - t0:.1f}s")
            t0 = time.perf_counter()
            passes = asyncio.run(run_growth(grow, catalog, server.url))
            whatif = asyncio.run(
                growth.replay_growth(grow, economy_summaries(catalog), server.url, memo=True, prompt_cache=True)
            )
            print(f"replayed the growing workload {len(passes) + 1} times in {time.perf_counter() - t0:.1f}s")
        finally:
            server.stop()
            embedder.close()

    problems = accounting_problems(plain) + accounting_problems(cached)
    baselines = growth.baseline_costs(passes["routing only"], catalog)
    problems += [
        f"growing workload: {s.kind} at {s.at} cost {s.cost} above its baseline {b}"
        for name, served in passes.items()
        for s, b in zip(served, baselines, strict=True)
        if s.cost > b
    ]
    if problems:
        print("ACCOUNTING PROBLEMS:\n  " + "\n  ".join(problems[:20]))
        return 1
    lookups = cacheable_lookups(workload.asks)
    print("\n======== today's mix (as before; compare with earlier figures) ========")
    print_tiers(plain, _kind, "requests by kind × tier (routing only)")
    print_tiers(plain, lambda s: s.task, "requests by classified task × tier (routing only)")
    print_tiers(cached, _kind, "requests by kind × tier (routing + cache)")
    print_spend(plain, "WITHOUT cache")
    print_spend(cached, "WITH cache")
    print_per_kind(plain, cached)
    print_mixes(plain)
    scores = mt_bench_first_turn_scores(EVAL_DIR / "router" / "mt_bench__scores.csv")
    print_quality_hint(plain, scores)
    print_cache(
        cached, workload.labels, lookups, cacheable_lookups(workload.asks, by=lambda a: str(classify_task(a.text)[0]))
    )
    longest = max(s.usage.prompt_tokens for s in plain)
    print(f"  longest prompt of this mix: {longest:,} tokens (the baseline's prompt cache starts at 1,024)")
    today_all, today_plain = spend(cached), spend(plain)
    print(
        f"TODAY'S MIX: n={len(cached)} saved {today_all.saved_pct:.2f}% (routing + caches), "
        f"{today_plain.saved_pct:.2f}% (routing only)"
    )

    print("\n======== the growing workload ========")
    print_growth(grow, passes, baselines)

    everything = passes["everything"]
    kinds = by_kind(cached, everything, baselines)
    plain_kinds = by_kind(plain, passes["routing only"], baselines)
    print("\n======== extended mix: today's mix + the growing workload ========")
    print_kinds(
        kinds, plain_kinds, "per kind (routing + every cache | routing only); tokens as Penny's models were billed"
    )
    ext, ext_plain = total(kinds.values()), total(plain_kinds.values())
    hits = sum(1 for s in cached if s.hit is not None)
    hit_rate = hits / sum(lookups.values()) if lookups else 0.0
    split = tier_split(cached, everything)
    print(
        "\nrouter tier split (extended mix, every cache on): "
        + ", ".join(
            f"{t} {split[t]} ({split[t] / ext.requests:.1%})" for t in ("economy", "standard", "premium", "cache")
        )
    )
    print_quality_hint(plain, scores)
    verdict = "reached" if ext.saved_pct >= GOAL_PCT else f"NOT reached: {GOAL_PCT - ext.saved_pct:.2f} points short"
    print(
        f"\nsaved {ext.saved_pct:.2f}% of the all-{catalog.baseline} bill ({usd(ext.cost)} vs {usd(ext.baseline)}), "
        f"{ext_plain.saved_pct:.2f}% with routing alone; goal {GOAL_PCT}%: {verdict}"
    )
    cheap = total(by_kind(cached, whatif, baselines).values())
    print(
        f"what-if, not the headline: with every summary started on the economy tier (a cascade with quality checks, "
        f"item 4, would try that first and escalate bad answers; escalations not modelled) the extended mix would "
        f"save {cheap.saved_pct:.2f}% ({usd(cheap.cost)}) — an upper bound for that route, with no quality evidence "
        f"for economy summaries of a week of conversation in this replay"
    )
    print(f"\nruntime: {time.perf_counter() - started:.1f}s on {machine()}")
    print(result_line(ext.requests, ext, ext_plain, hit_rate, chunk_reuse(everything)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
