"""The one orchestrator: a ``Request`` in, a streamed Slack reply and exactly one ledger row out.

Order matters for perceived speed and for correctness: the placeholder goes up before any CPU or model work; the
question is embedded once and the vector shared by the cache and the router; the ledger row is written in
``finally`` so failures are counted too; the event claim is finished last, so a crash anywhere before leaves the
event retryable (and the retry reuses the placeholder, never doubling the reply).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import structlog
from redis.exceptions import RedisError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import replies
from bot.assistant.joined_threads import JoinedThreads
from bot.assistant.prompts import before, chat_messages
from bot.feedback.votes import Feedback
from bot.ledger import Ledger, LedgerEntry
from bot.pins.selection import PinSelection, PinSelector
from bot.request import AnswerOptions, Request
from bot.slack.channels import ChannelDirectory, Visibility
from bot.slack.conversations import ContextMessage, ContextUnavailable, thread_messages
from bot.slack.event_claims import EventClaim
from bot.slack.people import PeopleDirectory, mentioned_ids
from bot.slack.streamer import MessageStreamer
from bot.slack.update_budget import UpdateBudget
from cache.values import CacheHit, CacheQuery, CacheScope, context_fingerprint
from routing.catalog import Catalog
from routing.classify import TaskKind, classify_task
from routing.cost import call_cost, estimate_usage
from routing.factory import Routing
from routing.llm import TextDelta
from routing.outcome import Outcome
from routing.router import Refusal, RouteRequest

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from cache.semantic import SemanticCache

log = structlog.get_logger(__name__)

EmbedFn = Callable[[str], Awaitable["NDArray[np.float32]"]]
CONTEXT_NAME_LOOKUPS = 20  # users.info calls for one request's thread at most (cached an hour afterwards)
CACHEABLE_TASKS = {TaskKind.QA, TaskKind.CHAT, TaskKind.SUMMARIZE}
# A summary of the thread is about the thread: pins join it only when the request names them ("the pinned doc").
PIN_TASKS = {TaskKind.QA, TaskKind.DRAFT, TaskKind.CHAT}


@dataclass(frozen=True)
class AssistantSettings:
    stream_interval_s: float = 1.0
    max_message_chars: int = 3900
    context_messages: int = 50


class Assistant:
    """Answers requests; owns no Slack payload parsing (handlers) and no provider logic (routing)."""

    def __init__(
        self,
        *,
        slack: AsyncWebClient,
        routing: Routing,
        catalog: Catalog,
        ledger: Ledger,
        channels: ChannelDirectory,
        settings: AssistantSettings,
        cache: SemanticCache | None = None,
        embed: EmbedFn | None = None,
        update_budget: UpdateBudget | None = None,
        threads: JoinedThreads | None = None,
        feedback: Feedback | None = None,
        pins: PinSelector | None = None,
        people: PeopleDirectory | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._slack = slack
        self._routing = routing
        self._catalog = catalog
        self._ledger = ledger
        self._channels = channels
        self._settings = settings
        self._cache = cache
        self._embed = embed
        self._update_budget = update_budget
        self._threads = threads
        self._feedback = feedback
        self._pins = pins
        self._people = people
        self._clock = clock
        self._wall_clock = wall_clock

    async def answer(
        self, request: Request, claim: EventClaim | None = None, options: AnswerOptions | None = None
    ) -> None:
        started = self._clock()
        entry = LedgerEntry(
            request_id=request.request_id, team_id=request.scope.team_id, channel_id=request.scope.channel_id,
            user_id=request.user_id, surface=request.surface.value, task="unknown", outcome="failed",
        )
        if claim is not None:
            claim.start_heartbeat()
        try:
            entry = await self._answer(request, claim, options or AnswerOptions(), entry)
        except SlackApiError as exc:
            log.warning("assistant.slack_error", error=exc.response.get("error"), request_id=request.request_id)
        except Exception:
            log.exception("assistant.unexpected_error", request_id=request.request_id)
            await self._best_effort_notice(request, replies.UNEXPECTED_TEXT)
        finally:
            await self._ledger.close(replace(entry, latency_ms=int((self._clock() - started) * 1000)))
            if claim is not None:
                try:
                    await claim.finish()
                except RedisError:
                    log.error("event_claim.finish_failed", request_id=request.request_id)

    async def follow_up(self, request: Request, claim: EventClaim | None = None) -> None:
        """A plain thread reply: answer it only in a thread Penny joined (no ledger row otherwise: not a request)."""
        if self._threads is not None and await self._threads.joined(
            request.scope.team_id, request.scope.channel_id, request.thread_ts
        ):
            await self.answer(request, claim)
        elif claim is not None:
            await claim.finish()

    async def _answer(
        self, request: Request, claim: EventClaim | None, options: AnswerOptions, entry: LedgerEntry
    ) -> LedgerEntry:
        channel = request.scope.channel_id
        reuse_ts = options.reply_ts or (claim.previous_reply_ts if claim is not None else None)
        if request.is_empty:
            await self._post_or_update(channel, request.thread_ts, reuse_ts, replies.HELP_TEXT)
            return replace(entry, outcome="help", task="help")

        streamer = MessageStreamer(
            self._slack, channel, request.thread_ts,
            interval_s=self._settings.stream_interval_s, max_chars=self._settings.max_message_chars,
            clock=self._clock,
            budget=self._update_budget.for_team(request.scope.team_id) if self._update_budget else None,
        )
        placeholder_ts = await streamer.open(reuse_ts=reuse_ts)
        if claim is not None and reuse_ts is None:
            await claim.remember_reply(placeholder_ts)
        if self._threads is not None:
            await self._threads.join(request.scope.team_id, channel, request.thread_ts)
        try:
            return await self._answer_into(request, options, entry, streamer)
        except SlackApiError:
            raise
        except Exception:
            # The placeholder is ours to fix: replace it (and stop its flusher) rather than leave a dangling cursor.
            log.exception("assistant.unexpected_error", request_id=request.request_id)
            await streamer.fail(replies.UNEXPECTED_TEXT)
            return entry

    async def _answer_into(
        self, request: Request, options: AnswerOptions, entry: LedgerEntry, streamer: MessageStreamer
    ) -> LedgerEntry:
        channel = request.scope.channel_id
        notes: list[str] = []
        context_read = True
        try:
            context = await thread_messages(
                self._slack, channel, request.thread_ts, limit=self._settings.context_messages
            )
        except ContextUnavailable as exc:
            # The question is still answered, from the user's own words; the note says why the thread is missing.
            log.warning("assistant.context_unavailable", error=exc.reason, permission=exc.permission,
                        request_id=request.request_id)
            notes.append(replies.CONTEXT_NO_ACCESS_NOTE.format(reason=exc.reason) if exc.permission
                         else replies.CONTEXT_READ_FAILED_NOTE)
            context, context_read = [], False
        task, _ = classify_task(request.text, request.command)
        entry = replace(entry, task=task.value)
        names = asyncio.create_task(self._names(before(context, request.message_ts)))  # while we embed
        vector = await self._embed(request.text) if self._embed is not None else None
        pins = await self._select_pins(request, task, vector)
        messages = chat_messages(request.text, context, current_ts=request.message_ts, pins=pins.pins,
                                 names=await names)
        # An answer built without its thread must not be served (or stored) as if it had one.
        query = await self._cache_query(request, task, context, vector, pins.version) if context_read else None
        if options.evict_entry and self._cache is not None:
            await self._cache.evict(options.evict_entry)
        if query is not None and not options.bypass_cache and self._cache is not None:
            hit = await self._cache.lookup(query)
            if hit is not None:
                return await self._serve_cached(request, streamer, hit, messages, entry, vector)

        if self._feedback is not None:
            await self._feedback.before_routing(request.scope.team_id)
        plan = await self._routing.router.plan(RouteRequest(
            team_id=request.scope.team_id, channel_id=channel, user_id=request.user_id, text=request.text,
            messages=messages, command=request.command,
            prompt_vector=vector.tolist() if vector is not None else None,
        ))
        if isinstance(plan, Refusal):
            await streamer.fail(f":no_entry: {plan.message}")
            return replace(entry, outcome="refused")

        outcome: Outcome | None = None
        async for item in self._routing.generator.stream(plan):
            if isinstance(item, TextDelta):
                streamer.append(item.text)
            else:
                outcome = item
        assert outcome is not None, "the generator always ends with an Outcome"
        entry = _with_outcome(entry, outcome)
        if not outcome.ok:
            await streamer.fail(f":warning: {outcome.error_message or replies.MODEL_FAILED_TEXT}")
            return entry
        answer = streamer.text
        if outcome.cut_at_length:
            notes.append(replies.CUT_AT_LENGTH_NOTE)
        await streamer.finish(replies.with_notes(answer, [*outcome.notes, *notes]))  # outcome.notes has the plan's
        stored: str | None = None
        if query is not None and self._cache is not None and outcome.model is not None:
            stored = await self._cache.store(query, answer, model=outcome.model, tier=outcome.tier,
                                             source_ts=[m.ts for m in context] + pins.message_ts)
        entry = replace(entry, outcome="answered")
        await self._remember(request, streamer, entry, cache_entry=stored, vector=vector)
        return entry

    async def _select_pins(self, request: Request, task: TaskKind, vector: Any) -> PinSelection:
        if self._pins is None:
            return PinSelection()
        return await self._pins.select(request.scope.team_id, request.scope.channel_id, request.text, vector,
                                       explicit_only=task not in PIN_TASKS)

    async def _names(self, context: list[ContextMessage]) -> dict[str, str]:
        """Display names of the thread's authors and the people they mention ("what did Bob decide?")."""
        if self._people is None or not context:
            return {}
        ids = {m.user_id for m in context if not m.from_bot} | mentioned_ids(m.text for m in context)
        return await self._people.names(sorted(ids), max_lookups=CONTEXT_NAME_LOOKUPS)

    async def _cache_query(
        self, request: Request, task: TaskKind, context: list[ContextMessage], vector: Any, pins_version: str = ""
    ) -> CacheQuery | None:
        if self._cache is None or task not in CACHEABLE_TASKS:
            return None
        try:
            visibility = await self._channels.visibility(request.scope.team_id, request.scope.channel_id)
        except SlackApiError:
            visibility = Visibility.PRIVATE  # unknown → the most restrictive boundary
        # A question that opens a thread depends on nothing but itself, so it may reuse answers from any thread of
        # the channel; a follow-up depends on its thread, so the thread and its latest earlier message key it. The
        # pins version ("" when no pin was used) makes an answer built from a pin miss once that pin changes.
        earlier = [m.ts for m in before(context, request.message_ts)]
        pinned = (pins_version,) if pins_version else ()  # no pins: the same key as before pins existed
        fingerprint = context_fingerprint(request.thread_ts, earlier[-1], *pinned) if earlier else context_fingerprint(
            *pinned)
        thread_key = request.thread_ts if earlier else None
        return CacheQuery(
            scope=CacheScope(request.scope.team_id, request.scope.channel_id, visibility.value),
            task=task.value,  # type: ignore[arg-type]
            question=request.text, user_id=request.user_id, thread_ts=thread_key,
            context_fingerprint=fingerprint, vector=vector,
        )

    async def _serve_cached(
        self, request: Request, streamer: MessageStreamer, hit: CacheHit, messages: list[dict[str, str]],
        entry: LedgerEntry, vector: Any,
    ) -> LedgerEntry:
        label = replies.cache_label(hit.created_at, now=self._wall_clock())
        button = {"entry": hit.entry_id, "q": request.text[:1500], "thread": request.thread_ts,
                  "question_ts": request.message_ts}
        blocks = replies.cached_answer_blocks(hit.answer, label, button)
        await streamer.finish(f"{hit.answer}\n\n_{label}_", blocks=blocks)
        would_have = estimate_usage(messages, hit.answer)
        baseline = call_cost(self._catalog.baseline_model, would_have)
        log.info("assistant.cache_hit", kind=hit.kind, similarity=round(hit.similarity, 3), entry=hit.entry_id)
        entry = replace(entry, outcome="cache_hit", model=hit.model, tier=hit.tier, baseline_cost_usd=baseline,
                        estimated=True)
        await self._remember(request, streamer, entry, cache_entry=hit.entry_id, vector=vector)
        return entry

    async def _remember(
        self, request: Request, streamer: MessageStreamer, entry: LedgerEntry, *, cache_entry: str | None,
        vector: Any,
    ) -> None:
        """Map the reply's messages to this request, so 👍/👎 on them count as feedback (best-effort)."""
        if self._feedback is None:
            return
        await self._feedback.remember_answer(
            request_id=request.request_id, team_id=request.scope.team_id, channel_id=request.scope.channel_id,
            message_ts=streamer.message_ts, task=entry.task, model=entry.model, tier=entry.tier,
            outcome=entry.outcome, cache_entry=cache_entry, vector=vector, question=request.text,
        )

    async def _post_or_update(self, channel: str, thread_ts: str, reuse_ts: str | None, text: str) -> None:
        if reuse_ts:
            await self._slack.chat_update(channel=channel, ts=reuse_ts, text=text, blocks=[])
        else:
            await self._slack.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)

    async def _best_effort_notice(self, request: Request, text: str) -> None:
        try:
            await self._slack.chat_postMessage(channel=request.scope.channel_id, thread_ts=request.thread_ts, text=text)
        except SlackApiError:
            log.warning("assistant.notice_failed", request_id=request.request_id)


def _with_outcome(entry: LedgerEntry, outcome: Outcome) -> LedgerEntry:
    return replace(
        entry, model=outcome.model or "", tier=outcome.tier, prompt_tokens=outcome.prompt_tokens,
        completion_tokens=outcome.completion_tokens, cost_usd=outcome.cost, baseline_cost_usd=outcome.baseline_cost,
        estimated=outcome.estimated, attempts=len(outcome.attempts), task=outcome.task or entry.task,
    )
