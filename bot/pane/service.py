"""The assistant pane as a Penny surface: greet a new thread, follow the channel the user looks at, answer.

Slack opens a pane thread in the user's DM with Penny (``assistant_thread_started``) and says which channel the
user is viewing, then again whenever that changes (``assistant_thread_context_changed``). That state lives in
Redis (30 days, so every replica sees it). A message in the thread is an ordinary request for the assistant
(same router, cache, ledger; "is thinking…" shows while it works), except "summarize this channel" and "what did
I miss today?", which go to the summarizer for the channel being viewed, under ``/summarize``'s rules: only a
member of that channel gets its summary. A DM thread Slack did not open as a pane thread is a plain DM request.
"""

from __future__ import annotations

import re

import redis.asyncio as aioredis
import structlog

from bot import replies
from bot.assistant.orchestrator import Assistant
from bot.redis.keys import pane_thread_key
from bot.request import PaneThread, Request, SummarizeArgs, Surface, TargetKind
from bot.slack.event_claims import EventClaim
from bot.slack.pane import PaneApi
from bot.summarize.summarizer import Summarizer

log = structlog.get_logger(__name__)

PANE_TTL_S = 30 * 86400
_SUMMARIZE_VIEWED = re.compile(
    r"\b(summari[sz]e|summary|recap|tl;?dr)\b.*\b(this|the|current|that)\s+(channel|conversation)\b"
    r"|\bwhat\s+(did\s+i|have\s+i|i)\s+miss(ed)?\b",
    re.IGNORECASE,
)


def asks_for_viewed_channel(text: str) -> bool:
    """ "Summarize this channel", "what did I miss today?": about the channel the user is looking at."""
    return bool(_SUMMARIZE_VIEWED.search(text))


class PaneService:
    def __init__(self, redis: aioredis.Redis, api: PaneApi, assistant: Assistant, summarizer: Summarizer) -> None:
        self._redis = redis
        self._api = api
        self._assistant = assistant
        self._summarizer = summarizer

    async def started(self, thread: PaneThread) -> None:
        """Remember the thread and what the user looks at; greet; suggest what to ask."""
        await self._save(thread, new=True)
        await self._api.say(thread.channel_id, thread.thread_ts, replies.PANE_GREETING)
        prompts = [replies.PANE_PROMPT_SUMMARIZE, replies.PANE_PROMPT_MISSED] if thread.context_channel_id else []
        prompts.append(replies.PANE_PROMPT_DRAFT)
        await self._api.suggest(thread.channel_id, thread.thread_ts, replies.PANE_PROMPTS_TITLE, prompts)

    async def context_changed(self, thread: PaneThread) -> None:
        await self._save(thread, new=False)

    async def message(self, request: Request, claim: EventClaim | None = None) -> None:
        scope = request.scope
        key = pane_thread_key(scope.team_id, scope.channel_id, request.thread_ts)
        state = {_text(k): _text(v) for k, v in (await self._redis.hgetall(key)).items()}
        if not state:  # a thread in Penny's DM that Slack did not open as a pane thread
            await self._assistant.direct(_as(request, Surface.DM), claim)
            return
        if not state.get("titled"):
            await self._redis.hset(key, "titled", "1")
            await self._api.set_title(scope.channel_id, request.thread_ts, replies.pane_title(request.text))
        if not asks_for_viewed_channel(request.text):
            await self._assistant.direct(request, claim)
            return
        if claim is not None:
            claim.start_heartbeat()  # a long channel takes several model calls
        try:
            viewing = state.get("viewing", "")
            if not viewing or viewing == scope.channel_id:
                await self._api.say(scope.channel_id, request.thread_ts, replies.PANE_NO_CHANNEL_TEXT)
                return
            await self._api.set_status(scope.channel_id, request.thread_ts, replies.PANE_STATUS_SUMMARIZING)
            try:
                args = SummarizeArgs(TargetKind.CHANNEL, viewing)
                await self._summarizer.summarize_in_thread(_as(request, Surface.PANE, command="/summarize"), args)
            finally:
                await self._api.set_status(scope.channel_id, request.thread_ts, "")
        finally:
            if claim is not None:
                await claim.finish()

    async def _save(self, thread: PaneThread, *, new: bool) -> None:
        key = pane_thread_key(thread.team_id, thread.channel_id, thread.thread_ts)
        mapping = {"user": thread.user_id, "viewing": thread.context_channel_id or ""}
        async with self._redis.pipeline(transaction=True) as pipe:
            if new:
                pipe.delete(key)
            pipe.hset(key, mapping=mapping)  # type: ignore[arg-type]
            pipe.expire(key, PANE_TTL_S)
            await pipe.execute()
        log.info("pane.thread", new=new, viewing=bool(thread.context_channel_id))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _as(request: Request, surface: Surface, *, command: str | None = None) -> Request:
    return Request(
        request_id=request.request_id,
        surface=surface,
        scope=request.scope,
        user_id=request.user_id,
        text=request.text,
        thread_ts=request.thread_ts,
        message_ts=request.message_ts,
        command=command if command is not None else request.command,
    )
