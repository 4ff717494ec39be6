"""Read the conversation a request is about: thread replies, paged, capped, with bot turns marked.

Only the newest ``limit`` messages are kept for the skeleton's Q&A; the Slack issue adds channel history, pins,
user names and map-reduce for long threads.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient


@dataclass(frozen=True)
class ContextMessage:
    user_id: str
    text: str
    ts: str
    from_bot: bool


class ContextUnavailable(Exception):
    """Penny cannot read the conversation (not in channel, missing scope); ``reason`` is Slack's error code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
        raise ContextUnavailable(str(exc.response.get("error", "unknown_error"))) from exc
    return collected[-limit:] if limit else []
