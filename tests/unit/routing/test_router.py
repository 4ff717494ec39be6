"""The router against a real Redis: refusals, tiers, budgets, health and context windows."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from routing.calls.generate import Generator
from routing.catalog import Catalog
from routing.factory import Routing, build_routing
from routing.plan import NoteKind, PlanNote, Refusal, RefusalReason, RoutePlan
from routing.router import RouteRequest
from tests.unit.routing.conftest import FakeClock, make_catalog
from vocabulary import Tier

COMPLEX_QA = "Analyze the trade-offs of the migration design and explain the root cause step by step?"


def routing_for(redis: Any, clock: FakeClock, catalog: Catalog | None = None, **kwargs: Any) -> Routing:
    return build_routing(catalog or make_catalog(), redis, clock=clock, **kwargs)


def request(
    text: str = "when is the standup?",
    *,
    channel: str = "C1",
    user: str = "U1",
    messages: Sequence[dict[str, str]] | None = None,
    **kwargs: Any,
) -> RouteRequest:
    return RouteRequest("T1", channel, user, text, list(messages or [{"role": "user", "content": text}]), **kwargs)


async def plan_of(routing: Routing, req: RouteRequest) -> RoutePlan:
    plan = await routing.router.plan(req)
    assert isinstance(plan, RoutePlan), plan
    return plan


async def test_simple_question_goes_economy_with_cross_family_fallbacks(redis, clock) -> None:
    plan = await plan_of(routing_for(redis, clock), request())
    assert plan.tier is Tier.ECONOMY
    assert [m.id for m in plan.chain][:3] == ["glm-4-plus", "deepseek-v4-flash", "qwen3-32b"]
    assert plan.reservation is not None and plan.reservation.amount > 0
    assert plan.notes == []


async def test_complex_question_goes_premium(redis, clock) -> None:
    plan = await plan_of(routing_for(redis, clock), request(COMPLEX_QA))
    assert (plan.classification.task, plan.tier) == ("qa", Tier.PREMIUM)
    assert plan.chain[0].id == "deepseek-v4-pro"


async def test_channel_not_allowed(redis, clock) -> None:
    routing = routing_for(redis, clock, make_catalog(allowed_channels=["C1"]))
    refusal = await routing.router.plan(request(channel="C9"))
    assert isinstance(refusal, Refusal) and refusal.reason is RefusalReason.CHANNEL_NOT_ALLOWED


async def test_user_over_hourly_limit(redis, clock) -> None:
    routing = routing_for(redis, clock, make_catalog(user_limits={"per_hour": 2, "per_day": 10}))
    for _ in range(2):
        await plan_of(routing, request())
    refusal = await routing.router.plan(request())
    assert isinstance(refusal, Refusal) and refusal.reason is RefusalReason.USER_LIMIT
    assert (refusal.limit, refusal.window) == (2, "hour")
    await plan_of(routing, request(user="U2"))  # other users are unaffected
    clock.advance(3600)
    await plan_of(routing, request())  # a new hour


async def test_soft_limit_downgrades_premium_and_says_so_once(redis, clock) -> None:
    catalog = make_catalog(budgets={"daily": {"soft_usd": 0.001, "hard_usd": 10}})
    routing = routing_for(redis, clock, catalog)
    first = await plan_of(routing, request(COMPLEX_QA))
    assert first.tier is Tier.PREMIUM and first.notes == []  # spend starts below the soft limit
    await routing.budget.settle(first.reservation, Decimal("0.002"))  # type: ignore[arg-type]
    second = await plan_of(routing, request(COMPLEX_QA))
    assert (second.requested_tier, second.tier) == (Tier.PREMIUM, Tier.STANDARD)
    assert second.notes == [PlanNote(NoteKind.SOFT_BUDGET)]
    assert all(m.tier is not Tier.PREMIUM for m in second.chain)
    third = await plan_of(routing, request(COMPLEX_QA))
    assert third.tier is Tier.STANDARD and third.notes == []  # said once per period
    cheap = await plan_of(routing, request())
    assert cheap.tier is Tier.ECONOMY  # only premium is downgraded


async def test_hard_limit_stops_model_calls(redis, clock) -> None:
    calls: list[str] = []

    class NoCalls:
        def stream(self, model: Any, messages: Any, *, max_tokens: int | None = None) -> Any:
            calls.append(model.id)
            raise AssertionError("no model call at the hard limit")

    catalog = make_catalog(budgets={"monthly": {"hard_usd": 0.001}})
    routing = routing_for(redis, clock, catalog, client=NoCalls())
    first = await plan_of(routing, request())
    await routing.budget.settle(first.reservation, Decimal("0.001"))  # type: ignore[arg-type]
    refusal = await routing.router.plan(request())
    assert isinstance(refusal, Refusal) and refusal.reason is RefusalReason.BUDGET_HARD
    assert refusal.budget_period == "monthly"
    assert calls == []


async def test_reservation_refused_near_the_cap(redis, clock) -> None:
    routing = routing_for(redis, clock, make_catalog(budgets={"daily": {"hard_usd": 0.000001}}))
    refusal = await routing.router.plan(request(COMPLEX_QA))
    assert isinstance(refusal, Refusal) and refusal.reason is RefusalReason.BUDGET_HARD


async def test_twenty_concurrent_premium_plans_fit_five(redis, clock) -> None:
    import asyncio

    routing = routing_for(redis, clock)
    probe = await plan_of(routing, request(COMPLEX_QA, user="probe"))
    per_request = probe.reservation.amount  # type: ignore[union-attr]
    await redis.flushdb()
    capped = routing_for(redis, clock, make_catalog(budgets={"daily": {"hard_usd": str(per_request * 5)}}))
    plans = await asyncio.gather(*(capped.router.plan(request(COMPLEX_QA)) for _ in range(20)))
    assert sum(isinstance(p, RoutePlan) for p in plans) == 5
    assert sum(isinstance(p, Refusal) and p.reason is RefusalReason.BUDGET_HARD for p in plans) == 15
    assert (await capped.budget.state("T1")).spent["day:2026-11-18"] <= per_request * 5


async def test_cooling_model_is_skipped_and_probe_goes_to_one_plan(redis, clock) -> None:
    routing = routing_for(redis, clock)
    for _ in range(5):
        await routing.health.record("glm-4-plus", ok=False, ttft_s=None)
    plan = await plan_of(routing, request())
    assert plan.chain[-1].id == "glm-4-plus", "skipped while others can answer: only a last resort"
    assert plan.chain[0].id != "glm-4-plus"
    clock.advance(30)
    probing = await plan_of(routing, request())
    other = await plan_of(routing, request())
    assert probing.chain[0].id == "glm-4-plus" and "glm-4-plus" in probing.probes
    assert other.chain[-1].id == "glm-4-plus" and "glm-4-plus" not in other.probes


async def test_cooling_models_stay_at_the_end_of_the_chain_as_a_last_resort(redis, clock) -> None:
    """Every model but one cooling: the chain still holds them all, the healthy one first."""
    catalog = make_catalog()
    routing = routing_for(redis, clock, catalog)
    everyone = [m.id for m in catalog.models]
    for model in everyone[1:]:
        for _ in range(5):
            await routing.health.record(model, ok=False, ttft_s=None)
    plan = await plan_of(routing, request())
    assert plan.chain[0].id == everyone[0]
    assert sorted(m.id for m in plan.chain) == sorted(everyone)


async def test_context_window_skips_small_models(redis, clock) -> None:
    long_context = [{"role": "user", "content": "x" * 4 * 40_000}, {"role": "user", "content": "summarize"}]
    plan = await plan_of(routing_for(redis, clock), request("summarize this", messages=long_context))
    assert plan.classification.task == "summarize"
    assert "qwen3-32b" not in [m.id for m in plan.chain]  # 32K window
    assert plan.trimmed_messages == 0


async def test_qa_context_is_trimmed_oldest_first_and_noted(redis, clock) -> None:
    history = [{"role": "user", "content": f"{i}" * 4 * 60_000} for i in range(5)]  # 5 x 60K tokens
    messages = [
        {"role": "system", "content": "You are Penny."},
        *history,
        {"role": "user", "content": "what did we decide?"},
    ]
    plan = await plan_of(routing_for(redis, clock), request("what did we decide?", messages=messages))
    assert plan.trimmed_messages == 2
    assert plan.messages[0]["role"] == "system" and plan.messages[-1]["content"] == "what did we decide?"
    assert [m["content"][0] for m in plan.messages[1:-1]] == ["2", "3", "4"]
    assert [m.id for m in plan.chain] == ["deepseek-v4-pro"]  # the only 200K window
    assert [note.kind for note in plan.notes] == [NoteKind.TRIMMED] and plan.notes[0].dropped > 0


async def test_summaries_are_never_trimmed(redis, clock) -> None:
    history = [{"role": "user", "content": "y" * 4 * 60_000} for _ in range(5)]
    refusal = await routing_for(redis, clock).router.plan(
        request("", command="/summarize", messages=[*history, {"role": "user", "content": "summarize"}])
    )
    assert isinstance(refusal, Refusal) and refusal.reason is RefusalReason.TOO_LONG


@pytest.mark.parametrize(
    ("transcript_tokens", "tier"), [(500, Tier.ECONOMY), (8_000, Tier.STANDARD), (25_000, Tier.PREMIUM)]
)
async def test_a_transcript_in_the_last_message_counts_as_context(redis, clock, transcript_tokens, tier) -> None:
    """/summarize sends its transcript inside the one user message: its size, not the command, sets complexity."""
    prompt = [
        {"role": "system", "content": "You summarize Slack conversations."},
        {"role": "user", "content": "Summarize:\n" + "word " * (transcript_tokens * 4 // 5)},
    ]
    plan = await plan_of(routing_for(redis, clock), request("", command="/summarize", messages=prompt))
    assert (plan.classification.task, plan.tier) == ("summarize", tier)


class StubEscalator:
    """Stands in for ``routing.learned.workspaces.WorkspaceScorers`` (same method), recording what it was asked."""

    def __init__(self, verdict: bool, active_team: str = "T1") -> None:
        self.verdict = verdict
        self.active_team = active_team
        self.asked: list[tuple[str, str, str | None]] = []

    def should_escalate(self, team_id: str, prompt_vector: Any, tier: str, *, text: str | None = None) -> bool:
        self.asked.append((team_id, tier, text))
        return self.verdict and team_id == self.active_team


@pytest.mark.parametrize(
    ("verdict", "active_team", "tier"),
    [(True, "T1", Tier.STANDARD), (False, "T1", Tier.ECONOMY), (True, "T2", Tier.ECONOMY)],
)
async def test_learned_escalator_moves_up_one_tier(redis, clock, verdict, active_team, tier) -> None:
    escalator = StubEscalator(verdict, active_team)
    routing = routing_for(redis, clock, escalator=escalator)
    plan = await plan_of(routing, request(prompt_vector=[0.1, 0.2]))
    assert plan.tier is tier
    assert escalator.asked == [("T1", "economy", "when is the standup?")]


async def test_no_vector_no_escalation(redis, clock) -> None:
    escalator = StubEscalator(True)
    plan = await plan_of(routing_for(redis, clock, escalator=escalator), request())
    assert plan.tier is Tier.ECONOMY and escalator.asked == []


def test_learned_workspace_scorers_fit_the_seam() -> None:
    learned = pytest.importorskip("routing.learned.workspaces")
    from routing.router import Escalator

    escalator: Escalator = learned.WorkspaceScorers()
    assert callable(escalator.should_escalate)


async def test_channel_override(redis, clock) -> None:
    routing = routing_for(redis, clock, make_catalog(channel_overrides={"CLEGAL": {"min_tier": "standard"}}))
    assert (await plan_of(routing, request(channel="CLEGAL"))).tier is Tier.STANDARD
    assert (await plan_of(routing, request(channel="C1"))).tier is Tier.ECONOMY


def test_factory_builds_a_generator(redis, clock) -> None:
    assert isinstance(routing_for(redis, clock).generator, Generator)


async def test_the_answer_budget_follows_the_task_with_the_default_for_the_rest(redis, clock) -> None:
    routing = routing_for(redis, clock, make_catalog(answer_tokens=900, task_answer_tokens={"chat": 300}))
    chat = await plan_of(routing, request("thanks, that helps"))
    qa = await plan_of(routing, request("when is the standup?"))
    asked = await plan_of(routing, request("thanks, that helps", answer_tokens=50))
    assert (chat.classification.task, chat.answer_tokens) == ("chat", 300)
    assert (qa.classification.task, qa.answer_tokens) == ("qa", 900)
    assert asked.answer_tokens == 50, "a caller's own budget wins"
    assert chat.reservation is not None and qa.reservation is not None
    assert chat.reservation.amount < qa.reservation.amount, "the smaller budget reserves less"
