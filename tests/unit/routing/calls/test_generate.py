"""Acceptance: the retry loop through the real ``openai`` SDK over HTTP against the local fault-injecting server.

Each test asserts what the user saw (the text), the ledger-ready ``Generation`` and which models the server saw
called, in which order. Timeouts are test-sized (first token 0.6 s, backoff ≤ 50 ms) via the catalog policy.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest
import redis.asyncio as aioredis

from routing.calls.generate import CONTINUE_PROMPT
from routing.calls.generation import Generation
from routing.calls.llm import LLMClient, TextDelta
from routing.catalog import Catalog
from routing.factory import Routing, build_routing
from routing.plan import RoutePlan
from routing.router import RouteRequest
from routing.spend.cost import call_cost
from tests.harness.openai_server import ANY_MODEL, Fault, OpenAIServer
from tests.harness.openai_server.fixtures import TEST_API_KEY, openai_server  # noqa: F401
from tests.unit.routing.conftest import FakeClock, catalog_data

pytestmark = pytest.mark.timeout(30)

ANSWER = (
    "The launch moved to March because the payments vendor slipped two weeks. Marketing keeps the April "
    "campaign, and Dana owns the revised checklist."
)
ECONOMY_CHAIN = ["glm-4-plus", "deepseek-v4-flash", "qwen3-32b", "deepseek-v4-pro", "gpt-4o"]
GLM, FLASH = ECONOMY_CHAIN[0], ECONOMY_CHAIN[1]


@pytest.fixture
def server(openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:  # noqa: F811
    monkeypatch.setenv("PENNY_TEST_LLM_KEY", TEST_API_KEY)
    openai_server.set_answer(ANY_MODEL, ANSWER)
    yield openai_server
    openai_server.release_hangs()


def server_catalog(server: OpenAIServer, **policy: Any) -> Catalog:
    data = catalog_data(**policy)
    data["providers"]["local"]["base_url"] = server.base_url
    return Catalog.model_validate(data)


@pytest.fixture
async def routing(server: OpenAIServer, redis: aioredis.Redis, clock: FakeClock) -> AsyncIterator[Routing]:
    catalog = server_catalog(server)
    client = LLMClient(catalog)
    yield build_routing(catalog, redis, client=client, clock=clock)
    await client.close()


async def ask(routing: Routing, text: str = "when is the standup?") -> tuple[str, Generation, RoutePlan]:
    plan = await routing.router.plan(RouteRequest("T1", "C1", "U1", text, [{"role": "user", "content": text}]))
    assert isinstance(plan, RoutePlan)
    shown: list[str] = []
    outcome: Generation | None = None
    async for item in routing.generator.stream(plan):
        if isinstance(item, TextDelta):
            assert outcome is None
            shown.append(item.text)
        else:
            outcome = item
    assert outcome is not None
    return "".join(shown), outcome, plan


def no_repeated_words(text: str) -> bool:
    words = re.findall(r"\w+", text)
    return words == re.findall(r"\w+", ANSWER)


async def test_plain_answer_costs_reported_usage(routing: Routing, server: OpenAIServer) -> None:
    text, outcome, plan = await ask(routing)
    assert text == ANSWER
    assert server.models_called() == [GLM]
    assert [m.id for m in plan.chain] == ECONOMY_CHAIN
    assert outcome.ok and outcome.model == GLM and not outcome.estimated
    assert outcome.cost == call_cost(plan.chain[0], outcome.usage) and outcome.cost > 0
    assert outcome.baseline_cost > outcome.cost * 10
    state = await routing.budget.state("T1")
    assert state.spent["day:2026-11-18"] == outcome.cost  # reservation settled to the actual cost


async def test_rate_limited_waits_retry_after_then_succeeds(routing: Routing, server: OpenAIServer) -> None:
    server.inject(GLM, Fault.rate_limited(retry_after=2))
    started = time.monotonic()
    text, outcome, _ = await ask(routing)
    assert time.monotonic() - started >= 2.0
    assert text == ANSWER
    assert server.models_called() == [GLM, GLM]
    assert [a.error for a in outcome.attempts] == ["rate_limited", None]
    assert outcome.attempts[1].waited_s >= 2.0


async def test_server_errors_fall_back_to_next_model(routing: Routing, server: OpenAIServer) -> None:
    server.set_down(GLM, Fault.server_error(500))
    text, outcome, _ = await ask(routing)
    assert text == ANSWER
    assert server.models_called() == [GLM, GLM, FLASH]  # attempts_per_model = 2, then the next family
    assert outcome.model == FLASH
    assert [a.error for a in outcome.attempts] == ["server_error", "server_error", None]


async def test_hang_before_first_token_times_out_and_falls_back(routing: Routing, server: OpenAIServer) -> None:
    server.inject(GLM, Fault.hang())  # nothing ever arrives
    started = time.monotonic()
    text, outcome, _ = await ask(routing)
    assert time.monotonic() - started < 5
    assert text == ANSWER
    assert server.models_called() == [GLM, FLASH]  # a slow model is not retried
    assert outcome.attempts[0].error == "ttft_timeout" and outcome.model == FLASH


async def test_hang_after_role_chunk_counts_as_no_first_token(routing: Routing, server: OpenAIServer) -> None:
    server.inject(GLM, Fault.hang(phase="after_role"))
    text, outcome, _ = await ask(routing)
    assert text == ANSWER and server.models_called() == [GLM, FLASH]
    assert outcome.attempts[0].error == "ttft_timeout"


@pytest.mark.parametrize("fault", [Fault.empty(), Fault.whitespace()], ids=["empty", "whitespace"])
async def test_empty_completion_falls_back(routing: Routing, server: OpenAIServer, fault: Fault) -> None:
    server.inject(GLM, fault)
    text, outcome, _ = await ask(routing)
    assert text == ANSWER  # no stray whitespace from the blank answer
    assert server.models_called() == [GLM, FLASH]
    assert outcome.attempts[0].error == "empty"


async def test_cut_stream_resumes_without_duplicates(routing: Routing, server: OpenAIServer) -> None:
    server.inject(GLM, Fault.cut_stream(after_chars=45))
    text, outcome, _ = await ask(routing)
    assert text == ANSWER and no_repeated_words(text)
    assert server.models_called() == [GLM, GLM]
    resumed = server.chat_requests()[1].messages
    assert resumed[-2] == {"role": "assistant", "content": ANSWER[:45]}
    assert resumed[-1]["content"] == CONTINUE_PROMPT
    assert [a.error for a in outcome.attempts] == ["cut", None]
    assert outcome.attempts[1].resumed and outcome.attempts[0].chars_shown == 45
    assert outcome.estimated  # the cut stream reported no usage


async def test_cut_twice_resumes_on_the_next_model(routing: Routing, server: OpenAIServer) -> None:
    server.inject(GLM, Fault.cut_stream(after_chars=30))
    server.inject(GLM, Fault.cut_stream(after_chars=70))
    text, outcome, _ = await ask(routing)
    assert text == ANSWER and no_repeated_words(text)
    assert server.models_called() == [GLM, GLM, FLASH]
    assert outcome.model == FLASH and [a.error for a in outcome.attempts] == ["cut", "cut", None]


async def test_stream_without_finish_reason_is_completed_by_a_resume(routing: Routing, server: OpenAIServer) -> None:
    server.inject(GLM, Fault.no_finish_reason())
    text, outcome, _ = await ask(routing)
    assert text == ANSWER  # the resumed model repeated everything; nothing was shown twice
    assert server.models_called() == [GLM, GLM]
    assert outcome.attempts[0].error == "cut"


async def test_all_models_down_gives_one_message_and_a_failure_record(routing: Routing, server: OpenAIServer) -> None:
    server.set_down(ANY_MODEL, Fault.server_error(503))
    text, outcome, _ = await ask(routing)
    assert text == ""
    assert server.models_called() == [m for m in ECONOMY_CHAIN for _ in range(2)]
    assert not outcome.ok and outcome.model is None
    assert not outcome.partial, "nothing was shown, so nothing was cut off"
    assert outcome.cost == Decimal(0) and outcome.baseline_cost == Decimal(0)
    assert [a.model for a in outcome.attempts] == server.models_called()
    assert (await routing.budget.state("T1")).spent["day:2026-11-18"] == Decimal(0)  # reservation released


async def test_slow_model_loses_traffic_then_one_probe_brings_it_back(
    server: OpenAIServer, redis: aioredis.Redis, clock: FakeClock
) -> None:
    data_catalog = server_catalog(server, health={"default_ttft_threshold_s": 0.15, "cooldown_s": 30})
    client = LLMClient(data_catalog)
    routing = build_routing(data_catalog, redis, client=client, clock=clock)
    try:
        server.set_ttft(GLM, 0.25)  # slower than its threshold, faster than the 0.6 s first-token timeout
        for _ in range(5):  # min_calls in one window
            text, outcome, _ = await ask(routing)
            assert outcome.model == GLM and text == ANSWER
            clock.advance(1)
        server.clear_requests()
        _, outcome, plan = await ask(routing)
        assert plan.chain[0].id != GLM and plan.chain[-1].id == GLM, "cooling: only a last resort"
        assert server.models_called() == [FLASH]

        server.set_ttft(GLM, 0)  # recovered
        clock.advance(30)
        server.clear_requests()
        _, probe_outcome, probe_plan = await ask(routing)
        assert GLM in probe_plan.probes and probe_outcome.attempts[0].probe
        assert server.models_called() == [GLM]
        _, _, after = await ask(routing)
        assert after.chain[0].id == GLM and not after.probes
    finally:
        await client.close()


async def test_retry_after_too_long_falls_back_at_once(routing: Routing, server: OpenAIServer) -> None:
    server.inject(GLM, Fault.rate_limited(retry_after=60))  # above max_retry_after_s (5 s in tests)
    started = time.monotonic()
    text, outcome, _ = await ask(routing)
    assert time.monotonic() - started < 2
    assert text == ANSWER and server.models_called() == [GLM, FLASH]
    assert outcome.attempts[0].error == "rate_limited"


async def test_overall_deadline_ends_the_request(server: OpenAIServer, redis: aioredis.Redis, clock: FakeClock) -> None:
    catalog = server_catalog(
        server, retry={"ttft_timeout_s": 0.5, "overall_timeout_s": 1.2, "backoff_base_s": 0.01, "backoff_max_s": 0.05}
    )
    client = LLMClient(catalog)
    routing = build_routing(catalog, redis, client=client, clock=clock)
    try:
        server.set_down(ANY_MODEL, Fault.hang())
        started = time.monotonic()
        text, outcome, _ = await ask(routing)
        assert time.monotonic() - started < 2.0
        assert text == "" and not outcome.ok and not outcome.partial
        assert server.models_called() == [GLM, FLASH, "qwen3-32b"]  # 0.5 + 0.5 + the 0.2 s left
        assert [a.error for a in outcome.attempts] == ["ttft_timeout", "ttft_timeout", "overall_timeout"]
    finally:
        await client.close()


async def test_an_answer_cut_at_its_length_limit_is_continued_once(routing: Routing, server: OpenAIServer) -> None:
    server.inject(GLM, Fault.reply(ANSWER[:60], finish_reason="length"))
    text, outcome, _ = await ask(routing)
    assert text == ANSWER and no_repeated_words(text), "the continuation joins without repeating"
    assert server.models_called() == [GLM, GLM]
    assert server.chat_requests()[1].messages[-1]["content"] == CONTINUE_PROMPT
    assert outcome.ok and outcome.finish_reason == "stop" and outcome.cut_short is None


async def test_a_continuation_that_also_hits_the_limit_keeps_the_text_and_says_so(
    routing: Routing, server: OpenAIServer
) -> None:
    server.inject(GLM, Fault.reply(ANSWER[:60], finish_reason="length"))
    server.inject(GLM, Fault.reply(ANSWER[40:100], finish_reason="length"))
    text, outcome, _ = await ask(routing)
    assert text == ANSWER[:100] and server.models_called() == [GLM, GLM], "one continuation, then it stands"
    assert outcome.ok and outcome.cut_at_length and str(outcome.cut_short) == "length"


async def test_no_continuation_when_the_knob_is_zero(
    server: OpenAIServer, redis: aioredis.Redis, clock: FakeClock
) -> None:
    catalog = server_catalog(server, retry={"length_continuations": 0})
    client = LLMClient(catalog)
    try:
        server.inject(GLM, Fault.reply(ANSWER[:60], finish_reason="length"))
        text, outcome, _ = await ask(build_routing(catalog, redis, client=client, clock=clock))
        assert text == ANSWER[:60] and server.models_called() == [GLM] and outcome.cut_at_length
    finally:
        await client.close()


async def test_a_deadline_after_text_was_shown_keeps_the_text_as_the_answer_so_far(
    server: OpenAIServer, redis: aioredis.Redis, clock: FakeClock
) -> None:
    catalog = server_catalog(
        server, retry={"ttft_timeout_s": 0.5, "idle_timeout_s": 5, "overall_timeout_s": 1.0, "backoff_base_s": 0.01}
    )
    client = LLMClient(catalog)
    try:
        server.inject(GLM, Fault.stall(after_chars=40, seconds=5))
        text, outcome, _ = await ask(build_routing(catalog, redis, client=client, clock=clock))
        assert text == ANSWER[:40]
        assert not outcome.ok and outcome.partial and str(outcome.cut_short) == "timeout"
        assert outcome.cost > 0, "the words shown were paid for"
    finally:
        await client.close()
