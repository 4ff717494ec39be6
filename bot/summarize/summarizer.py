"""``/summarize``: a command in, a summary in Slack and exactly one ledger row out — a sibling of the assistant.

A sibling rather than a branch of the assistant because its shape differs: permissions come first (the
requester must be in the source conversation; a private source is never posted to a wider audience), the reply
may be ephemeral (``outputs.py``), and a long source takes several model calls (map-reduce, ``chunks.py``) whose
costs add up into one ledger row (``calls.py``). The request lifecycle itself — the row, the streaming, the
feedback memory — is the assistant's too (``bot/lifecycle.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog
from slack_sdk.errors import SlackApiError

from bot import replies
from bot.lifecycle import LedgerRow, Lifecycle
from bot.request import Request, SummarizeArgs, TargetKind, UsageError
from bot.slack.channels import ChannelDirectory
from bot.slack.conversations import ConversationReader, ConversationUnavailable, Messages
from bot.slack.people import PeopleDirectory, people_in
from bot.summarize.calls import ModelCalls, SummaryStopped
from bot.summarize.chunks import chunk_lines, group_for_reduce
from bot.summarize.outputs import ChannelOutput, EphemeralOutput, RespondFn, SummaryOutput, tell
from bot.summarize.prompts import map_prompt, overhead_messages, reduce_prompt, single_prompt
from bot.summarize.transcript import transcript_line
from routing.catalog import Catalog
from routing.factory import Routing
from routing.plan import Refusal, RefusalReason
from routing.spend.cost import estimate_prompt_tokens
from vocabulary import RequestOutcome, TaskKind, Visibility

log = structlog.get_logger(__name__)

MAX_NAME_LOOKUPS = 100  # per summary: beyond this, ids stay ids rather than costing hundreds of API calls
_CANT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})


@dataclass(frozen=True)
class SummarizerSettings:
    max_messages: int = 1000  # per summary: bounds cost; past it the reply says what was left out
    chunk_margin: float = 0.8  # chars/4 under-counts some text; leave room so every call really fits
    min_partial_tokens: int = 128
    # Map chunks stay below the router's "very long context" size (routing/classify.py), so each part of a long
    # channel is a medium summary on a standard model instead of a premium call: parts are cheaper, and smaller
    # parts lose less in the middle. Single-call summaries of short sources are unaffected.
    max_chunk_tokens: int = 12_000


@dataclass(frozen=True)
class SummarizerParts:
    """The summarizer's collaborators, built in ``bot/app.py`` and shared with the assistant."""

    lifecycle: Lifecycle
    reader: ConversationReader
    channels: ChannelDirectory
    people: PeopleDirectory
    routing: Routing
    catalog: Catalog


