"""Messages in Penny's DM: every human message there is a request, top-level or in a thread.

Only the person and Penny share the conversation, so nothing here needs a mention or thread manners. Replies go
in the message's thread (a DM thread works like a channel thread: it is the context). Threads that Slack's
assistant pane opened reach ``handlers/assistant_pane.py`` first; that module hands DM threads that are not pane
threads back to the same parser.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.request import AnswerFn, Request, Scope, Surface
from handlers.claims import finishing_claim
from handlers.mentions import strip_mention
from handlers.threads import HUMAN_SUBTYPES, human_message, in_dm


def parse_dm_message(body: dict[str, Any], bot_user_id: str | None, *, surface: Surface = Surface.DM) -> Request | None:
    """A person's DM to Penny as a ``Request`` (the reply goes to its thread), or None for anything else."""
    event = body.get("event") or {}
    ts, channel = event.get("ts"), event.get("channel")
    if not ts or not channel or not human_message(event):
        return None
    return Request(
        request_id=str(body.get("event_id") or f"dm-{channel}-{ts}"),
        surface=surface,
        scope=Scope(team_id=str(body.get("team_id") or event.get("team", "")), channel_id=str(channel)),
        user_id=str(event["user"]),
        text=strip_mention(str(event.get("text", "")), bot_user_id),
        thread_ts=str(event.get("thread_ts") or ts),
        message_ts=str(ts),
    )


def register(app: AsyncApp, answer: AnswerFn) -> None:
    async def is_dm(body: dict[str, Any]) -> bool:
        return in_dm(body)

    @app.event({"type": "message", "subtype": HUMAN_SUBTYPES}, matchers=[is_dm])
    async def on_dm(body: dict[str, Any], context: dict[str, Any]) -> None:
        request = parse_dm_message(body, context.get("bot_user_id"))
        if request is None:
            await finishing_claim(context, None)
            return
        await answer(request, context.get("event_claim"))
