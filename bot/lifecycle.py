"""The request lifecycle every orchestrator shares: one ledger row, one way to stream a model's answer, one
streamer per reply, one "remember this answer" for 👍/👎.

The assistant and the summarizer differ in what they read and where they reply, not in how a request is
accounted for, so that part lives here once:

* ``open_row`` starts the request's one ledger row; the row is written when the ``async with`` ends, success or
  failure (``Ledger.close`` never raises), with the request's latency;
* ``generate`` runs one plan through the generator, feeding text to a callback, and adds the call's tokens and
  cost to the row the moment the stream ends — so what was paid is recorded whatever happens afterwards;
* ``streamer`` makes the reply's ``MessageStreamer`` (its ``finish`` never raises: delivery retries, falls back
  to a new message, and the row's cost is already there);
* ``remember`` maps the reply's messages to the request, so a later 👍/👎 counts for the model that wrote it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from bot.feedback.answer_map import AnsweredMessage
from bot.feedback.votes import AnswerFeedback
from bot.ledger import Ledger, LedgerEntry
from bot.observability import observe_generation
from bot.request import Request
from bot.slack.streamer import MessageStreamer, Streamers
from routing.calls.generation import Generation
from routing.calls.llm import TextDelta
from routing.factory import Routing
from routing.plan import RoutePlan
from vocabulary import RequestOutcome, TaskKind, Tier, Vector


@dataclass
class LedgerRow:
    """The ledger row of one request while it is being served; ``Lifecycle.open_row`` writes it once at the end."""

    entry: LedgerEntry
    generations: list[Generation] = field(default_factory=list)
    baseline_override: Decimal | None = None  # a memoized summary's baseline: the one-shot call (``reused``)

    def set(self, outcome: RequestOutcome, *, task: TaskKind | None = None) -> None:
        self.entry = replace(self.entry, outcome=outcome, task=task if task is not None else self.entry.task)

    def add(self, generation: Generation) -> None:
        """Count one model call: a summary makes several, and the row carries their sum."""
        self.generations.append(generation)
        done = self.generations
        self.entry = replace(
            self.entry,
            task=generation.task,
            model=next((g.model for g in reversed(done) if g.model), "") or "",
            tier=generation.tier,
            prompt_tokens=sum(g.prompt_tokens for g in done),
            completion_tokens=sum(g.completion_tokens for g in done),
            cost_usd=sum((g.cost for g in done), Decimal(0)),
            baseline_cost_usd=(
                sum((g.baseline_cost for g in done), Decimal(0))
                if self.baseline_override is None
                else self.baseline_override
            ),
            estimated=any(g.estimated for g in done),
            attempts=sum(len(g.attempts) for g in done),
            cached_tokens=sum(g.cached_tokens for g in done),
            escalations=tuple(pair for g in done for pair in g.escalations),
        )

    def reused(self, *, chunks: int, reused: int, saved: Decimal, saved_ms: int, baseline: Decimal) -> None:
        """A memoized summary: ``reused`` of its ``chunks`` parts came from earlier summaries, which saved
        ``saved`` (what they had cost) and ``saved_ms``. Its ``baseline`` is what one call to the baseline model
        with the whole transcript would have cost (an estimate): the bill without Penny, rather than Penny's own
        parts priced on the baseline model, which would count the map-reduce's overhead as a saving."""
        self.baseline_override = baseline
        self.entry = replace(
            self.entry,
            summary_chunks=chunks,
            chunks_reused=reused,
            reuse_saved_usd=saved,
            reuse_saved_ms=saved_ms,
            baseline_cost_usd=baseline,
            estimated=True,
        )

    def served_from_cache(self, *, model: str, tier: Tier, baseline_cost: Decimal) -> None:
        self.entry = replace(
            self.entry,
            outcome=RequestOutcome.CACHE_HIT,
            model=model,
            tier=tier,
            baseline_cost_usd=baseline_cost,
            estimated=True,
        )


class Lifecycle:
    """Shared by the orchestrators; holds the ledger, the reply streamers, the generator and the feedback memory."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        streamers: Streamers,
        routing: Routing,
        feedback: AnswerFeedback,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ledger = ledger
        self._streamers = streamers
        self._routing = routing
        self._feedback = feedback
        self._clock = clock

    @contextlib.asynccontextmanager
    async def open_row(self, request: Request, *, task: TaskKind | None = None) -> AsyncIterator[LedgerRow]:
        """The request's one ledger row, ``failed`` until told otherwise, written when the block ends."""
        started = self._clock()
        row = LedgerRow(
            LedgerEntry(
                request_id=request.request_id,
                team_id=request.scope.team_id,
                channel_id=request.scope.channel_id,
                user_id=request.user_id,
                surface=request.surface.value,
                task=task,
                outcome=RequestOutcome.FAILED,
            )
        )
        try:
            yield row
        finally:
            await self._ledger.close(replace(row.entry, latency_ms=int((self._clock() - started) * 1000)))

    def streamer(self, request: Request, channel: str, thread_ts: str | None) -> MessageStreamer:
        """The reply's streamer; the requester is the recipient a native stream in a channel needs."""
        return self._streamers.new(request.scope.team_id, channel, thread_ts, recipient_user_id=request.user_id)

    async def generate(self, plan: RoutePlan, row: LedgerRow, on_text: Callable[[str], None]) -> Generation:
        """Stream one plan's answer into ``on_text``; the call is on the row before this returns."""
        generation: Generation | None = None
        async for item in self._routing.generator.stream(plan):
            if isinstance(item, TextDelta):
                on_text(item.text)
            else:
                generation = item
        assert generation is not None, "the generator always ends with a Generation"
        row.add(generation)
        observe_generation(generation)
        return generation

    async def before_routing(self, team_id: str) -> None:
        """Votes other replicas received since the last request teach this one's router first."""
        await self._feedback.before_routing(team_id)

    async def remember(
        self,
        request: Request,
        row: LedgerRow,
        *,
        channel_id: str,
        message_ts: Sequence[str],
        cache_entry: str | None = None,
        vector: Vector | None = None,
    ) -> None:
        """Let 👍/👎 on these messages count as feedback on the request (best-effort, never raises)."""
        entry = row.entry
        answer = AnsweredMessage(
            request_id=request.request_id,
            team_id=request.scope.team_id,
            channel_id=channel_id,
            task=entry.task,
            model=entry.model,
            tier=entry.tier,
            outcome=entry.outcome,
            cache_entry=cache_entry or "",
        )
        await self._feedback.remember_answer(
            answer, message_ts, vector=vector, question=request.text if vector is not None else ""
        )
