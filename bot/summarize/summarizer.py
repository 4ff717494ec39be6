"""``/summarize``: a command in, a summary in Slack and exactly one ledger row out — a sibling of the assistant.

A sibling rather than a branch of the assistant because its shape differs: permissions come first (the
requester must be in the source conversation; a private source is never posted to a wider audience), the reply
may be ephemeral (``outputs.py``), and a long source takes several model calls (map-reduce, ``mapreduce.py``,
whose partial summaries are reused by later summaries of the same messages) whose costs add up into one ledger
row (``calls.py``), which also says how many parts were reused and what that saved. The request lifecycle
itself — the row, the streaming, the feedback memory — is the assistant's too (``bot/lifecycle.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import replies
from bot.lifecycle import LedgerRow, Lifecycle
from bot.request import Request, SummarizeArgs, TargetKind, UsageError
from bot.slack.channels import ChannelDirectory
from bot.slack.conversations import ConversationReader, ConversationUnavailable, Messages
from bot.slack.people import PeopleDirectory, people_in
from bot.summarize.calls import ModelCalls, SummaryStopped
from bot.summarize.mapreduce import MapReduce, MapReduceSettings, Source
from bot.summarize.outputs import (
    ChannelOutput,
    EphemeralOutput,
    PrivateReplies,
    Replies,
    RespondFn,
    SummaryOutput,
    ThreadReplies,
    tell,
)
from bot.summarize.partials import NoPartials, PartialSummaries
from bot.summarize.transcript import transcript_lines, without_summaries
from routing.catalog import Catalog
from routing.factory import Routing
from routing.plan import Refusal, RefusalReason
from vocabulary import RequestOutcome, TaskKind, Visibility

log = structlog.get_logger(__name__)

MAX_NAME_LOOKUPS = 100  # per summary: beyond this, ids stay ids rather than costing hundreds of API calls
_CANT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})


@dataclass(frozen=True)
class SummarizerSettings:
    max_messages: int = 1000  # per summary: bounds cost; past it the reply says what was left out
    map_reduce: MapReduceSettings = field(default_factory=MapReduceSettings)


@dataclass(frozen=True)
class SummarizerParts:
    """The summarizer's collaborators, built in ``bot/app.py`` and shared with the assistant."""

    lifecycle: Lifecycle
    reader: ConversationReader
    channels: ChannelDirectory
    people: PeopleDirectory
    routing: Routing
    catalog: Catalog
    slack: AsyncWebClient
    partials: PartialSummaries = field(default_factory=NoPartials)


class _CommandReplies:
    """``/summarize``'s replies: in this conversation when that never widens the source's audience, else private."""

    def __init__(self, summarizer: Summarizer, request: Request, args: SummarizeArgs, respond: RespondFn) -> None:
        self._summarizer = summarizer
        self._request = request
        self._args = args
        self._respond = respond

    async def tell(self, text: str) -> None:
        await tell(self._respond, text)

    async def open(self, what: str) -> SummaryOutput:
        return await self._summarizer._open_output(self._request, self._args, self._respond, what)


