"""Who can see a conversation: public, private, DM or Slack Connect — from ``conversations.info``, cached.

The privacy boundary of the semantic cache is decided here, so it must never be guessed from the channel id
prefix (private channels have ``C`` ids too). Answers are cached in-process for a short TTL; when a refresh shows
that a conversation changed visibility (e.g. a public channel turned private), listeners are told at once so
shared cache entries stop being served.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from vocabulary import Visibility


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

    def on_change(self, listener: VisibilityListener) -> None:
        self._listeners.append(listener)

    async def visibility(self, team_id: str, channel_id: str) -> Visibility:
        """Raises ``SlackApiError`` when Slack will not say; callers treat that as private."""
        return (await self._info(team_id, channel_id)).visibility

    async def name(self, team_id: str, channel_id: str) -> str | None:
        """The channel's name (without ``#``), or None for a DM or when Slack will not say."""
        try:
            return (await self._info(team_id, channel_id)).name or None
        except SlackApiError:
            return None

    async def _info(self, team_id: str, channel_id: str) -> _Cached:
        key = (team_id, channel_id)
        cached = self._cache.get(key)
        if cached is not None and self._clock() - cached.fetched_at < self._ttl_s:
            return cached
        response = await self._client.conversations_info(channel=channel_id)
        channel = response["channel"]
        fresh = _Cached(visibility_of(channel), str(channel.get("name") or ""), self._clock())
        self._cache[key] = fresh
        if cached is not None and cached.visibility != fresh.visibility:
            for listener in self._listeners:
                await listener(team_id, channel_id, fresh.visibility)
        return fresh
