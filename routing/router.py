"""The router: one request in, a ``RoutePlan`` (tier, model chain, notes, budget reservation) or a ``Refusal`` out.

One question per step, in this order, each answered by the module that owns it: may this channel use Penny
(policy), may this user ask again (``limits``), what kind of job is it (``classify``, plus an optional nudge from
the learned scorer), what may the workspace still spend (``budget``), which models are up (``health``) and can
read the prompt (``context``), in which order to try them (``chain``). The router itself holds no state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog

from routing.calls.health import Health, ModelState
from routing.catalog import Catalog, ModelSpec
from routing.chain import order_chain
from routing.chat import ChatMessage
from routing.classify import Classification, classify
from routing.context import fits, trim_oldest
from routing.plan import RESERVE_PROMPT_MARGIN, NoteKind, PlanNote, Refusal, RefusalReason, RoutePlan
from routing.spend.budget import Budget
from routing.spend.cost import Usage, call_cost, estimate_prompt_tokens
from routing.spend.limits import UserRateLimiter
from vocabulary import TaskKind, Tier, Vector

log = structlog.get_logger(__name__)


class Escalator(Protocol):
    """The seam for the learned scorer (``routing/learned/workspaces.py``'s ``WorkspaceScorers`` fits it as is).

    Structural, so the router needs no import of that module: it asks one question per request and leaves the
    score, its threshold and "active only after enough votes in this workspace" to the scorer.
    """

    def should_escalate(self, team_id: str, prompt_vector: Vector, tier: str, *, text: str | None = None) -> bool: ...


@dataclass(frozen=True)
class RouteRequest:
    """What the router needs to know. ``messages`` is the whole prompt: system, context oldest first, question last."""

    team_id: str
    channel_id: str
    user_id: str
    text: str
    messages: Sequence[ChatMessage]
    command: str | None = None
    prompt_vector: Vector | None = None  # the request's one embedding, shared with the cache; optional
    answer_tokens: int | None = None  # None: the policy's budget for the classified task
    grounded: bool = False  # the prompt carries context to answer from: an empty "I don't know" is then a failure


class Router:
    def __init__(
        self,
        catalog: Catalog,
        *,
        budget: Budget,
        health: Health,
        limiter: UserRateLimiter,
        escalator: Escalator | None = None,
    ) -> None:
        self._catalog = catalog
        self._policy = catalog.policy
        self._budget = budget
        self._health = health
        self._limiter = limiter
        self._escalator = escalator

    async def plan(self, request: RouteRequest) -> RoutePlan | Refusal:
        if not self._policy.channel_allowed(request.channel_id):
            return self._refuse(request, Refusal(RefusalReason.CHANNEL_NOT_ALLOWED))
        verdict = await self._limiter.check_and_count(request.team_id, request.user_id)
        if not verdict.allowed:
            return self._refuse(request, Refusal(RefusalReason.USER_LIMIT, limit=verdict.limit, window=verdict.window))

        prompt_tokens = estimate_prompt_tokens(request.messages)
        # Context is everything in the prompt that is not the user's own words: the thread before a question, or
        # the transcript a summary is asked of (which travels in the last message, so "all but the last message"
        # would call a 20k-token summary simple).
        question_tokens = min(estimate_prompt_tokens([{"role": "user", "content": request.text}]), prompt_tokens)
        classification = classify(request.text, command=request.command, context_tokens=prompt_tokens - question_tokens)
        requested = self._tier_for(request, classification)
        answer_tokens = request.answer_tokens or self._policy.answer_tokens_for(classification.task)

        state = await self._budget.state(request.team_id)
        if state.hard:
            period = "daily" if state.hard_reached[0].startswith("day:") else "monthly"
            return self._refuse(request, Refusal(RefusalReason.BUDGET_HARD, classification, budget_period=period))
        tier, ceiling = requested, None
        notes: list[PlanNote] = []
        if state.soft and requested is Tier.PREMIUM:
            tier = ceiling = requested.down()
            if await self._budget.claim_soft_note(request.team_id, state.soft_reached[0]):
                notes.append(PlanNote(NoteKind.SOFT_BUDGET))

        states = await self._health.states(m.id for m in self._catalog.models)
        allowed = [m for m in self._catalog.models if ceiling is None or m.tier.rank <= ceiling.rank]
        usable = [m for m in allowed if states[m.id] is not ModelState.COOLING]
        if not usable:  # every model is cooling down: trying one beats refusing outright
            usable = allowed

        messages, trimmed = list(request.messages), 0
        fitting = [m for m in usable if fits(m, prompt_tokens, answer_tokens)]
        if not fitting and classification.task is TaskKind.QA and usable:
            widest = max(m.context_window for m in usable)
            result = trim_oldest(messages, widest - answer_tokens)
            if result is not None:
                messages, trimmed = result
                prompt_tokens = estimate_prompt_tokens(messages)
                fitting = [m for m in usable if fits(m, prompt_tokens, answer_tokens)]
                notes.append(PlanNote(NoteKind.TRIMMED, kept=len(messages), dropped=trimmed))
        if not fitting:
            return self._refuse(request, Refusal(RefusalReason.TOO_LONG, classification))

        chain, probes = await self._take_probes(order_chain(tier, fitting, ceiling=ceiling), states)
        # Shedding moves traffic away from a cooling model; it must not leave a request with a one-model chain
        # when that model fails (faults_load: 10% provider faults cooled most models at once, and two requests
        # failed after two attempts on the one model left). Cooling models come last, in chain order.
        resting = [m for m in allowed if m not in chain and fits(m, prompt_tokens, answer_tokens)]
        chain = chain + order_chain(tier, resting, ceiling=ceiling)
        estimate = call_cost(chain[0], Usage(math.ceil(prompt_tokens * RESERVE_PROMPT_MARGIN), answer_tokens))
        reservation = await self._budget.reserve(request.team_id, estimate)
        if reservation is None:
            for model_id, token in probes.items():
                await self._health.release_probe(model_id, token)
            return self._refuse(request, Refusal(RefusalReason.BUDGET_HARD, classification))
        log.info(
            "router.plan",
            team_id=request.team_id,
            task=classification.task,
            complexity=classification.complexity,
            requested_tier=requested,
            tier=tier,
            chain=[m.id for m in chain],
            trimmed=trimmed,
            probes=list(probes),
        )
        return RoutePlan(
            request.team_id,
            tier,
            requested,
            chain,
            classification,
            messages,
            answer_tokens,
            prompt_tokens,
            reservation,
            notes,
            probes,
            trimmed,
            grounded=request.grounded,
        )

    def _tier_for(self, request: RouteRequest, classification: Classification) -> Tier:
        tier = self._policy.tier_for(classification.task, classification.complexity)
        if self._policy.learned.enabled and self._escalator is not None and request.prompt_vector is not None:
            try:
                if self._escalator.should_escalate(
                    request.team_id, request.prompt_vector, str(tier), text=request.text
                ):
                    tier = tier.up()
            except Exception:  # the learned nudge is optional: the rules alone still route
                log.warning("router.escalator_failed", team_id=request.team_id, exc_info=True)
        override = self._policy.channel_overrides.get(request.channel_id)
        return override.apply(tier) if override is not None else tier

    async def _take_probes(
        self, chain: list[ModelSpec], states: dict[str, ModelState]
    ) -> tuple[list[ModelSpec], dict[str, str]]:
        """Keep a model whose cool-down is over only if this request wins its probe lock."""
        kept: list[ModelSpec] = []
        probes: dict[str, str] = {}
        for model in chain:
            if states[model.id] is ModelState.PROBE_DUE:
                token = await self._health.acquire_probe(model.id)
                if token is None:
                    continue
                probes[model.id] = token
            kept.append(model)
        if not kept:  # every candidate is being probed by someone else: still try rather than refuse
            kept = chain
        return kept, probes

    @staticmethod
    def _refuse(request: RouteRequest, refusal: Refusal) -> Refusal:
        log.info("router.refused", team_id=request.team_id, channel_id=request.channel_id, reason=refusal.reason)
        return refusal
