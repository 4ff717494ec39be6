"""Read what ``/summarize`` summarizes: membership, channel history or a whole thread, and people's names.

Every list is paged through its cursors (a large channel has many pages of history and members), and every Slack
error becomes ``SourceUnavailable`` carrying Slack's error code, so the caller can tell "invite Penny" from
"no such channel" without parsing exceptions. Names come from ``users.info`` and are cached for an hour: a
summary reads better with "Alice" than with ``U0123``, and a channel has few distinct authors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.conversations import ContextUnavailable, slack_error_code
from bot.slack.people import USER_MENTION, PeopleDirectory, with_names

log = structlog.get_logger(__name__)

MAX_NAME_LOOKUPS = 100  # per summary: beyond this, ids stay ids rather than costing hundreds of API calls


@dataclass(frozen=True)
class SourceMessage:
    user_id: str
    text: str
    ts: str
    from_bot: bool
    reply_count: int = 0


@dataclass(frozen=True)
class SourceMessages:
    """Messages oldest first; ``truncated`` when the window held more than the cap (the newest were kept)."""

    messages: list[SourceMessage]
    truncated: bool


class SourceUnavailable(ContextUnavailable):
    """Slack did not show the conversation; ``reason`` is Slack's error code (``not_in_channel``, …)."""


def _message(raw: dict[str, Any]) -> SourceMessage:
    return SourceMessage(
        user_id=str(raw.get("user") or raw.get("bot_id") or ""),
        text=str(raw.get("text", "")),
        ts=str(raw.get("ts", "")),
        from_bot=bool(raw.get("bot_id")),
        reply_count=int(raw.get("reply_count") or 0),
    )


def _summarizable(raw: dict[str, Any]) -> bool:
    """Human and bot messages with text; joins, leaves and topic changes are noise for a summary."""
    return bool(str(raw.get("text", "")).strip()) and raw.get("subtype") not in {
        "channel_join", "channel_leave", "group_join", "group_leave", "channel_topic", "channel_purpose",
    }


def transcript_line(message: SourceMessage, names: dict[str, str]) -> str:
    """One message as the model reads it: ``[2026-11-23 14:05] Alice: text`` with mentions resolved."""
    when = datetime.fromtimestamp(float(message.ts), tz=UTC).strftime("%Y-%m-%d %H:%M")
    author = names.get(message.user_id, message.user_id or "unknown")
    if message.from_bot:
        author += " (bot)"
    text = with_names(message.text, names)
    replies = f" [{message.reply_count} replies in thread]" if message.reply_count else ""
    return f"[{when}] {author}: {text}{replies}"


def mentioned_users(messages: Iterable[SourceMessage]) -> list[str]:
    """Authors and mentioned people, in first-seen order (the order names are looked up in)."""
    seen: dict[str, None] = {}
    for message in messages:
        if message.user_id and not message.from_bot:
            seen.setdefault(message.user_id, None)
        for match in USER_MENTION.finditer(message.text):
            seen.setdefault(match.group(1), None)
    return list(seen)


class SummarySource:
    def __init__(
        self, client: AsyncWebClient, *, people: PeopleDirectory | None = None, page_size: int = 200,
    ) -> None:
        self._client = client
        self._people = people or PeopleDirectory(client)
        self._page_size = page_size

    async def is_member(self, channel: str, user_id: str) -> bool:
        """Whether ``user_id`` is in ``channel``, paging through every member (large channels have many pages)."""
        cursor: str | None = None
        try:
            while True:
                response = await self._client.conversations_members(
                    channel=channel, limit=self._page_size, cursor=cursor
                )
                if user_id in (response.get("members") or []):
                    return True
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return False
        except SlackApiError as exc:
            raise SourceUnavailable(slack_error_code(exc)) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SourceUnavailable(type(exc).__name__) from exc

    async def channel_name(self, channel: str) -> str | None:
        try:
            response = await self._client.conversations_info(channel=channel)
        except SlackApiError:
            return None
        name = (response.get("channel") or {}).get("name")
        return str(name) if name else None

    async def channel_history(self, channel: str, *, oldest: float, limit: int) -> SourceMessages:
        """Top-level messages newer than ``oldest`` (newest ``limit`` kept), oldest first."""
        kept: list[SourceMessage] = []
        truncated = False
        cursor: str | None = None
        try:
            while True:
                response = await self._client.conversations_history(
                    channel=channel, oldest=f"{oldest:.6f}", limit=self._page_size, cursor=cursor
                )
                for raw in response.get("messages") or []:
                    if not _summarizable(raw):
                        continue
                    if len(kept) >= limit:
                        truncated = True
                        break
                    kept.append(_message(raw))
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if truncated or not cursor:
                    break
        except SlackApiError as exc:
            raise SourceUnavailable(slack_error_code(exc)) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SourceUnavailable(type(exc).__name__) from exc
        kept.sort(key=lambda m: float(m.ts))
        return SourceMessages(kept, truncated)

    async def thread(self, channel: str, root_ts: str, *, limit: int) -> SourceMessages:
        """The root and every reply (all pages), oldest first; past ``limit`` the newest are kept."""
        collected: list[SourceMessage] = []
        cursor: str | None = None
        try:
            while True:
                response = await self._client.conversations_replies(
                    channel=channel, ts=root_ts, limit=self._page_size, cursor=cursor
                )
                collected.extend(_message(raw) for raw in response.get("messages") or [] if _summarizable(raw))
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except SlackApiError as exc:
            raise SourceUnavailable(slack_error_code(exc)) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SourceUnavailable(type(exc).__name__) from exc
        truncated = len(collected) > limit
        return SourceMessages(collected[-limit:] if truncated else collected, truncated)

    async def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        """Display names for ``user_ids`` (``bot/slack/people.py``); a failed lookup leaves the id in place."""
        return await self._people.names(user_ids, max_lookups=MAX_NAME_LOOKUPS)