class Summarizer:
    def __init__(
        self, parts: SummarizerParts, settings: SummarizerSettings, *, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self._parts = parts
        self._lifecycle = parts.lifecycle
        self._settings = settings
        self._wall_clock = wall_clock

    async def summarize(self, request: Request, args: SummarizeArgs | UsageError, respond: RespondFn) -> None:
        """Handle one ``/summarize``; always writes exactly one ledger row, whatever happens."""
        async with self._lifecycle.open_row(request, task=TaskKind.SUMMARIZE) as row:
            try:
                await self._summarize(request, args, respond, row)
            except Exception:
                log.exception("summarizer.unexpected_error", request_id=request.request_id)
                await tell(respond, replies.UNEXPECTED_TEXT)
            entry = row.entry
            log.info(
                "summarizer.done",
                request_id=request.request_id,
                outcome=entry.outcome,
                cost=str(entry.cost_usd),
                attempts=entry.attempts,
            )

    async def _summarize(
        self, request: Request, args: SummarizeArgs | UsageError, respond: RespondFn, row: LedgerRow
    ) -> None:
        if isinstance(args, UsageError):
            await tell(respond, replies.usage_error(args))
            row.set(RequestOutcome.HELP)
            return
        policy = self._parts.catalog.policy
        if not (policy.channel_allowed(request.scope.channel_id) and policy.channel_allowed(args.channel_id)):
            # The allow-list covers what is read, not only where the command was typed.
            log.info("summarizer.channel_not_allowed", request_id=request.request_id, source=args.channel_id)
            await tell(respond, replies.refusal(Refusal(RefusalReason.CHANNEL_NOT_ALLOWED)))
            row.set(RequestOutcome.REFUSED)
            return
        try:
            if not await self._parts.reader.is_member(args.channel_id, request.user_id):
                log.info("summarizer.not_a_member", request_id=request.request_id, source=args.channel_id)
                await tell(respond, replies.SUMMARIZE_NOT_MEMBER_TEXT)
                row.set(RequestOutcome.REFUSED)
                return
            found = await self._read(args)
        except ConversationUnavailable as exc:
            log.warning(
                "summarizer.source_unavailable",
                request_id=request.request_id,
                error=exc.reason,
                permission=exc.permission,
            )
            if exc.permission:
                await tell(respond, replies.SUMMARIZE_CANT_READ_TEXT.format(reason=exc.reason))
                row.set(RequestOutcome.REFUSED)
            else:
                await tell(respond, replies.SUMMARIZE_READ_FAILED_TEXT)
            return
        what = await self._describe(request, args)
        if not found.messages:
            await tell(respond, replies.SUMMARIZE_NOTHING_TEXT.format(what=what, window=args.window_label))
            row.set(RequestOutcome.HELP)
            return
        output = await self._open_output(request, args, respond, what)
        calls = ModelCalls(self._parts.routing, self._lifecycle, request, row)
        try:
            await self._write(request, args, found, what, calls, output, row)
        except SummaryStopped as stop:
            await output.fail(stop.message)
            row.set(stop.outcome)
        except Exception:
            log.exception("summarizer.unexpected_error", request_id=request.request_id)
            await output.fail(replies.UNEXPECTED_TEXT)

    async def _write(
        self,
        request: Request,
        args: SummarizeArgs,
        found: Messages,
        what: str,
        calls: ModelCalls,
        output: SummaryOutput,
        row: LedgerRow,
    ) -> None:
        names = await self._parts.people.names(people_in(found.messages), max_lookups=MAX_NAME_LOOKUPS)
        lines = [transcript_line(m, names) for m in found.messages]
        header = replies.summary_header(
            what, len(found.messages), None if args.kind is TargetKind.THREAD else args.window_label
        )
        answer = await self._map_reduce(lines, what, calls, output, header)
        notes = [replies.plan_note(note) for note in (calls.plan.notes if calls.plan else [])]
        if found.truncated:
            notes.append(replies.SUMMARIZE_TRUNCATED_NOTE.format(limit=self._settings.max_messages))
        if calls.cut_at_length:
            notes.append(replies.CUT_AT_LENGTH_NOTE)
        await output.finish(replies.with_notes(f"{header}\n\n{answer}", notes))
        row.set(RequestOutcome.ANSWERED)
        posted = output.posted()
        if posted is not None:  # 👍/👎 on a posted summary count for the model that wrote it
            channel, message_ts = posted
            await self._lifecycle.remember(request, row, channel_id=channel, message_ts=message_ts)

    async def _read(self, args: SummarizeArgs) -> Messages:
        limit = self._settings.max_messages
        reader = self._parts.reader
        if args.kind is TargetKind.THREAD:
            assert args.thread_ts is not None
            return await reader.thread(args.channel_id, args.thread_ts, limit=limit, conversation_only=True)
        return await reader.history(args.channel_id, oldest=self._wall_clock() - args.window_s, limit=limit)

    async def _describe(self, request: Request, args: SummarizeArgs) -> str:
        if args.kind is TargetKind.THREAD:
            return "this thread" if args.channel_id == request.scope.channel_id else "a thread"
        if args.channel_id == request.scope.channel_id:
            return "this channel"
        name = await self._parts.channels.name(request.scope.team_id, args.channel_id)
        return f"#{name}" if name else "that channel"

    async def _may_post_here(self, request: Request, args: SummarizeArgs) -> bool:
        """Never widen the audience: another conversation's summary is posted only public → public."""
        if args.channel_id == request.scope.channel_id:
            return True
        team, channels = request.scope.team_id, self._parts.channels
        try:
            source = await channels.visibility(team, args.channel_id)
            here = await channels.visibility(team, request.scope.channel_id)
        except SlackApiError:
            return False  # unknown visibility: the most restrictive choice
        return source is Visibility.PUBLIC and here is Visibility.PUBLIC

    async def _open_output(self, request: Request, args: SummarizeArgs, respond: RespondFn, what: str) -> SummaryOutput:
        if await self._may_post_here(request, args):
            same_thread = args.kind is TargetKind.THREAD and args.channel_id == request.scope.channel_id
            channel = request.scope.channel_id
            streamer = self._lifecycle.streamer(request, channel, args.thread_ts if same_thread else None)
            try:
                await streamer.open(replies.PLACEHOLDER_TEXT)
                return ChannelOutput(streamer, channel)
            except SlackApiError as exc:
                error = str(exc.response.get("error", ""))
                if error not in _CANT_POST:
                    raise
                log.info("summarizer.cannot_post_here", request_id=request.request_id, error=error)
        else:
            log.info("summarizer.private_source", request_id=request.request_id, source=args.channel_id)
        await tell(respond, replies.SUMMARIZE_STARTED_PRIVATE_TEXT.format(what=what))
        return EphemeralOutput(respond)

    def _chunk_budget(self, answer_tokens: int, what: str) -> int:
        """Transcript tokens per call: the narrowest catalog model must read any chunk, with room to answer.

        The narrowest rather than the chosen model, so that every fallback in the chain can read every chunk; and
        never more than ``max_chunk_tokens``, which keeps a map-reduce summary off the premium tier.
        """
        window = min(model.context_window for model in self._parts.catalog.models)
        overhead = estimate_prompt_tokens(overhead_messages(what))
        budget = min(
            int((window - answer_tokens - overhead) * self._settings.chunk_margin), self._settings.max_chunk_tokens
        )
        if budget < 4 * self._settings.min_partial_tokens:  # a catalog no summary can fit: say so
            raise SummaryStopped(replies.UNEXPECTED_TEXT, RequestOutcome.FAILED)
        return budget

    async def _map_reduce(
        self, lines: Sequence[str], what: str, calls: ModelCalls, output: SummaryOutput, header: str
    ) -> str:
        answer_tokens = self._parts.catalog.policy.answer_tokens
        budget = self._chunk_budget(answer_tokens, what)
        # Partials stay small so that several fit one reduce call; the recursion then always shrinks.
        partial_tokens = max(self._settings.min_partial_tokens, min(answer_tokens, budget // 4))
        chunks = chunk_lines(lines, budget)
        if len(chunks) == 1:
            output.append(f"{header}\n\n")
            return await calls.run(single_prompt(chunks[0], what), answer_tokens, output.append)
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
                return await calls.run(reduce_prompt(groups[0], what, final=True), answer_tokens, output.append)
            partials = [await calls.run(reduce_prompt(group, what, final=False), partial_tokens) for group in groups]
