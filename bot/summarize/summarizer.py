"""``/summarize``: a command in, a summary in Slack and exactly one ledger row out — a sibling of the assistant.

A sibling rather than a branch of the assistant because its shape differs: permissions come first (the
requester must be in the source conversation; a private source is never posted to a wider audience), the
reply may be ephemeral, and a long source takes several model calls (map-reduce, ``bot/summarize/chunks.py``)
whose costs add up into one ledger row. Every call still goes through the router and the one retry loop:
the first call is planned by ``Router.plan`` (policy, user limit, budget, health, tier), and later calls reuse
that plan's chain with their own budget reservation, so a ten-part summary counts once against the user's
limit but every part is paid for within the workspace budget.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Protocol

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import replies
from bot.feedback.votes import Feedback
from bot.ledger import Ledger, LedgerEntry
from bot.request import Request
from bot.slack.channels import ChannelDirectory, Visibility
from bot.slack.mrkdwn import to_slack
from bot.slack.streamer import MessageStreamer
from bot.slack.update_budget import UpdateBudget
from bot.summarize.args import SummarizeArgs, TargetKind, UsageError, parse_summarize_args
from bot.summarize.chunks import chunk_lines, group_for_reduce
from bot.summarize.prompts import map_prompt, overhead_messages, reduce_prompt, single_prompt
from bot.summarize.source import SourceMessages, SourceUnavailable, SummarySource, mentioned_users, transcript_line
from routing.catalog import Catalog
from routing.cost import call_cost, estimate_prompt_tokens
from routing.factory import Routing
from routing.llm import ChatMessage, TextDelta, Usage
from routing.outcome import Outcome
from routing.router import RESERVE_PROMPT_MARGIN, Refusal, RoutePlan, RouteRequest

log = structlog.get_logger(__name__)

RespondFn = Callable[..., Awaitable[Any]]
"""Bolt's ``respond``: posts to the command's ``response_url`` (works even where Penny is not a member)."""

BUDGET_REFUSED_TEXT = (
    ":no_entry: This workspace has reached its AI budget partway through this summary, so I stopped. "
    "Please try again later."
)
_CANT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})


@dataclass(frozen=True)
class SummarizerSettings:
    stream_interval_s: float = 1.0
    max_message_chars: int = 3900
    max_messages: int = 1000  # per summary: bounds cost; past it the reply says what was left out
    chunk_margin: float = 0.8  # chars/4 under-counts some text; leave room so every call really fits
    min_partial_tokens: int = 128
    # Map chunks stay below the router's "very long context" size (routing/classify.py), so each part of a long
    # channel is a medium summary on a standard model instead of a premium call: parts are cheaper, and smaller
    # parts lose less in the middle. Single-call summaries of short sources are unaffected.
    max_chunk_tokens: int = 12_000


class SummaryStopped(Exception):
    """The summary cannot go on; ``message`` is for the user, ``outcome`` for the ledger."""

    def __init__(self, message: str, outcome: str) -> None:
        super().__init__(outcome)
        self.message = message
        self.outcome = outcome


class _Output(Protocol):
    """Where the summary appears: a streamed channel/thread message, or an ephemeral reply to the requester."""

    async def progress(self, status: str) -> None: ...

    def append(self, delta: str) -> None: ...

    async def finish(self, text: str) -> None: ...

    async def fail(self, text: str) -> None: ...

    def posted(self) -> tuple[str, list[str]] | None:
        """(channel, message ts) of a summary others can see and react to; None for an ephemeral one."""
        ...


class _ChannelOutput:
    def __init__(self, streamer: MessageStreamer, channel: str) -> None:
        self._streamer = streamer
        self._channel = channel

    def posted(self) -> tuple[str, list[str]] | None:
        return self._channel, self._streamer.message_ts

    async def progress(self, status: str) -> None:
        await self._streamer.show_status(status)

    def append(self, delta: str) -> None:
        self._streamer.append(delta)

    async def finish(self, text: str) -> None:
        await self._streamer.finish(text)

    async def fail(self, text: str) -> None:
        await self._streamer.fail(text)


class _EphemeralOutput:
    """No streaming (each ``response_url`` allows only five posts): one "working" note, then the result."""

    def __init__(self, respond: RespondFn) -> None:
        self._respond = respond

    def posted(self) -> tuple[str, list[str]] | None:
        return None

    async def progress(self, status: str) -> None:
        return None

    def append(self, delta: str) -> None:
        return None

    async def finish(self, text: str) -> None:
        await self._respond(text=to_slack(text) + f"\n\n_{replies.SUMMARIZE_PRIVATE_NOTE}_",
                            response_type="ephemeral", replace_original=True)

    async def fail(self, text: str) -> None:
        await self._respond(text=text, response_type="ephemeral", replace_original=True)


class _Calls:
    """The model calls of one summary: planned once by the router, each reserved and billed, outcomes kept."""

    def __init__(self, routing: Routing, request: Request) -> None:
        self._routing = routing
        self._request = request
        self._plan: RoutePlan | None = None
        self.outcomes: list[Outcome] = []

    @property
    def plan(self) -> RoutePlan | None:
        return self._plan

    async def run(self, messages: list[ChatMessage], answer_tokens: int, on_delta: Callable[[str], None] | None = None
                  ) -> str:
        plan = await self._plan_for(messages, answer_tokens)
        text = ""
        outcome: Outcome | None = None
        async for item in self._routing.generator.stream(plan):
            if isinstance(item, TextDelta):
                text += item.text
                if on_delta is not None:
                    on_delta(item.text)
            else:
                outcome = item
        assert outcome is not None, "the generator always ends with an Outcome"
        self.outcomes.append(outcome)
        if not outcome.ok:
            raise SummaryStopped(f":warning: {outcome.error_message or replies.MODEL_FAILED_TEXT}", "failed")
        return text

    async def _plan_for(self, messages: list[ChatMessage], answer_tokens: int) -> RoutePlan:
        request = self._request
        if self._plan is None:
            plan = await self._routing.router.plan(RouteRequest(
                team_id=request.scope.team_id, channel_id=request.scope.channel_id, user_id=request.user_id,
                text=request.text or "summarize", messages=messages, command=request.command or "/summarize",
                answer_tokens=answer_tokens,
            ))
            if isinstance(plan, Refusal):
                raise SummaryStopped(f":no_entry: {plan.message}", "refused")
            self._plan = plan
            return plan
        prompt_tokens = estimate_prompt_tokens(messages)
        estimate = call_cost(self._plan.chain[0],
                             Usage(math.ceil(prompt_tokens * RESERVE_PROMPT_MARGIN), answer_tokens))
        reservation = await self._routing.budget.reserve(request.scope.team_id, estimate)
        if reservation is None:
            raise SummaryStopped(BUDGET_REFUSED_TEXT, "refused")
        return replace(self._plan, messages=list(messages), answer_tokens=answer_tokens,
                       prompt_tokens_estimate=prompt_tokens, reservation=reservation, probes={}, notes=[],
                       trimmed_messages=0)


class Summarizer:
    def __init__(
        self,
        *,
        slack: AsyncWebClient,
        routing: Routing,
        catalog: Catalog,
        ledger: Ledger,
        channels: ChannelDirectory,
        source: SummarySource,
        settings: SummarizerSettings,
        update_budget: UpdateBudget | None = None,
        feedback: Feedback | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._slack = slack
        self._routing = routing
        self._catalog = catalog
        self._ledger = ledger
        self._channels = channels
        self._source = source
        self._settings = settings
        self._update_budget = update_budget
        self._feedback = feedback
        self._clock = clock
        self._wall_clock = wall_clock

    async def summarize(self, request: Request, respond: RespondFn) -> None:
        """Handle one ``/summarize``; always writes exactly one ledger row, whatever happens."""
        started = self._clock()
        entry = LedgerEntry(
            request_id=request.request_id, team_id=request.scope.team_id, channel_id=request.scope.channel_id,
            user_id=request.user_id, surface=request.surface.value, task="summarize", outcome="failed",
        )
        try:
            entry = await self._summarize(request, respond, entry)
        except Exception:
            log.exception("summarizer.unexpected_error", request_id=request.request_id)
            await _tell(respond, replies.UNEXPECTED_TEXT)
        finally:
            entry = replace(entry, latency_ms=int((self._clock() - started) * 1000))
            await self._ledger.close(entry)
            log.info("summarizer.done", request_id=request.request_id, outcome=entry.outcome,
                     cost=str(entry.cost_usd), attempts=entry.attempts, latency_ms=entry.latency_ms)

    async def _summarize(self, request: Request, respond: RespondFn, entry: LedgerEntry) -> LedgerEntry:
        args = parse_summarize_args(request.text, request.scope.channel_id)
        if isinstance(args, UsageError):
            text = (replies.SUMMARIZE_USAGE_TEXT if args.problem is None
                    else replies.SUMMARIZE_BAD_ARGS_TEXT.format(problem=args.problem))
            await _tell(respond, text)
            return replace(entry, outcome="help", task="help")
        try:
            if not await self._source.is_member(args.channel_id, request.user_id):
                log.info("summarizer.not_a_member", request_id=request.request_id, source=args.channel_id)
                await _tell(respond, replies.SUMMARIZE_NOT_MEMBER_TEXT)
                return replace(entry, outcome="refused")
            found = await self._read(args)
        except SourceUnavailable as exc:
            log.warning("summarizer.source_unavailable", request_id=request.request_id, error=exc.reason,
                        permission=exc.permission)
            if exc.permission:
                await _tell(respond, replies.SUMMARIZE_CANT_READ_TEXT.format(reason=exc.reason))
                return replace(entry, outcome="refused")
            await _tell(respond, replies.SUMMARIZE_READ_FAILED_TEXT)
            return replace(entry, outcome="failed")
        what = await self._describe(request, args)
        if not found.messages:
            await _tell(respond, replies.SUMMARIZE_NOTHING_TEXT.format(what=what, window=args.window_label))
            return replace(entry, outcome="help")

        output = await self._open_output(request, args, respond, what)
        calls = _Calls(self._routing, request)
        try:
            names = await self._source.names(mentioned_users(found.messages))
            lines = [transcript_line(m, names) for m in found.messages]
            header = self._header(args, what, len(found.messages))
            answer = await self._map_reduce(lines, what, calls, output, header)
            notes = [*(calls.plan.notes if calls.plan else []), *self._truncation_note(found)]
            if calls.outcomes and calls.outcomes[-1].cut_at_length:
                notes.append(replies.CUT_AT_LENGTH_NOTE)
            await output.finish(replies.with_notes(f"{header}\n\n{answer}", notes))
            entry = _with_outcomes(entry, calls, "answered")
            await self._remember(request, output, entry)
            return entry
        except SummaryStopped as stop:
            await output.fail(stop.message)
            return _with_outcomes(entry, calls, stop.outcome)
        except Exception:
            log.exception("summarizer.unexpected_error", request_id=request.request_id)
            await output.fail(replies.UNEXPECTED_TEXT)
            return _with_outcomes(entry, calls, "failed")

    async def _read(self, args: SummarizeArgs) -> SourceMessages:
        limit = self._settings.max_messages
        if args.kind is TargetKind.THREAD:
            assert args.thread_ts is not None
            return await self._source.thread(args.channel_id, args.thread_ts, limit=limit)
        oldest = self._wall_clock() - args.window_s
        return await self._source.channel_history(args.channel_id, oldest=oldest, limit=limit)

    async def _describe(self, request: Request, args: SummarizeArgs) -> str:
        if args.kind is TargetKind.THREAD:
            return "this thread" if args.channel_id == request.scope.channel_id else "a thread"
        if args.channel_id == request.scope.channel_id:
            return "this channel"
        name = await self._source.channel_name(args.channel_id)
        return f"#{name}" if name else "that channel"

    @staticmethod
    def _header(args: SummarizeArgs, what: str, count: int) -> str:
        plural = "s" if count != 1 else ""
        if args.kind is TargetKind.THREAD:
            return f"*Summary of {what}* · {count} message{plural}"
        return f"*Summary of {what}* · last {args.window_label} · {count} message{plural}"

    def _truncation_note(self, found: SourceMessages) -> list[str]:
        if not found.truncated:
            return []
        return [replies.SUMMARIZE_TRUNCATED_NOTE.format(limit=self._settings.max_messages)]

    async def _may_post_here(self, request: Request, args: SummarizeArgs) -> bool:
        """Never widen the audience: another conversation's summary is posted only public → public."""
        if args.channel_id == request.scope.channel_id:
            return True
        team = request.scope.team_id
        try:
            source = await self._channels.visibility(team, args.channel_id)
            here = await self._channels.visibility(team, request.scope.channel_id)
        except SlackApiError:
            return False  # unknown visibility: the most restrictive choice
        return source is Visibility.PUBLIC and here is Visibility.PUBLIC

    async def _open_output(self, request: Request, args: SummarizeArgs, respond: RespondFn, what: str) -> _Output:
        if await self._may_post_here(request, args):
            same_thread = args.kind is TargetKind.THREAD and args.channel_id == request.scope.channel_id
            streamer = MessageStreamer(
                self._slack, request.scope.channel_id, args.thread_ts if same_thread else None,
                interval_s=self._settings.stream_interval_s, max_chars=self._settings.max_message_chars,
                clock=self._clock,
                budget=self._update_budget.for_team(request.scope.team_id) if self._update_budget else None,
            )
            try:
                await streamer.open()
                return _ChannelOutput(streamer, request.scope.channel_id)
            except SlackApiError as exc:
                error = str(exc.response.get("error", ""))
                if error not in _CANT_POST:
                    raise
                log.info("summarizer.cannot_post_here", request_id=request.request_id, error=error)
        else:
            log.info("summarizer.private_source", request_id=request.request_id, source=args.channel_id)
        await _tell(respond, replies.SUMMARIZE_STARTED_PRIVATE_TEXT.format(what=what))
        return _EphemeralOutput(respond)

    async def _remember(self, request: Request, output: _Output, entry: LedgerEntry) -> None:
        """Let 👍/👎 on a posted summary count as feedback on the model that wrote it (no prompt vector: a
        summary's input is a transcript, not a question, so it teaches the learned router nothing)."""
        posted = output.posted()
        if self._feedback is None or posted is None:
            return
        channel, message_ts = posted
        await self._feedback.remember_answer(
            request_id=request.request_id, team_id=request.scope.team_id, channel_id=channel,
            message_ts=message_ts, task=entry.task, model=entry.model, tier=entry.tier, outcome=entry.outcome,
            cache_entry=None, vector=None, question="",
        )

    def _chunk_budget(self, answer_tokens: int, what: str) -> int:
        """Transcript tokens per call: the narrowest catalog model must read any chunk, with room to answer.

        The narrowest rather than the chosen model, so that every fallback in the chain can read every chunk; and
        never more than ``max_chunk_tokens``, which keeps a map-reduce summary off the premium tier.
        """
        window = min(model.context_window for model in self._catalog.models)
        overhead = estimate_prompt_tokens(overhead_messages(what))
        budget = min(int((window - answer_tokens - overhead) * self._settings.chunk_margin),
                     self._settings.max_chunk_tokens)
        if budget < 4 * self._settings.min_partial_tokens:
            raise SummaryStopped(replies.UNEXPECTED_TEXT, "failed")  # a catalog no summary can fit: say so
        return budget

    async def _map_reduce(
        self, lines: Sequence[str], what: str, calls: _Calls, output: _Output, header: str
    ) -> str:
        answer_tokens = self._catalog.policy.answer_tokens
        budget = self._chunk_budget(answer_tokens, what)
        # Partials stay small so that several fit one reduce call; the recursion then always shrinks.
        partial_tokens = max(self._settings.min_partial_tokens, min(answer_tokens, budget // 4))

        def stream_final(delta: str) -> None:
            output.append(delta)

        chunks = chunk_lines(lines, budget)
        if len(chunks) == 1:
            output.append(f"{header}\n\n")
            return await calls.run(single_prompt(chunks[0], what), answer_tokens, stream_final)
        log.info("summarizer.map_reduce", parts=len(chunks), lines=len(lines), budget_tokens=budget)
        partials: list[str] = []
        for part, chunk in enumerate(chunks, start=1):
            await output.progress(replies.SUMMARIZE_PROGRESS_TEXT.format(part=part, parts=len(chunks)))
            partials.append(await calls.run(map_prompt(chunk, part, len(chunks), what), partial_tokens))
        while True:
            groups = group_for_reduce(partials, budget)
            await output.progress(replies.SUMMARIZE_COMBINING_TEXT.format(parts=len(partials)))
            if len(groups) == 1:
                output.append(f"{header}\n\n")
                return await calls.run(reduce_prompt(groups[0], what, final=True), answer_tokens, stream_final)
            partials = [await calls.run(reduce_prompt(group, what, final=False), partial_tokens) for group in groups]


async def _tell(respond: RespondFn, text: str) -> None:
    """An ephemeral reply to the requester only; a failure here is logged, never raised over the ledger row."""
    try:
        await respond(text=text, response_type="ephemeral")
    except Exception:
        log.warning("summarizer.respond_failed", exc_info=True)


def _with_outcomes(entry: LedgerEntry, calls: _Calls, outcome: str) -> LedgerEntry:
    """One row for the whole summary: every map and reduce call's tokens, cost and baseline added up."""
    done = calls.outcomes
    if not done:
        return replace(entry, outcome=outcome)
    plan = calls.plan
    return replace(
        entry, outcome=outcome, task="summarize",
        model=next((o.model for o in reversed(done) if o.model), "") or "",
        tier=str(plan.tier) if plan is not None else done[-1].tier,
        prompt_tokens=sum(o.prompt_tokens for o in done),
        completion_tokens=sum(o.completion_tokens for o in done),
        cost_usd=sum((o.cost for o in done), Decimal(0)),
        baseline_cost_usd=sum((o.baseline_cost for o in done), Decimal(0)),
        estimated=any(o.estimated for o in done),
        attempts=sum(len(o.attempts) for o in done),
    )
