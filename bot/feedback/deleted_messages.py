"""A deleted message takes the cached answers it touched with it: those built from it (a question, a thread
message, a pin: its ts is one of the entry's sources) and the one it shows — when it is one of Penny's replies,
found through the message→request map, so an admin deleting a bad or leaky answer removes it from the cache too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from redis.exceptions import RedisError

from bot.feedback.answer_map import AnswerMap

log = structlog.get_logger(__name__)

EvictBySource = Callable[[str, str, str], Awaitable[int]]  # (team_id, channel_id, ts) -> entries removed
Evict = Callable[[str], Awaitable[None]]  # cache entry id -> evicted


class DeletedMessages:
    def __init__(self, answers: AnswerMap, *, evict_by_source: EvictBySource, evict: Evict) -> None:
        self._answers = answers
        self._evict_by_source = evict_by_source
        self._evict = evict

    async def on_deleted(self, team_id: str, channel_id: str, ts: str) -> int:
        """Evict everything cached from or shown in message ``ts``; returns how many entries went."""
        removed = await self._evict_by_source(team_id, channel_id, ts)
        try:
            shown = await self._answers.lookup(team_id, channel_id, ts)
        except RedisError:
            log.warning("cache.deleted_reply_lookup_failed", channel_id=channel_id)
            return removed
        if shown is not None and shown.cache_entry:
            await self._evict(shown.cache_entry)
            log.info("cache.evicted_with_its_reply", request_id=shown.request_id, entry=shown.cache_entry)
            removed += 1
        return removed
