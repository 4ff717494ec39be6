"""The cascade through the real ``openai`` SDK and the local server: a degenerate answer from the economy model is
a failed attempt, and a dearer tier answers (afresh, or from the clean part); both attempts are paid for."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis

from routing.calls.generate import CONTINUE_PROMPT
from routing.calls.generation import Generation
from routing.calls.llm import LLMClient, TextDelta
from routing.chain import escalated
from routing.factory import Routing, build_routing
from routing.plan import RoutePlan
from routing.router import RouteRequest
from routing.spend.cost import call_cost
from tests.harness.openai_server import ANY_MODEL, OpenAIServer
from tests.harness.openai_server.fixtures import TEST_API_KEY, openai_server  # noqa: F401
from tests.unit.routing.calls.test_generate import ANSWER, FLASH, GLM, server_catalog
from tests.unit.routing.conftest import FakeClock, make_catalog
from vocabulary import Tier

pytestmark = pytest.mark.timeout(30)

INTRO = (
    "The incident review covered three topics: the alert that fired late, the runbook that pointed at the wrong "
    "dashboard, and the missing owner for the billing queue. "
)
LOOP = "The team will fix the alert threshold this week. "


@pytest.fixture
def server(openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:  # noqa: F811
    monkeypatch.setenv("PENNY_TEST_LLM_KEY", TEST_API_KEY)
    openai_server.set_answer(ANY_MODEL, ANSWER)
    yield openai_server


@pytest.fixture
async def routing(server: OpenAIServer, redis: aioredis.Redis, clock: FakeClock) -> AsyncIterator[Routing]:
    catalog = server_catalog(server)
    client = LLMClient(catalog)
    yield build_routing(catalog, redis, client=client, clock=clock)
    await client.close()


async def ask(routing: Routing, *, grounded: bool = False) -> tuple[str, Generation]:
    text = "when is the standup?"
    request = RouteRequest("T1", "C1", "U1", text, [{"role": "user", "content": text}], grounded=grounded)
    plan = await routing.router.plan(request)
    assert isinstance(plan, RoutePlan) and plan.chain[0].id == GLM
    shown: list[str] = []
    outcome: Generation | None = None
    async for item in routing.generator.stream(plan):
        if isinstance(item, TextDelta):
            shown.append(item.text)
        else:
            outcome = item
    assert outcome is not None
    return "".join(shown), outcome


async def test_a_loop_in_the_first_phrase_is_never_shown_and_the_next_tier_answers(
    routing: Routing, server: OpenAIServer
) -> None:
    server.set_answer(GLM, "Standup is at ten. " * 60)
    text, outcome = await ask(routing)
    assert text == ANSWER, "nothing of the loop reached the user"
    assert server.models_called() == [GLM, FLASH]
    assert [a.error for a in outcome.attempts] == ["repetition", None] and outcome.model == FLASH
    assert outcome.escalations == ((GLM, "repetition"),)
    assert outcome.attempts[0].cost > 0 and outcome.cost == sum(a.cost for a in outcome.attempts)
    assert outcome.attempts[0].chars_shown == 0 and not outcome.attempts[1].resumed
    glm, flash = await routing.health.stats(GLM), await routing.health.stats(FLASH)
    assert (glm.calls, glm.errors, flash.errors) == (1, 1, 0), "a degenerate answer counts against its model"


async def test_leaked_tokens_with_a_made_up_turn_escalate(routing: Routing, server: OpenAIServer) -> None:
    server.set_answer(GLM, "Standup is at ten.<|im_end|>\n<|im_start|>user\nThanks!<|im_end|>\n<|im_start|>assistant\n")
    text, outcome = await ask(routing)
    assert text == ANSWER and "Thanks" not in text
    assert outcome.escalations == ((GLM, "leaked_tokens"),)


async def test_a_late_loop_keeps_the_clean_part_and_the_next_tier_continues_it(
    routing: Routing, server: OpenAIServer
) -> None:
    server.set_answer(GLM, INTRO + LOOP * 30)
    server.set_answer(FLASH, "The owners are Dana for the alert and Omar for the runbook.")
    text, outcome = await ask(routing)
    assert text.startswith(INTRO) and text.count(LOOP.strip()) <= 1
    assert text.endswith("The owners are Dana for the alert and Omar for the runbook.")
    resumed = server.chat_requests(FLASH)[0].messages
    assert resumed[-1]["content"] == CONTINUE_PROMPT
    assert text.startswith(resumed[-2]["content"]), "the continuation started from what the user saw"
    assert outcome.ok and outcome.model == FLASH and outcome.attempts[1].resumed
    assert outcome.attempts[0].chars_shown > 0 and outcome.escalations == ((GLM, "repetition"),)


async def test_a_grounded_refusal_escalates_but_an_ungrounded_one_stands(
    routing: Routing, server: OpenAIServer
) -> None:
    server.set_answer(GLM, "I'm sorry, but I don't have enough information to answer that.")
    text, outcome = await ask(routing, grounded=True)
    assert text == ANSWER and outcome.escalations == ((GLM, "refusal"),)
    text, outcome = await ask(routing, grounded=False)
    assert text.startswith("I'm sorry") and outcome.model == GLM and not outcome.escalations


async def test_every_tier_degenerate_fails_without_showing_any_of_it(routing: Routing, server: OpenAIServer) -> None:
    server.set_answer(ANY_MODEL, "Standup is at ten. " * 60)
    text, outcome = await ask(routing)
    assert text == "" and not outcome.ok and not outcome.partial
    assert len(outcome.escalations) == len(outcome.attempts) == 5
    catalog = make_catalog()
    paid = [call_cost(catalog.model(a.model), a.usage) for a in outcome.attempts if a.usage is not None]
    assert len(paid) == 5 and outcome.cost == sum(paid), "every degenerate answer was paid for"


def test_escalation_skips_the_failed_tier_and_cheaper_ones() -> None:
    catalog = make_catalog()
    rest = [catalog.model(mid) for mid in ("qwen3-32b", GLM, "deepseek-v4-pro", "gpt-4o")]  # after flash (standard)
    assert [m.id for m in escalated(rest, Tier.STANDARD)] == ["deepseek-v4-pro", "gpt-4o", "qwen3-32b", GLM]
    assert [m.id for m in escalated(rest, Tier.PREMIUM)] == [m.id for m in rest], "nothing dearer: the order stands"
