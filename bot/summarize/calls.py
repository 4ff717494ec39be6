"""The model calls of one summary: planned once by the router, every later call reserved and billed on its own.

The summary is routed once through ``Router.plan`` (policy, user limit, budget, health, tier), so a ten-part
summary counts once against the user's limit: either by its first call, or up front (``route``) when the tier
must be known before any call — a memoized summary looks up stored partials by tier. The first call uses that
plan's reservation; later calls reuse its chain with their own budget reservation, so every part is paid for
within the workspace budget. Each call's tokens and cost land on the request's one ledger row as it ends
(``bot/lifecycle.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot import replies
from bot.lifecycle import LedgerRow, Lifecycle
from bot.request import Request
from routing.calls.generation import Generation
from routing.chat import ChatMessage
from routing.factory import Routing
from routing.plan import RESERVE_PROMPT_MARGIN, Refusal, RoutePlan
from routing.router import RouteRequest
from routing.spend.cost import Usage, call_cost, estimate_prompt_tokens
from vocabulary import RequestOutcome


class SummaryStopped(Exception):
    """The summary cannot go on; ``message`` is for the user, ``outcome`` for the ledger."""

    def __init__(self, message: str, outcome: RequestOutcome) -> None:
        super().__init__(outcome)
        self.message = message
        self.outcome = outcome


@dataclass(frozen=True)
class Answered:
    """One call's text and its record (model, cost, baseline, latency)."""

    text: str
    generation: Generation


class ModelCalls:
    def __init__(self, routing: Routing, lifecycle: Lifecycle, request: Request, row: LedgerRow) -> None:
        self._routing = routing
        self._lifecycle = lifecycle
        self._request = request
        self._row = row
        self.plan: RoutePlan | None = None
        self._unused: RoutePlan | None = None  # the routed plan, until a call spends its reservation
        self.cut_short: str | None = None  # the note for a streamed answer the user sees but that is not all there

    async def route(self, messages: list[ChatMessage], answer_tokens: int) -> RoutePlan:
        """Plan the summary once, from ``messages`` (what decides its tier); raises ``SummaryStopped`` if refused."""
        if self.plan is not None:
            return self.plan
        request = self._request
        plan = await self._routing.router.plan(
            RouteRequest(
                team_id=request.scope.team_id,
                channel_id=request.scope.channel_id,
                user_id=request.user_id,
                text=request.text or "summarize",
                messages=messages,
                command=request.command or "/summarize",
                answer_tokens=answer_tokens,
                grounded=True,  # a transcript to summarize: "I don't know" is never the answer
            )
        )
        if isinstance(plan, Refusal):
            raise SummaryStopped(replies.refusal(plan), RequestOutcome.REFUSED)
        self.plan = self._unused = plan
        return plan

    async def run(
        self, messages: list[ChatMessage], answer_tokens: int, on_text: Callable[[str], None] | None = None
    ) -> Answered:
        """One call's text (streamed into ``on_text`` too); raises ``SummaryStopped`` when no model answered."""
        plan = await self._plan_for(messages, answer_tokens)
        parts: list[str] = []

        def collect(delta: str) -> None:
            parts.append(delta)
            if on_text is not None:
                on_text(delta)

        generation = await self._lifecycle.generate(plan, self._row, collect)
        streamed_partial = on_text is not None and generation.partial  # the user sees it: keep it, say it is cut
        if not generation.ok and not streamed_partial:
            raise SummaryStopped(replies.model_failed(generation), RequestOutcome.FAILED)
        self.cut_short = replies.cut_short_note(generation)
        return Answered("".join(parts), generation)

    async def _plan_for(self, messages: list[ChatMessage], answer_tokens: int) -> RoutePlan:
        if self.plan is None:
            await self.route(messages, answer_tokens)
        prompt_tokens = estimate_prompt_tokens(messages)
        if self._unused is not None:  # the routed reservation pays for the first call (the generator extends it)
            plan, self._unused = self._unused, None
            if plan.messages == messages and plan.answer_tokens == answer_tokens:
                return plan
            return replace(
                plan, messages=list(messages), answer_tokens=answer_tokens, prompt_tokens_estimate=prompt_tokens
            )
        assert self.plan is not None
        estimate = call_cost(self.plan.chain[0], Usage(math.ceil(prompt_tokens * RESERVE_PROMPT_MARGIN), answer_tokens))
        reservation = await self._routing.budget.reserve(self._request.scope.team_id, estimate)
        if reservation is None:
            raise SummaryStopped(replies.SUMMARIZE_BUDGET_STOPPED_TEXT, RequestOutcome.REFUSED)
        return replace(
            self.plan,
            messages=list(messages),
            answer_tokens=answer_tokens,
            prompt_tokens_estimate=prompt_tokens,
            reservation=reservation,
            probes={},
            notes=[],
            trimmed_messages=0,
        )
