"""Who can see a conversation: public, private, DM or Slack Connect — from ``conversations.info``, cached.

The privacy boundary of the semantic cache is decided here, so it must never be guessed from the channel id
prefix (private channels have ``C`` ids too). Answers are cached in-process for a short TTL; when a refresh shows
that a conversation changed visibility (e.g. a public channel turned private), listeners are told at once so
shared cache entries stop being served.

Channel events (``handlers/channels.py``) do not wait for the TTL: a channel made private or shared with another
organisation is announced as such at once, an archived or deleted one as gone, and anything else that may change
who can read it (made public, unshared, unarchived) only forgets the cached info, so the next read asks Slack. A
lookup about to serve a shared answer asks with a shorter age (``current_visibility``), and any doubt is private.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.request import ChannelChange, ChannelChangeKind
from vocabulary import Visibility

log = structlog.get_logger(__name__)


def visibility_of(channel: dict[str, Any]) -> Visibility:
    """Most restrictive reading wins: external sharing beats everything, then DMs, then private."""
    if channel.get("is_ext_shared") or channel.get("is_pending_ext_shared"):
        return Visibility.SHARED
    if channel.get("is_im") or channel.get("is_mpim"):
        return Visibility.DM
    if channel.get("is_private") or channel.get("is_group"):
        return Visibility.PRIVATE
    return Visibility.PUBLIC


@dataclass
class _Cached:
    visibility: Visibility
    name: str
    fetched_at: float


VisibilityListener = Callable[[str, str, Visibility], Awaitable[None]]
GoneListener = Callable[[str, str], Awaitable[object]]  # (team_id, channel_id): archived or deleted
_TOLD: dict[ChannelChangeKind, Visibility] = {
    ChannelChangeKind.MADE_PRIVATE: Visibility.PRIVATE,
    ChannelChangeKind.SHARED_EXTERNALLY: Visibility.SHARED,
}


class ChannelDirectory:
    """``conversations.info`` per channel, kept for ``ttl_s``: who can read it, and what it is called."""

    def __init__(
        self, client: AsyncWebClient, *, ttl_s: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._clock = clock
        self._cache: dict[tuple[str, str], _Cached] = {}
        self._listeners: list[VisibilityListener] = []
        self._gone_listeners: list[GoneListener] = []

    def on_change(self, listener: VisibilityListener) -> None:
        self._listeners.append(listener)

    def on_gone(self, listener: GoneListener) -> None:
        self._gone_listeners.append(listener)

    async def visibility(self, team_id: str, channel_id: str, *, max_age_s: float | None = None) -> Visibility:
        """Raises ``SlackApiError`` when Slack will not say; callers treat that as private."""
        return (await self._info(team_id, channel_id, max_age_s)).visibility

    async def current_visibility(self, team_id: str, channel_id: str, *, max_age_s: float) -> Visibility:
        """Visibility read at most ``max_age_s`` ago; never raises: whatever stops Slack from saying is private."""
        try:
            return await self.visibility(team_id, channel_id, max_age_s=max_age_s)
        except Exception as exc:  # SlackApiError, a network error, a timeout: unknown means private
            log.info("channels.visibility_unknown", channel_id=channel_id, error=type(exc).__name__)
            return Visibility.PRIVATE

    async def apply(self, change: ChannelChange) -> None:
        """A channel event: what it says takes effect now, here; the listeners carry it to the cache (in Redis)."""
        key = (change.team_id, change.channel_id)
        told = _TOLD.get(change.kind)
        log.info("channels.changed", channel_id=change.channel_id, change=change.kind)
        if told is not None:
            cached = self._cache.get(key)
            self._cache[key] = _Cached(told, cached.name if cached else "", self._clock())
            for listener in self._listeners:
                await listener(change.team_id, change.channel_id, told)
            return
        self._cache.pop(key, None)  # whatever it is now, the next read asks Slack
        if change.kind in (ChannelChangeKind.ARCHIVED, ChannelChangeKind.DELETED):
            for gone in self._gone_listeners:
                await gone(change.team_id, change.channel_id)

    async def name(self, team_id: str, channel_id: str) -> str | None:
        """The channel's name (without ``#``), or None for a DM or when Slack will not say."""
        try:
            return (await self._info(team_id, channel_id)).name or None
        except SlackApiError:
            return None

    async def _info(self, team_id: str, channel_id: str, max_age_s: float | None = None) -> _Cached:
        key = (team_id, channel_id)
        cached = self._cache.get(key)
        ttl = self._ttl_s if max_age_s is None else min(self._ttl_s, max_age_s)
        if cached is not None and self._clock() - cached.fetched_at < ttl:
            return cached
        response = await self._client.conversations_info(channel=channel_id)
        channel = response["channel"]
        fresh = _Cached(visibility_of(channel), str(channel.get("name") or ""), self._clock())
        self._cache[key] = fresh
        if cached is not None and cached.visibility != fresh.visibility:
            for listener in self._listeners:
                await listener(team_id, channel_id, fresh.visibility)
        return fresh
