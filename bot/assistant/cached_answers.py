"""Step 1 of an answer: the semantic cache as the assistant uses it — which requests may be cached, under which
key, and within which privacy boundary.

``cache/`` knows nothing of Slack, so the Slack facts that decide a key are gathered here: the channel's
visibility (from ``conversations.info``, never the id prefix; unknown means private), the thread and its latest
earlier message, and the pins an answer used. ``NoCachedAnswers`` stands in when ``PENNY_CACHE_ENABLED=false``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from slack_sdk.errors import SlackApiError

from bot.assistant.context import Gathered
from bot.observability import observe_cache_lookup
from bot.request import Request
from bot.slack.channels import ChannelDirectory
from cache.semantic import SemanticCache
from cache.values import CacheHit, CacheQuery, CacheScope, context_fingerprint
from vocabulary import TaskKind, Tier, Visibility

CACHEABLE_TASKS = frozenset({TaskKind.QA, TaskKind.CHAT, TaskKind.SUMMARIZE})


class AnswerCache(Protocol):
    async def query(self, request: Request, task: TaskKind, gathered: Gathered) -> CacheQuery | None: ...

    async def lookup(self, query: CacheQuery | None) -> CacheHit | None: ...

    async def store(
        self, query: CacheQuery | None, answer: str, *, model: str, tier: Tier, source_ts: Sequence[str]
    ) -> str | None: ...

    async def evict(self, entry_id: str) -> None: ...

    async def evict_by_source(self, team_id: str, channel_id: str, ts: str) -> int: ...


class NoCachedAnswers:
    """The cache switched off: nothing is looked up, stored or evicted."""

    async def query(self, request: Request, task: TaskKind, gathered: Gathered) -> CacheQuery | None:
        return None

    async def lookup(self, query: CacheQuery | None) -> CacheHit | None:
        return None

    async def store(
        self, query: CacheQuery | None, answer: str, *, model: str, tier: Tier, source_ts: Sequence[str]
    ) -> str | None:
        return None

    async def evict(self, entry_id: str) -> None:
        return None

    async def evict_by_source(self, team_id: str, channel_id: str, ts: str) -> int:
        return 0


class CachedAnswers:
    def __init__(self, cache: SemanticCache, channels: ChannelDirectory) -> None:
        self._cache = cache
        self._channels = channels

    async def query(self, request: Request, task: TaskKind, gathered: Gathered) -> CacheQuery | None:
        """The request as the cache sees it, or None when it must not be cached (task, unread thread)."""
        if task not in CACHEABLE_TASKS or not gathered.thread_read:
            return None  # an answer built without its thread must not be served (or stored) as if it had one
        try:
            visibility = await self._channels.visibility(request.scope.team_id, request.scope.channel_id)
        except SlackApiError:
            visibility = Visibility.PRIVATE  # unknown → the most restrictive boundary
        # A question that opens a thread depends on nothing but itself, so it may reuse answers from any thread of
        # the channel; a follow-up depends on its thread, so the thread and its latest earlier message key it. The
        # pins version ("" when no pin was used) makes an answer built from a pin miss once that pin changes.
        earlier = [m.ts for m in gathered.earlier(request.message_ts)]
        pinned = (gathered.pins.version,) if gathered.pins.version else ()
        fingerprint = (
            context_fingerprint(request.thread_ts, earlier[-1], *pinned) if earlier else context_fingerprint(*pinned)
        )
        return CacheQuery(
            scope=CacheScope(request.scope.team_id, request.scope.channel_id, visibility),
            task=task,
            question=request.text,
            user_id=request.user_id,
            thread_ts=request.thread_ts if earlier else None,
            context_fingerprint=fingerprint,
            vector=gathered.vector,
        )

    async def lookup(self, query: CacheQuery | None) -> CacheHit | None:
        if query is None:
            return None
        hit = await self._cache.lookup(query)
        observe_cache_lookup(hit.kind if hit is not None else None)
        return hit

    async def store(
        self, query: CacheQuery | None, answer: str, *, model: str, tier: Tier, source_ts: Sequence[str]
    ) -> str | None:
        if query is None:
            return None
        return await self._cache.store(query, answer, model=model, tier=tier, source_ts=source_ts)

    async def evict(self, entry_id: str) -> None:
        await self._cache.evict(entry_id)

    async def evict_by_source(self, team_id: str, channel_id: str, ts: str) -> int:
        return await self._cache.evict_by_source(team_id, channel_id, ts)
