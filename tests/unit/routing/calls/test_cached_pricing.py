"""Cached prompt tokens from the provider's usage report to the money: the real ``openai`` SDK against the local
server with prompt caching on, the production client, retry loop and budget."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest
import redis.asyncio as aioredis

from routing.calls.generation import Generation
from routing.calls.llm import LLMClient, StreamEnd, TextDelta
from routing.catalog import Catalog
from routing.chat import ChatMessage
from routing.factory import Routing, build_routing
from routing.keys import budget_spent_key
from routing.plan import RoutePlan
from routing.router import RouteRequest
from routing.spend.cost import Usage, call_cost, to_nanos
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.openai_server.fixtures import TEST_API_KEY, openai_server  # noqa: F401
from tests.unit.routing.conftest import FakeClock, catalog_data

pytestmark = pytest.mark.timeout(30)

ANSWER = "The launch moved to March; Dana owns the checklist."
CONTEXT = " ".join(f"context{i}" for i in range(40))
FLASH = "deepseek-v4-flash"


@pytest.fixture
def server(openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:  # noqa: F811
    monkeypatch.setenv("PENNY_TEST_LLM_KEY", TEST_API_KEY)
    openai_server.set_answer(ANY_MODEL, ANSWER)
    openai_server.enable_prompt_cache(min_tokens=16, block_tokens=8)
    return openai_server


def cached_catalog(server: OpenAIServer) -> Catalog:
    data = catalog_data(tiers={"qa": {"simple": "standard"}})
    data["providers"]["local"]["base_url"] = server.base_url
    for model in data["models"]:
        if model["id"] == FLASH:
            model["price_cached_in_per_mtok"] = 0.07
        if model["id"] == "gpt-4o":
            model["price_cached_in_per_mtok"] = 1.25
    return Catalog.model_validate(data)


@pytest.fixture
async def routing(server: OpenAIServer, redis: aioredis.Redis, clock: FakeClock) -> AsyncIterator[Routing]:
    client = LLMClient(cached_catalog(server))
    yield build_routing(cached_catalog(server), redis, client=client, clock=clock)
    await client.close()


def prompt(question: str) -> list[ChatMessage]:
    return [{"role": "system", "content": CONTEXT}, {"role": "user", "content": question}]


async def answer(routing: Routing, question: str) -> Generation:
    plan = await routing.router.plan(RouteRequest("T1", "C1", "U1", question, prompt(question)))
    assert isinstance(plan, RoutePlan) and plan.chain[0].id == FLASH
    outcome = None
    async for item in routing.generator.stream(plan):
        if not isinstance(item, TextDelta):
            outcome = item
    assert outcome is not None and outcome.ok
    return outcome


async def test_the_client_reads_cached_tokens_from_the_usage_chunk(server: OpenAIServer) -> None:
    catalog = cached_catalog(server)
    client = LLMClient(catalog)
    try:
        ends = []
        for question in ("what moved?", "who owns?"):
            events = [e async for e in client.stream(catalog.model(FLASH), prompt(question))]
            assert isinstance(events[-1], StreamEnd)
            ends.append(events[-1])
    finally:
        await client.close()
    assert ends[0].usage == Usage(42, len(ANSWER.split()))
    assert ends[1].usage == Usage(42, len(ANSWER.split()), cached_tokens=40), "the 40-word system prompt repeats"


async def test_cached_tokens_are_billed_at_the_cached_price_in_the_cost_the_baseline_and_the_budget(
    server: OpenAIServer, routing: Routing, redis: aioredis.Redis, clock: FakeClock
) -> None:
    first = await answer(routing, "what moved?")
    second = await answer(routing, "who owns?")

    assert (first.cached_tokens, second.cached_tokens) == (0, 40)
    assert [r.cached_tokens for r in server.chat_requests()] == [0, 40]
    completion = len(ANSWER.split())
    assert [r.prompt_tokens for r in server.chat_requests()] == [42, 42]
    # by hand: 2 uncached × 0.27 + 40 cached × 0.07 + completion × 1.10 (micro-dollars)
    by_hand = (Decimal(2) * Decimal("0.27") + Decimal(40) * Decimal("0.07") + completion * Decimal("1.10")) / 10**6
    assert second.cost == by_hand < first.cost
    catalog = cached_catalog(server)
    assert second.baseline_cost == call_cost(catalog.baseline_model, Usage(42, completion, cached_tokens=40))
    assert second.baseline_cost < first.baseline_cost, "the baseline model's own cached price applies as well"
    spent = await redis.get(budget_spent_key("T1", f"day:{_day(clock())}"))
    assert int(spent) == to_nanos(first.cost) + to_nanos(second.cost), "the budget settles the discounted cost"


def _day(now: float) -> str:
    from datetime import UTC, datetime

    return f"{datetime.fromtimestamp(now, tz=UTC):%Y-%m-%d}"
