"""``message_deleted``: a message Penny may have learned from is gone, so answers cached from it go too — and when
it was one of Penny's own replies (``bot/slack/self_events.py`` lets that deletion through), the answer it showed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp

from handlers.claims import finishing_claim

log = structlog.get_logger(__name__)

EvictBySource = Callable[[str, str, str], Awaitable[int]]  # (team_id, channel_id, ts) -> entries removed


def deleted_message_ref(body: dict[str, Any]) -> tuple[str, str, str] | None:
    """(team, channel, ts) of the deleted message, or None for payloads that do not name one."""
    event = body.get("event") or {}
    ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
    channel = event.get("channel")
    team = body.get("team_id") or event.get("team")
    if not (ts and channel and team):
        return None
    return str(team), str(channel), str(ts)


def register(app: AsyncApp, evict_by_source: EvictBySource) -> None:
    @app.event({"type": "message", "subtype": "message_deleted"})
    async def on_message_deleted(body: dict[str, Any], context: dict[str, Any]) -> None:
        ref = deleted_message_ref(body)
        await finishing_claim(context, _evict(ref) if ref is not None else None)

    async def _evict(ref: tuple[str, str, str]) -> None:
        removed = await evict_by_source(*ref)
        log.info("cache.evicted_by_deletion", channel_id=ref[1], removed=removed)
