"""The assistant: a ``Request`` in, a streamed Slack reply and exactly one ledger row out.

The steps, in order:

0. **show** — post the placeholder (or adopt the one a crashed worker left) before any CPU or model work;
1. **context** — the thread, names, pins and the question's one embedding (``context.py``);
2. **cache** — the same vector looks for a near-duplicate answer in this privacy boundary (``cached_answers.py``);
3. **route** — the router picks a tier and a model chain, or refuses with a reason;
4. **generate** — stream the answer into the placeholder; the call's cost is on the ledger row at once;
5. **show** — the final text, with notes (trimmed thread, budget, cut short, unreadable thread);
6. **record** — best-effort after delivery: cache the answer, map its messages for 👍/👎. The ledger row is written
   when the request ends, whatever happened; the event claim is finished last, so a crash anywhere before leaves
   the event retryable (and the retry reuses the placeholder, never doubling the reply).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from redis.exceptions import RedisError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import replies
from bot.assistant.cached_answers import AnswerCache
from bot.assistant.context import ContextGatherer, Gathered
from bot.assistant.drafts import Drafts
from bot.assistant.fresh_answers import FreshAnswerRecord, FreshAnswers
from bot.assistant.joined_threads import JoinedThreads
from bot.assistant.manners import FollowUps, Verdict, decide, is_acknowledgement
from bot.assistant.outputs import DraftOutput, ReplyOutput, private_draft
from bot.lifecycle import LedgerRow, Lifecycle
from bot.request import AnswerOptions, ButtonClick, Request, Scope, Surface
from bot.slack.blocks import CacheNote
from bot.slack.event_claims import EventClaim
from bot.slack.pane import PaneApi
from cache.values import CacheHit, CacheQuery
from routing.catalog import ModelSpec
from routing.classify import classify_task
from routing.factory import Routing
from routing.plan import Refusal
from routing.router import RouteRequest
from routing.spend.cost import call_cost, estimate_usage
from vocabulary import RequestOutcome, TaskKind

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class AssistantParts:
    """The assistant's collaborators, each built (or replaced by a null object) in ``bot/app.py``."""

    slack: AsyncWebClient
    lifecycle: Lifecycle
    context: ContextGatherer
    answers: AnswerCache
    routing: Routing
    threads: JoinedThreads
    baseline_model: ModelSpec  # what a cache hit would have cost without the cache
    drafts: Drafts
    fresh: FreshAnswers
    pane: PaneApi
    follow_ups: FollowUps = FollowUps.ADDRESSED