class Summarizer:
    def __init__(
        self, parts: SummarizerParts, settings: SummarizerSettings, *, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self._parts = parts
        self._lifecycle = parts.lifecycle
        self._settings = settings
        self._wall_clock = wall_clock
        self._map_reduce = MapReduce(parts.catalog, parts.partials, settings.map_reduce)

    async def summarize(self, request: Request, args: SummarizeArgs | UsageError, respond: RespondFn) -> None:
        """Handle one ``/summarize``; always writes exactly one ledger row, whatever happens."""
        if isinstance(args, UsageError):
            await self._run(request, args, PrivateReplies(respond))
        else:
            await self._run(request, args, _CommandReplies(self, request, args, respond))

    async def summarize_privately(self, request: Request, args: SummarizeArgs, respond: RespondFn) -> None:
        """The "Summarize this thread" shortcut: the same rules, and only the requester ever sees the result."""
        await self._run(request, args, PrivateReplies(respond))

    async def summarize_in_thread(self, request: Request, args: SummarizeArgs) -> None:
        """The assistant pane: the summary streams into the pane's thread (the requester's own DM with Penny).

        The membership rule is the command's: only a member of the source may have it summarized. Posting it in
        the requester's DM never widens its audience, since the requester may read the source.
        """
        channel, thread = request.scope.channel_id, request.thread_ts

        async def post(text: str) -> object:
            return await self._parts.slack.chat_postMessage(channel=channel, thread_ts=thread, text=text)

        await self._run(
            request, args, ThreadReplies(post, lambda: self._lifecycle.streamer(request, channel, thread), channel)
        )

    async def _run(self, request: Request, args: SummarizeArgs | UsageError, reply: Replies) -> None:
        async with self._lifecycle.open_row(request, task=TaskKind.SUMMARIZE) as row:
            try:
                await self._summarize(request, args, reply, row)
            except Exception:
                log.exception("summarizer.unexpected_error", request_id=request.request_id)
                await reply.tell(replies.UNEXPECTED_TEXT)
            entry = row.entry
            log.info(
                "summarizer.done",
                request_id=request.request_id,
                outcome=entry.outcome,
                cost=str(entry.cost_usd),
                attempts=entry.attempts,
                chunks_reused=entry.chunks_reused,
            )

    async def _summarize(
        self, request: Request, args: SummarizeArgs | UsageError, reply: Replies, row: LedgerRow
    ) -> None:
        if isinstance(args, UsageError):
            await reply.tell(replies.usage_error(args))
            row.set(RequestOutcome.HELP)
            return
        policy = self._parts.catalog.policy
        if not (policy.channel_allowed(request.scope.channel_id) and policy.channel_allowed(args.channel_id)):
            # The allow-list covers what is read, not only where the command was typed.
            log.info("summarizer.channel_not_allowed", request_id=request.request_id, source=args.channel_id)
            await reply.tell(replies.refusal(Refusal(RefusalReason.CHANNEL_NOT_ALLOWED)))
            row.set(RequestOutcome.REFUSED)
            return
        try:
            if not await self._parts.reader.is_member(args.channel_id, request.user_id):
                log.info("summarizer.not_a_member", request_id=request.request_id, source=args.channel_id)
                await reply.tell(replies.SUMMARIZE_NOT_MEMBER_TEXT)
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
                await reply.tell(replies.SUMMARIZE_CANT_READ_TEXT.format(reason=exc.reason))
                row.set(RequestOutcome.REFUSED)
            else:
                await reply.tell(replies.SUMMARIZE_READ_FAILED_TEXT)
            return
        what = await self._describe(request, args)
        found = Messages(without_summaries(found.messages), found.truncated)
        if not found.messages:
            await reply.tell(replies.SUMMARIZE_NOTHING_TEXT.format(what=what, window=args.window_label))
            row.set(RequestOutcome.HELP)
            return
        output = await reply.open(what)
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
        source = Source(request.scope.team_id, args.channel_id, transcript_lines(found.messages, names), what)
        header = replies.summary_header(
            what, len(found.messages), None if args.kind is TargetKind.THREAD else args.window_label
        )
        summary = await self._map_reduce.summarize(source, calls, output, header)
        answer = summary.text
        notes = [replies.plan_note(note) for note in (calls.plan.notes if calls.plan else [])]
        if found.truncated:
            notes.append(replies.SUMMARIZE_TRUNCATED_NOTE.format(limit=self._settings.max_messages))
        if calls.cut_short:
            notes.append(calls.cut_short)
        await output.finish(replies.with_notes(f"{header}\n\n{answer}", notes))
        row.set(RequestOutcome.ANSWERED)
        if summary.reuse is not None:
            reuse = summary.reuse
            row.reused(
                chunks=reuse.chunks,
                reused=reuse.reused,
                saved=reuse.saved,
                saved_ms=reuse.saved_ms,
                baseline=reuse.baseline,
            )
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
