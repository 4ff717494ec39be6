"""Plain ``message`` events in channel threads: a follow-up in a thread Penny joined *may* be for Penny.

Whether it is (addressed to Penny, or people talking to each other) is the assistant's decision
(``bot/assistant/manners.py``), since it needs the thread's state; this module only turns the event into a
``Request``. Messages that @mention Penny are left to ``app_mention`` (Slack sends both events). Human replies
come with no subtype, or with ``thread_broadcast`` ("also send to channel") or ``file_share`` (a reply with a
file); edits, deletions, joins and bot messages carry other subtypes or a ``bot_id`` and are not follow-ups.
DMs have their own surface (``handlers/dms.py``).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.request import AnswerFn, Request, Scope, Surface
from handlers.claims import finishing_claim

HUMAN_SUBTYPES: tuple[str | None, ...] = (None, "thread_broadcast", "file_share")
"""The subtypes of a message a person wrote: a plain one, "also send to channel", one with a file."""


def in_dm(body: dict[str, Any]) -> bool:
    """Slack marks every message event with the conversation's kind; ``im`` is a DM with Penny."""
    return (body.get("event") or {}).get("channel_type") == "im"


def human_message(event: dict[str, Any]) -> bool:
    """A person's new message (not an edit, a join, a bot post or Slackbot)."""
    return event.get("subtype") in HUMAN_SUBTYPES and not event.get("bot_id") and bool(event.get("user"))


def parse_thread_message(body: dict[str, Any], bot_user_id: str | None) -> Request | None:
    """A follow-up ``Request``, or None when the message is not a human's thread reply without a mention."""
    event = body.get("event") or {}
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    text = str(event.get("text", ""))
    if not thread_ts or not ts or thread_ts == ts or not human_message(event):
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
    """``follow_up`` answers only what is addressed to Penny in threads it joined, and finishes the claim."""

    async def not_in_dm(body: dict[str, Any]) -> bool:
        return not in_dm(body)

    @app.event({"type": "message", "subtype": HUMAN_SUBTYPES}, matchers=[not_in_dm])
    async def on_thread_message(body: dict[str, Any], context: dict[str, Any]) -> None:
        request = parse_thread_message(body, context.get("bot_user_id"))
        if request is None:
            await finishing_claim(context, None)
            return
        await follow_up(request, context.get("event_claim"))
