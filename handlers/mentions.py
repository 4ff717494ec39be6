"""``app_mention``: someone wrote ``@Penny …`` in a channel. Parse the payload once, hand it to the assistant."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.request import AnswerFn, Request, Scope, Surface

_MENTION_PREFIX_CHARS = " \t\n,:"


def parse_app_mention(body: dict[str, Any], bot_user_id: str | None) -> Request:
    """Turn an Events API ``app_mention`` envelope into a ``Request`` (the reply goes to the thread)."""
    event = body["event"]
    text = str(event.get("text", ""))
    if bot_user_id:
        text = text.replace(f"<@{bot_user_id}>", " ")
    ts = str(event["ts"])
    return Request(
        request_id=str(body.get("event_id") or f"mention-{event.get('channel')}-{ts}"),
        surface=Surface.MENTION,
        scope=Scope(team_id=str(body.get("team_id") or event.get("team", "")), channel_id=str(event["channel"])),
        user_id=str(event.get("user", "")),
        text=text.strip(_MENTION_PREFIX_CHARS).strip(),
        thread_ts=str(event.get("thread_ts") or ts),
        message_ts=ts,
    )


def register(app: AsyncApp, answer: AnswerFn) -> None:
    @app.event("app_mention")
    async def on_app_mention(body: dict[str, Any], context: dict[str, Any]) -> None:
        request = parse_app_mention(body, context.get("bot_user_id"))
        await answer(request, context.get("event_claim"))