class Assistant:
    """Answers requests; owns no Slack payload parsing (handlers) and no provider logic (routing)."""

    def __init__(self, parts: AssistantParts, *, wall_clock: Callable[[], float] = time.time) -> None:
        self._parts = parts
        self._lifecycle = parts.lifecycle
        self._wall_clock = wall_clock

    async def answer(
        self, request: Request, claim: EventClaim | None = None, options: AnswerOptions | None = None
    ) -> None:
        if claim is not None:
            claim.start_heartbeat()
        try:
            async with self._lifecycle.open_row(request) as row, self._working(request):
                try:
                    await self._answer(request, claim, options or AnswerOptions(), row)
                except SlackApiError as exc:
                    log.warning("assistant.slack_error", error=exc.response.get("error"), request_id=request.request_id)
                except Exception:
                    log.exception("assistant.unexpected_error", request_id=request.request_id)
                    await self._best_effort_notice(request, replies.UNEXPECTED_TEXT)
        finally:
            if claim is not None:
                try:
                    await claim.finish()
                except RedisError:
                    log.error("event_claim.finish_failed", request_id=request.request_id)

    async def follow_up(self, request: Request, claim: EventClaim | None = None) -> None:
        """A plain thread reply: answered only in a thread Penny joined, and there only when it is addressed to
        Penny (``manners.py``); nothing else gets a ledger row, since it was not a request."""
        scope, threads = request.scope, self._parts.threads
        state = await threads.state(scope.team_id, scope.channel_id, request.thread_ts)
        verdict = Verdict.IGNORE
        if state is not None:
            verdict = decide(self._parts.follow_ups, author=request.user_id, text=request.text, state=state)
            await threads.saw(scope.team_id, scope.channel_id, request.thread_ts, request.user_id)
            log.info("assistant.follow_up", verdict=verdict.value, request_id=request.request_id)
        if verdict is Verdict.ANSWER:
            await self.answer(request, claim)
        elif claim is not None:
            await claim.finish()

    async def direct(self, request: Request, claim: EventClaim | None = None) -> None:
        """A message in Penny's DM or the assistant pane: a request, unless it only says thanks."""
        if is_acknowledgement(request.text) and not request.is_empty:
            log.info("assistant.acknowledgement", request_id=request.request_id)
            if claim is not None:
                await claim.finish()
            return
        await self.answer(request, claim)

    async def refresh(self, click: ButtonClick, respond: Any) -> None:
        """**Fresh answer**: re-ask the stored question bypassing the cache, replacing the cached reply in place."""
        record = await self._parts.fresh.lookup(click.team_id, click.key)
        if record is None or record.channel_id != click.channel_id:
            log.info("assistant.fresh_answer_unknown", channel_id=click.channel_id)
            with contextlib.suppress(Exception):
                await respond(text=replies.FRESH_EXPIRED_TEXT, response_type="ephemeral", replace_original=False)
            return
        request = Request(
            request_id=f"action-{click.click_id}",
            surface=Surface.ACTION,
            scope=Scope(team_id=click.team_id, channel_id=click.channel_id),
            user_id=click.user_id,
            text=record.question,
            thread_ts=record.thread_ts,
            message_ts=record.question_ts,
        )
        options = AnswerOptions(bypass_cache=True, reply_ts=click.message_ts, evict_entry=record.entry_id or None)
        await self.answer(request, None, options)

    @contextlib.asynccontextmanager
    async def _working(self, request: Request) -> AsyncIterator[None]:
        """In the assistant pane, "is thinking…" shows while Penny works and is cleared when it is done."""
        if request.surface is not Surface.PANE:
            yield
            return
        pane, channel = self._parts.pane, request.scope.channel_id
        await pane.set_status(channel, request.thread_ts, replies.PANE_STATUS)
        try:
            yield
        finally:
            await pane.set_status(channel, request.thread_ts, "")

    async def _answer(self, request: Request, claim: EventClaim | None, options: AnswerOptions, row: LedgerRow) -> None:
        channel = request.scope.channel_id
        reuse_ts = options.reply_ts or (claim.previous_reply_ts if claim is not None else None)
        if request.is_empty:
            await self._post_or_update(channel, request.thread_ts, reuse_ts, replies.HELP_TEXT)
            row.set(RequestOutcome.HELP)
            return
        task, _ = classify_task(request.text, request.command)  # sub-millisecond: it decides where the reply goes
        output: ReplyOutput
        if private_draft(request, task):
            draft = DraftOutput(self._parts.drafts, request)
            await draft.open()
            output = draft
        else:
            streamer = self._lifecycle.streamer(request, channel, request.thread_ts)
            placeholder_ts = await streamer.open(replies.PLACEHOLDER_TEXT, reuse_ts=reuse_ts, defer_when_busy=True)
            if claim is not None and reuse_ts is None and placeholder_ts:  # "": deferred, the answer posts whole
                await claim.remember_reply(placeholder_ts)
            if not request.surface.private:
                await self._parts.threads.join(request.scope.team_id, channel, request.thread_ts, asker=request.user_id)
            output = streamer
        try:
            await self._respond(request, options, row, output, task)
        except SlackApiError:
            raise
        except Exception:
            # The placeholder is ours to fix: replace it (and stop its flusher) rather than leave a dangling cursor.
            log.exception("assistant.unexpected_error", request_id=request.request_id)
            await output.fail(replies.UNEXPECTED_TEXT)

    async def _respond(
        self, request: Request, options: AnswerOptions, row: LedgerRow, streamer: ReplyOutput, task: TaskKind
    ) -> None:
        parts = self._parts
        row.set(RequestOutcome.FAILED, task=task)
        gathered = await parts.context.gather(request, task)
        query = await parts.answers.query(request, task, gathered)
        if options.evict_entry:
            await parts.answers.evict(options.evict_entry)
        hit = None if options.bypass_cache else await parts.answers.lookup(query)
        if hit is not None:
            await self._serve_cached(request, streamer, hit, gathered, row)
            return

        await self._lifecycle.before_routing(request.scope.team_id)
        plan = await parts.routing.router.plan(
            RouteRequest(
                team_id=request.scope.team_id,
                channel_id=request.scope.channel_id,
                user_id=request.user_id,
                text=request.text,
                messages=gathered.messages,
                command=request.command,
                prompt_vector=gathered.vector,
                grounded=gathered.grounded(request.message_ts),
            )
        )
        if isinstance(plan, Refusal):
            await streamer.fail(replies.refusal(plan))
            row.set(RequestOutcome.REFUSED)
            return
        generation = await self._lifecycle.generate(plan, row, streamer.append)
        if not generation.ok and not generation.partial:
            await streamer.fail(replies.model_failed(generation))
            return
        notes = [replies.plan_note(note) for note in plan.notes] + gathered.notes
        cut_short = replies.cut_short_note(generation)
        if cut_short:
            notes.append(cut_short)  # words the user has seen stay; the note says they are not all
        answer = streamer.text
        await streamer.finish(replies.with_notes(answer, notes))
        row.set(RequestOutcome.ANSWERED if streamer.delivered else RequestOutcome.FAILED)
        if generation.ok and streamer.delivered:
            await self._after_delivery(request, row, streamer, query, gathered, answer=answer, model=generation.model)
        else:
            await self._remember(request, row, streamer, gathered)

    async def _after_delivery(
        self,
        request: Request,
        row: LedgerRow,
        streamer: ReplyOutput,
        query: CacheQuery | None,
        gathered: Gathered,
        *,
        answer: str,
        model: str | None,
    ) -> None:
        """Cache the answer and map its messages: best-effort, never a reason to touch the delivered reply."""
        stored: str | None = None
        try:
            if model is not None and row.entry.tier is not None:
                stored = await self._parts.answers.store(
                    query, answer, model=model, tier=row.entry.tier, source_ts=gathered.source_ts
                )
        except Exception:
            log.warning("assistant.cache_store_failed", request_id=request.request_id, exc_info=True)
        await self._remember(request, row, streamer, gathered, cache_entry=stored)

    async def _remember(
        self,
        request: Request,
        row: LedgerRow,
        streamer: ReplyOutput,
        gathered: Gathered,
        *,
        cache_entry: str | None = None,
    ) -> None:
        await self._lifecycle.remember(
            request,
            row,
            channel_id=request.scope.channel_id,
            message_ts=streamer.message_ts,
            cache_entry=cache_entry,
            vector=gathered.vector,
        )

    async def _serve_cached(
        self, request: Request, streamer: ReplyOutput, hit: CacheHit, gathered: Gathered, row: LedgerRow
    ) -> None:
        label = replies.cache_label(hit.created_at, now=self._wall_clock())
        record = FreshAnswerRecord(
            channel_id=request.scope.channel_id,
            question=request.text,
            thread_ts=request.thread_ts,
            question_ts=request.message_ts,
            entry_id=hit.entry_id,
        )
        key = await self._parts.fresh.remember(request.scope.team_id, record)
        await streamer.finish(replies.with_notes(hit.answer, [label]), note=CacheNote(key))
        would_have = estimate_usage(gathered.messages, hit.answer)
        row.served_from_cache(
            model=hit.model, tier=hit.tier, baseline_cost=call_cost(self._parts.baseline_model, would_have)
        )
        log.info("assistant.cache_hit", kind=hit.kind, similarity=round(hit.similarity, 3), entry=hit.entry_id)
        await self._remember(request, row, streamer, gathered, cache_entry=hit.entry_id)

    async def _post_or_update(self, channel: str, thread_ts: str, reuse_ts: str | None, text: str) -> None:
        slack = self._parts.slack
        if reuse_ts:
            await slack.chat_update(channel=channel, ts=reuse_ts, text=text, blocks=[])
        else:
            await slack.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)

    async def _best_effort_notice(self, request: Request, text: str) -> None:
        try:
            await self._parts.slack.chat_postMessage(
                channel=request.scope.channel_id, thread_ts=request.thread_ts, text=text
            )
        except SlackApiError:
            log.warning("assistant.notice_failed", request_id=request.request_id)
