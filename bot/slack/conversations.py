"""The one reader of Slack conversations: thread replies, channel history and membership, every page.

Paging is slack_sdk's own: an ``AsyncSlackResponse`` is an async iterator that follows ``next_cursor`` through the
client (and so through its retry handlers), so no cursor loop is written by hand. Every failure — a Slack error
code, an HTML 5xx page, a dropped connection, a timeout — becomes one ``ConversationUnavailable`` carrying a code
the log can show and a ``permission`` flag, because the user is told different things ("invite me" / "try again").
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

# Slack error codes that mean Penny may not read the conversation (as opposed to Slack failing just now).
PERMISSION_ERRORS = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "missing_scope",
        "no_permission",
        "access_denied",
        "not_allowed_token_type",
        "restricted_action",
        "team_access_not_granted",
        "ekm_access_denied",
    }
)
# Membership and topic changes are not conversation: a summary or a prompt is better without them.
_NOISE_SUBTYPES = frozenset(
    {"channel_join", "channel_leave", "group_join", "group_leave", "channel_topic", "channel_purpose"}
)


@dataclass(frozen=True)
class SlackMessage:
    """One message as Penny reads it: who (a user or a bot), what, when, which version, how many replies it has."""

    user_id: str
    text: str
    ts: str
    from_bot: bool
    reply_count: int = 0
    subtype: str = ""
    edited_ts: str = ""  # Slack's ``edited.ts``: which version of the message this is ("" = never edited)

    @classmethod
    def from_api(cls, raw: dict[str, Any]) -> SlackMessage:
        return cls(
            user_id=str(raw.get("user") or raw.get("bot_id") or ""),
            text=str(raw.get("text", "")),
            ts=str(raw.get("ts", "")),
            from_bot=bool(raw.get("bot_id")),
            reply_count=int(raw.get("reply_count") or 0),
            subtype=str(raw.get("subtype") or ""),
            edited_ts=str((raw.get("edited") or {}).get("ts") or ""),
        )

    @property
    def is_conversation(self) -> bool:
        """Has text and is not a join, leave or topic change."""
        return bool(self.text.strip()) and self.subtype not in _NOISE_SUBTYPES


@dataclass(frozen=True)
class Messages:
    """Messages oldest first; ``truncated`` when there were more than the cap (the newest were kept)."""

    messages: list[SlackMessage]
    truncated: bool = False


class ConversationUnavailable(Exception):
    """Penny could not read the conversation. ``reason`` is Slack's error code, ``http_<status>`` when the reply
    had none (a 5xx page), or the transport exception's name; ``permission`` tells a missing right from a passing
    failure."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def permission(self) -> bool:
        return self.reason in PERMISSION_ERRORS


def slack_error_code(exc: SlackApiError) -> str:
    """Slack's ``error`` field, or ``http_<status>`` for a reply without one (an HTML 500 page, a proxy error)."""
    code = exc.response.get("error") if isinstance(exc.response.data, dict) else None
    return str(code) if code else f"http_{exc.response.status_code}"


@contextlib.asynccontextmanager
async def _reading() -> AsyncIterator[None]:
    try:
        yield
    except SlackApiError as exc:
        raise ConversationUnavailable(slack_error_code(exc)) from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ConversationUnavailable(type(exc).__name__) from exc


class ConversationReader:
    """Reads conversations through one ``AsyncWebClient``; holds no state between calls."""

    def __init__(self, client: AsyncWebClient, *, page_size: int = 200) -> None:
        self._client = client
        self._page_size = page_size

    async def thread(self, channel: str, root_ts: str, *, limit: int, conversation_only: bool = False) -> Messages:
        """The root and every reply (all pages), oldest first; past ``limit`` the newest are kept."""
        collected: list[SlackMessage] = []
        async with _reading():
            async for page in await self._client.conversations_replies(
                channel=channel, ts=root_ts, limit=self._page_size
            ):
                for raw in page.get("messages") or []:
                    message = SlackMessage.from_api(raw)
                    if message.is_conversation or not conversation_only:
                        collected.append(message)
        truncated = len(collected) > limit
        return Messages(collected[-limit:] if limit else [], truncated)

    async def history(self, channel: str, *, oldest: float, limit: int) -> Messages:
        """Top-level conversation newer than ``oldest`` (epoch seconds), oldest first; past ``limit`` the newest."""
        kept: list[SlackMessage] = []
        truncated = False
        async with _reading():
            async for page in await self._client.conversations_history(
                channel=channel, oldest=f"{oldest:.6f}", limit=self._page_size
            ):
                for raw in page.get("messages") or []:  # newest first
                    message = SlackMessage.from_api(raw)
                    if not message.is_conversation:
                        continue
                    if len(kept) >= limit:
                        truncated = True
                        break
                    kept.append(message)
                if truncated:
                    break
        kept.sort(key=lambda m: float(m.ts))
        return Messages(kept, truncated)

    async def is_member(self, channel: str, user_id: str) -> bool:
        """Whether ``user_id`` is in ``channel``, paging through every member (large channels have many pages)."""
        async with _reading():
            async for page in await self._client.conversations_members(channel=channel, limit=self._page_size):
                if user_id in (page.get("members") or []):
                    return True
        return False
