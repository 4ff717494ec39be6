"""Slack's assistant pane through its Web API: status while working, suggested prompts, the thread's title.

Every call here is cosmetic: a failure is logged (by Slack's error code) and never stops an answer, because the
answer itself is an ordinary message in the pane's thread. Slack clears a status when the app posts in the
thread, or after two minutes; Penny clears it explicitly when a request ends, so a refusal or a failure does not
leave "is thinking…" behind.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = structlog.get_logger(__name__)


class PaneApi:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def set_status(self, channel_id: str, thread_ts: str, status: str) -> None:
        """Show ``status`` ("is thinking…") under the thread; ``""`` clears it."""
        try:
            await self._client.assistant_threads_setStatus(channel_id=channel_id, thread_ts=thread_ts, status=status)
        except SlackApiError as exc:
            log.info("pane.status_failed", error=exc.response.get("error"))

    async def suggest(self, channel_id: str, thread_ts: str, title: str, prompts: Sequence[tuple[str, str]]) -> None:
        """Up to four suggested prompts, each a (title, message the user sends when clicking it)."""
        try:
            await self._client.assistant_threads_setSuggestedPrompts(
                channel_id=channel_id,
                thread_ts=thread_ts,
                title=title,
                prompts=[{"title": t, "message": m} for t, m in list(prompts)[:4]],
            )
        except SlackApiError as exc:
            log.info("pane.prompts_failed", error=exc.response.get("error"))

    async def set_title(self, channel_id: str, thread_ts: str, title: str) -> None:
        try:
            await self._client.assistant_threads_setTitle(channel_id=channel_id, thread_ts=thread_ts, title=title)
        except SlackApiError as exc:
            log.info("pane.title_failed", error=exc.response.get("error"))

    async def say(self, channel_id: str, thread_ts: str, text: str) -> None:
        try:
            await self._client.chat_postMessage(channel=channel_id, thread_ts=thread_ts, text=text)
        except SlackApiError as exc:
            log.info("pane.say_failed", error=exc.response.get("error"))
