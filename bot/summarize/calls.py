"""The model calls of one summary: planned once by the router, every later call reserved and billed on its own.

The first call goes through ``Router.plan`` (policy, user limit, budget, health, tier), so a ten-part summary
counts once against the user's limit; later calls reuse that plan's chain with their own budget reservation, so
every part is paid for within the workspace budget. Each call's tokens and cost land on the request's one ledger
row as it ends (``bot/lifecycle.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from bot import replies
from bot.lifecycle import LedgerRow, Lifecycle
from bot.request import Request
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


class ModelCalls:
    def __init__(self, routing: Routing, lifecycle: Lifecycle, request: Request, row: LedgerRow) -> None:
        self._routing = routing
        self._lifecycle = lifecycle
        self._request = request
        self._row = row
        self.plan: RoutePlan | None = None
        self.cut_at_length = False  # the last call stopped at its length limit

    async def run(
        self, messages: list[ChatMessage], answer_tokens: int, on_text: Callable[[str], None] | None = None
    ) -> str:
        """One call's text (streamed into ``on_text`` too); raises ``SummaryStopped`` when no model answered."""
        plan = await self._plan_for(messages, answer_tokens)
        parts: list[str] = []

        def collect(delta: str) -> None:
            parts.append(delta)
            if on_text is not None:
                on_text(delta)

        generation = await self._lifecycle.generate(plan, self._row, collect)
        if not generation.ok:
            raise SummaryStopped(replies.model_failed(generation), RequestOutcome.FAILED)
        self.cut_at_length = generation.cut_at_length
        return "".join(parts)

    async def _plan_for(self, messages: list[ChatMessage], answer_tokens: int) -> RoutePlan:
        request = self._request
        if self.plan is None:
            plan = await self._routing.router.plan(
                RouteRequest(
                    team_id=request.scope.team_id,
                    channel_id=request.scope.channel_id,
                    user_id=request.user_id,
                    text=request.text or "summarize",
                    messages=messages,
                    command=request.command or "/summarize",
                    answer_tokens=answer_tokens,
                )
            )
            if isinstance(plan, Refusal):
                raise SummaryStopped(replies.refusal(plan), RequestOutcome.REFUSED)
            self.plan = plan
            return plan
        prompt_tokens = estimate_prompt_tokens(messages)
        estimate = call_cost(self.plan.chain[0], Usage(math.ceil(prompt_tokens * RESERVE_PROMPT_MARGIN), answer_tokens))
        reservation = await self._routing.budget.reserve(request.scope.team_id, estimate)
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
