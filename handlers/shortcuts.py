"""Message shortcut **Summarize this thread**: the summary of the message's thread, shown only to whoever asked.

The shortcut works on any message of a thread (its ``thread_ts`` names the root; a top-level message is its own
root) and in channels Penny could not post to, since the answer goes through the shortcut's ``response_url``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.request import Request, Scope, SummarizeArgs, Surface, TargetKind

SUMMARIZE_THREAD_SHORTCUT = "penny_summarize_thread"

PrivateSummaryFn = Callable[[Request, SummarizeArgs, Any], Awaitable[None]]


def parse_summarize_thread(body: dict[str, Any]) -> tuple[Request, SummarizeArgs] | None:
    """The thread to summarize and who asked; None when the payload names no message."""
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id")
    ts = message.get("ts") or body.get("message_ts")
    user = (body.get("user") or {}).get("id")
    if not (channel and ts and user):
        return None
    root = str(message.get("thread_ts") or ts)
    trigger = str(body.get("trigger_id") or body.get("action_ts") or ts)
    request = Request(
        request_id=f"shortcut-{trigger}",
        surface=Surface.SHORTCUT,
        scope=Scope(team_id=str((body.get("team") or {}).get("id", "")), channel_id=str(channel)),
        user_id=str(user),
        text="",
        thread_ts=root,
        message_ts=str(ts),
        command="/summarize",  # routed and billed like the command
    )
    return request, SummarizeArgs(TargetKind.THREAD, str(channel), thread_ts=root)


def register(app: AsyncApp, summarize_privately: PrivateSummaryFn) -> None:
    @app.shortcut(SUMMARIZE_THREAD_SHORTCUT)
    async def on_summarize_thread(ack: Callable[[], Awaitable[None]], body: dict[str, Any], respond: Any) -> None:
        await ack()
        parsed = parse_summarize_thread(body)
        if parsed is not None:
            await summarize_privately(parsed[0], parsed[1], respond)
