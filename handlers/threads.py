"""Plain ``message`` events in threads: a follow-up in a thread Penny joined is a question for Penny.

Messages that @mention Penny are left to ``app_mention`` (Slack sends both events), and edits, deletions and bot
messages carry a subtype or ``bot_id`` and are ignored here, so no message is answered twice.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.request import AnswerFn, Request, Scope, Surface


def parse_thread_message(body: dict[str, Any], bot_user_id: str | None) -> Request | None:
    """A follow-up ``Request``, or None when the message is not a human's thread reply without a mention."""
    event = body.get("event") or {}
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    text = str(event.get("text", ""))
    if not thread_ts or not ts or thread_ts == ts or event.get("bot_id") or event.get("subtype"):
        return None
    if bot_user_id and f"<@{bot_user_id}>" in text:
        return None  # the app_mention event answers it
    return Request(
        request_id=str(body.get("event_id") or f"thread-{event.get('channel')}-{ts}"),
        surface=Surface.THREAD,
        scope=Scope(team_id=str(body.get("team_id") or event.get("team", "")), channel_id=str(event["channel"])),
        user_id=str(event.get("user", "")),
        text=text.strip(),
        thread_ts=str(thread_ts),
        message_ts=str(ts),
    )


def register(app: AsyncApp, follow_up: AnswerFn) -> None:
    """``follow_up`` answers only in threads Penny joined, and finishes the claim either way."""

    @app.event({"type": "message", "subtype": None})
    async def on_thread_message(body: dict[str, Any], context: dict[str, Any]) -> None:
        claim = context.get("event_claim")
        request = parse_thread_message(body, context.get("bot_user_id"))
        if request is None:
            if claim is not None:
                await claim.finish()
            return
        await follow_up(request, claim)
