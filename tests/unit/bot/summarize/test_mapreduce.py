"""The memoized map-reduce against a real Redis: what a repeated, edited or other-channel summary pays for.

Model calls are a fake with the ``ModelCalls`` surface (route once, then run calls) that answers a map call with
the markers it was shown and records every call; the partial store, chunking and prompts are the real ones.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.redis.connection import plain_client
from bot.summarize.calls import Answered, SummaryStopped
from bot.summarize.chunks import Line
from bot.summarize.mapreduce import MapReduce, MapReduceSettings, Source
from bot.summarize.partials import NoPartials, Partial, PartialStore
from bot.summarize.prompts import MAP_SYSTEM, single_prompt
from routing.calls.generation import Generation
from routing.catalog import Catalog
from routing.chat import ChatMessage
from routing.policy import Complexity
from routing.spend.cost import Usage, call_cost, estimate_prompt_tokens
from tests.unit.routing.conftest import make_catalog
from vocabulary import RequestOutcome, TaskKind, Tier

DAY = 1_795_000_000 - 1_795_000_000 % 86400
MARKER = re.compile(r"m\d{3}")
TIER_MODEL = {Tier.ECONOMY: "glm-4-plus", Tier.STANDARD: "deepseek-v4-flash", Tier.PREMIUM: "deepseek-v4-pro"}


@dataclass
class Plan:
    tier: Tier
    notes: list[Any] = field(default_factory=list)


@dataclass
class FakeCalls:
    """``ModelCalls`` as the map-reduce sees it: one route, then calls; each call costs a micro-dollar."""

    tier: Tier = Tier.STANDARD
    plan: Plan | None = None
    cut_at_length: bool = False
    calls: list[list[ChatMessage]] = field(default_factory=list)

    async def route(self, messages: list[ChatMessage], answer_tokens: int) -> Plan:
        self.plan = self.plan or Plan(self.tier)
        return self.plan

    async def run(
        self, messages: list[ChatMessage], answer_tokens: int, on_text: Callable[[str], None] | None = None
    ) -> Answered:
        if self.plan is None:
            await self.route(messages, answer_tokens)
        self.calls.append(messages)
        body = str(messages[-1]["content"])
        text = ("saw " if is_map(messages) else "combined ") + " ".join(MARKER.findall(body))
        if on_text is not None:
            on_text(text)
        return Answered(text, generation(TIER_MODEL[self.tier], self.tier))

    @property
    def maps(self) -> list[list[ChatMessage]]:
        return [c for c in self.calls if is_map(c)]


def is_map(messages: list[ChatMessage]) -> bool:
    return messages[0]["content"] == MAP_SYSTEM


def generation(model: str, tier: Tier) -> Generation:
    return Generation(
        ok=True,
        model=model,
        tier=tier,
        task=TaskKind.SUMMARIZE,
        complexity=Complexity.MEDIUM,
        attempts=(),
        usage=Usage(100, 10),
        cost=Decimal("0.000001"),
        baseline_cost=Decimal("0.00001"),
        estimated=False,
        text_chars=10,
        finish_reason="stop",
        latency_s=1.5,
    )


class Output:
    def __init__(self) -> None:
        self.shown: list[str] = []

    async def progress(self, status: str) -> None:
        self.shown.append(status)

    def append(self, delta: str) -> None:
        self.shown.append(delta)


def channel(days: int = 3, per_day: int = 30) -> list[Line]:
    return [
        Line(f"{DAY + d * 86400 + 3600 + i * 60}.000100", "", f"[t] alice: m{d * per_day + i:03d} " + "status " * 25)
        for d in range(days)
        for i in range(per_day)
    ]


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = plain_client(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def catalog() -> Catalog:
    return make_catalog()


SETTINGS = MapReduceSettings(chunk_tokens=300)


async def summarize(mr: MapReduce, lines: list[Line], calls: FakeCalls, channel_id: str = "C1") -> Any:
    return await mr.summarize(Source("T1", channel_id, lines, "this channel"), calls, Output(), "*Summary*")  # type: ignore[arg-type]


async def test_the_same_summary_twice_makes_only_the_reduce_call_the_second_time(redis, catalog) -> None:
    mr = MapReduce(catalog, PartialStore(redis, ttl_s=3600), SETTINGS)
    lines = channel()
    first, again = FakeCalls(), FakeCalls()

    one = await summarize(mr, lines, first)
    two = await summarize(mr, lines, again)

    assert len(first.maps) >= 6 and len(first.calls) == len(first.maps) + 1
    reduce = str(first.calls[-1][-1]["content"])
    quoted = [p for p in reduce.split("\n\nPart ") if "messages as written" in p]
    shown = " ".join([*(str(c[-1]["content"]) for c in first.maps), *quoted])
    assert sorted(MARKER.findall(shown)) == [f"m{i:03d}" for i in range(90)], "each message read exactly once"
    assert again.maps == [] and len(again.calls) == 1, "only the reduce"
    assert again.calls[0] == first.calls[-1], "the same reduce prompt: a provider's prefix cache hits it whole"
    assert one.reuse.reused == 0 and one.reuse.chunks == len(first.maps)
    assert two.reuse.reused == two.reuse.chunks == len(first.maps)
    assert two.reuse.saved == Decimal("0.000001") * len(first.maps) and two.reuse.saved_ms == 1500 * len(first.maps)
    one_shot = single_prompt([line.text for line in lines], "this channel")
    assert two.reuse.baseline == call_cost(catalog.baseline_model, Usage(estimate_prompt_tokens(one_shot), 10))
    assert one.reuse.baseline == two.reuse.baseline, "the bill without Penny: one call, whatever was reused"
    assert one.text == two.text


async def test_a_day_later_only_the_new_and_the_edge_chunks_are_summarized(redis, catalog) -> None:
    mr = MapReduce(catalog, PartialStore(redis, ttl_s=3600), SETTINGS)
    lines = channel(days=4)
    first, later = FakeCalls(), FakeCalls()
    await summarize(mr, lines[:90], first)  # days 0-2
    result = await summarize(mr, lines[30:], later)  # days 1-3
    assert result.reuse.reused >= len(first.maps) * 2 // 3 - 1
    assert len(later.maps) < len(first.maps), "day 3's chunks, not days 1 and 2 again"
    seen = {int(m[1:]) for c in later.maps for m in MARKER.findall(str(c[-1]["content"]))}
    assert seen and min(seen) >= 90, "days 1 and 2 start at the same day boundary in both windows: all reused"


async def test_an_edit_invalidates_only_the_chunk_that_holds_the_message(redis, catalog) -> None:
    store = PartialStore(redis, ttl_s=3600)
    mr = MapReduce(catalog, store, SETTINGS)
    lines = channel()
    first = FakeCalls()
    await summarize(mr, lines, first)

    edited = list(lines)
    victim = edited[40]
    edited[40] = Line(victim.ts, "1795099999.000200", victim.text.replace("status", "STATUS", 1))
    assert await store.forget_message("T1", "C1", victim.ts) == 1, "the edit event drops exactly one partial"
    after = FakeCalls()
    result = await summarize(mr, edited, after)
    assert len(after.maps) == 1 and "m040" in str(after.maps[0][-1]["content"])
    assert result.reuse.reused == result.reuse.chunks - 1
    assert await store.forget_message("T1", "C1", victim.ts) == 1, "the new version's partial is indexed too"
    assert await store.forget_message("T1", "C1", "1.000000") == 0


async def test_partials_never_serve_another_channel(redis, catalog) -> None:
    mr = MapReduce(catalog, PartialStore(redis, ttl_s=3600), SETTINGS)
    lines = channel()
    private, public = FakeCalls(), FakeCalls()
    await summarize(mr, lines, private, channel_id="GSECRET")
    result = await summarize(mr, lines, public, channel_id="CGENERAL")  # the very same messages, ids and all
    assert len(public.maps) == len(private.maps) and result.reuse.reused == 0


async def test_a_weaker_models_partial_never_serves_a_stronger_tier(redis, catalog) -> None:
    mr = MapReduce(catalog, PartialStore(redis, ttl_s=3600), SETTINGS)
    lines = channel()
    economy, standard, economy_again = FakeCalls(Tier.ECONOMY), FakeCalls(Tier.STANDARD), FakeCalls(Tier.ECONOMY)
    await summarize(mr, lines, economy)
    made = await summarize(mr, lines, standard)
    assert made.reuse.reused == 0 and len(standard.maps) == len(economy.maps)
    reused = await summarize(mr, lines, economy_again)
    assert reused.reuse.reused == reused.reuse.chunks and economy_again.maps == [], "a stronger one may serve"


async def test_without_reuse_a_summary_packs_its_chunks_as_today(redis, catalog) -> None:
    mr = MapReduce(catalog, NoPartials(), SETTINGS)
    lines = channel()
    calls = FakeCalls()
    result = await summarize(mr, lines, calls)
    assert result.reuse is None
    assert len(calls.calls) == 1, "about 3,000 tokens fit one call: one call"


async def test_a_short_source_is_one_call_and_tiny_parts_are_quoted(redis, catalog) -> None:
    mr = MapReduce(catalog, PartialStore(redis, ttl_s=3600), SETTINGS)
    short = FakeCalls()
    assert (await summarize(mr, channel(days=1, per_day=3), short)).reuse is None and len(short.calls) == 1
    quiet = [Line(f"{DAY + d * 86400 + 60}.000100", "", f"[t] bob: m{d:03d} ok") for d in range(30)]
    calls = FakeCalls()
    result = await summarize(mr, [*quiet, *channel(days=1)], calls)
    assert result.reuse is not None
    reduce = str(calls.calls[-1][-1]["content"])
    assert "messages as written" in reduce and "m007 ok" in reduce, "a one-message day is quoted, not mapped"
    assert all("m007 ok" not in str(c[-1]["content"]) for c in calls.maps)


async def test_a_stored_partial_that_cannot_be_read_is_a_miss(redis) -> None:
    assert Partial.load(b"not json") is None
    assert Partial.load('{"text": "x"}') is None


@dataclass
class SlowCalls(FakeCalls):
    """Map calls that finish in reverse order, and optionally one that fails."""

    fail_on: str | None = None
    running: int = 0
    most: int = 0

    async def run(self, messages, answer_tokens, on_text=None):  # type: ignore[no-untyped-def]
        body = str(messages[-1]["content"])
        if is_map(messages):
            self.running += 1
            self.most = max(self.most, self.running)
            first = int(MARKER.findall(body)[0][1:])
            await asyncio.sleep(0.002 * (100 - first))
            self.running -= 1
            if self.fail_on is not None and self.fail_on in body:
                raise SummaryStopped("no model answered", RequestOutcome.FAILED)
        return await super().run(messages, answer_tokens, on_text)


async def test_new_parts_are_summarized_a_few_at_a_time_and_combined_in_order(redis, catalog) -> None:
    mr = MapReduce(catalog, PartialStore(redis, ttl_s=3600), MapReduceSettings(chunk_tokens=300, parallel_maps=3))
    calls = SlowCalls()
    await summarize(mr, channel(), calls)
    assert calls.most == 3, "three lanes, all in use"
    reduce = str(calls.calls[-1][-1]["content"])
    numbers = [int(m[1:]) for m in MARKER.findall(reduce)]
    assert numbers == sorted(numbers), "parts reach the reduce oldest first, whatever order they finished in"


async def test_a_part_that_fails_stops_the_summary(redis, catalog) -> None:
    mr = MapReduce(catalog, PartialStore(redis, ttl_s=3600), MapReduceSettings(chunk_tokens=300, parallel_maps=3))
    calls = SlowCalls(fail_on="m040")
    with pytest.raises(SummaryStopped):
        await summarize(mr, channel(), calls)
    assert not any(not is_map(c) for c in calls.calls), "no reduce after a failed part"
