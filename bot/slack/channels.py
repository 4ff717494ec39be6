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
from enum import StrEnum
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    DM = "dm"
    SHARED = "shared"  # Slack Connect: people outside the workspace can read it


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
    fetched_at: float


VisibilityListener = Callable[[str, str, Visibility], Awaitable[None]]


class ChannelDirectory:
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
        key = (team_id, channel_id)
        cached = self._cache.get(key)
        if cached is not None and self._clock() - cached.fetched_at < self._ttl_s:
            return cached.visibility
        response = await self._client.conversations_info(channel=channel_id)
        fresh = visibility_of(response["channel"])
        self._cache[key] = _Cached(fresh, self._clock())
        if cached is not None and cached.visibility != fresh:
            for listener in self._listeners:
                await listener(team_id, channel_id, fresh)
        return fresh
