"""Read the conversation a request is about: thread replies, paged, capped, with bot turns marked.

Only the newest ``limit`` messages are kept for the skeleton's Q&A; the Slack issue adds channel history, pins,
user names and map-reduce for long threads.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient


@dataclass(frozen=True)
class ContextMessage:
    user_id: str
    text: str
    ts: str
    from_bot: bool


# Slack error codes that mean Penny may not read the conversation (as opposed to Slack failing just now).
PERMISSION_ERRORS = frozenset({
    "not_in_channel", "channel_not_found", "missing_scope", "no_permission", "access_denied",
    "not_allowed_token_type", "restricted_action", "team_access_not_granted", "ekm_access_denied",
})


class ContextUnavailable(Exception):
    """Penny could not read the conversation. ``reason`` is Slack's error code, ``http_<status>`` when the reply
    had none (a 5xx page), or the transport exception's name; ``permission`` tells a missing right from a
    passing failure, because the user is told different things (invite me / try again)."""

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


async def thread_messages(
    client: AsyncWebClient, channel: str, thread_ts: str, *, limit: int, page_size: int = 200
) -> list[ContextMessage]:
    """All messages of a thread (paged through every cursor), keeping the newest ``limit``."""
    collected: list[ContextMessage] = []
    cursor: str | None = None
    try:
        while True:
            response = await client.conversations_replies(
                channel=channel, ts=thread_ts, limit=page_size, cursor=cursor
            )
            messages: list[dict[str, object]] = response.get("messages") or []
            for message in messages:
                collected.append(
                    ContextMessage(
                        user_id=str(message.get("user") or message.get("bot_id") or ""),
                        text=str(message.get("text", "")),
                        ts=str(message.get("ts", "")),
                        from_bot=bool(message.get("bot_id")),
                    )
                )
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except SlackApiError as exc:
        raise ContextUnavailable(slack_error_code(exc)) from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ContextUnavailable(type(exc).__name__) from exc
    return collected[-limit:] if limit else []
