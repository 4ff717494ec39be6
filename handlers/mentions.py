"""``app_mention``: someone wrote ``@Penny …`` in a channel. Parse the payload once, hand it to the assistant.

Another app's mention (it carries a ``bot_id``) is ignored unless that bot is allow-listed
(``PENNY_ALLOWED_BOTS``): two bots that answer each other would loop, and pay for every turn. A mention inside
Penny's own DM is answered by the DM surface (``handlers/dms.py``), so it is not answered twice.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp

from bot.request import AnswerFn, Request, Scope, Surface
from handlers.claims import finishing_claim

log = structlog.get_logger(__name__)

_MENTION_PREFIX_CHARS = " \t\n,:"


def strip_mention(text: str, bot_user_id: str | None) -> str:
    """The request without Penny's own mention (other people's mentions stay: they are its subject)."""
    if bot_user_id:
        text = text.replace(f"<@{bot_user_id}>", " ")
    return text.strip(_MENTION_PREFIX_CHARS).strip()


def parse_app_mention(body: dict[str, Any], bot_user_id: str | None) -> Request:
    """Turn an Events API ``app_mention`` envelope into a ``Request`` (the reply goes to the thread)."""
    event = body["event"]
    ts = str(event["ts"])
    return Request(
        request_id=str(body.get("event_id") or f"mention-{event.get('channel')}-{ts}"),
        surface=Surface.MENTION,
        scope=Scope(team_id=str(body.get("team_id") or event.get("team", "")), channel_id=str(event["channel"])),
        user_id=str(event.get("user", "")),
        text=strip_mention(str(event.get("text", "")), bot_user_id),
        thread_ts=str(event.get("thread_ts") or ts),
        message_ts=ts,
        bot_id=str(event["bot_id"]) if event.get("bot_id") else None,
    )


def may_answer(request: Request, allowed_bots: Collection[str]) -> bool:
    """People always; another app only when its bot id (or its user id) is allow-listed; never Penny's own DM."""
    if request.scope.channel_id.startswith("D"):
        return False  # the DM surface answers messages in Penny's DM, mention or not (dedup, not privacy)
    return request.bot_id is None or request.bot_id in allowed_bots or request.user_id in allowed_bots


def register(app: AsyncApp, answer: AnswerFn, *, allowed_bots: Collection[str] = ()) -> None:
    @app.event("app_mention")
    async def on_app_mention(body: dict[str, Any], context: dict[str, Any]) -> None:
        request = parse_app_mention(body, context.get("bot_user_id"))
        if not may_answer(request, allowed_bots):
            log.info("mention.ignored", bot=request.bot_id is not None, channel_id=request.scope.channel_id)
            await finishing_claim(context, None)
            return
        await answer(request, context.get("event_claim"))
