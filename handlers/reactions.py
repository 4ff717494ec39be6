"""👍/👎 reactions: ``reaction_added`` / ``reaction_removed`` become ``Reaction`` values for the feedback service.

Only the thumbs count, in any skin tone (``+1::skin-tone-3``) and under either name Slack uses (``+1`` and
``thumbsup``); every other emoji is ignored here, before any Redis work. Whether the message is one of Penny's
answers is the feedback service's question (it keeps the message→request map), not the handler's.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.request import Reaction, ReactionFn
from handlers.claims import finishing_claim

GOOD = frozenset({"+1", "thumbsup"})
BAD = frozenset({"-1", "thumbsdown"})


def parse_reaction(body: dict[str, Any], *, added: bool, bot_user_id: str | None = None) -> Reaction | None:
    """The vote in this event, or None when it is not a thumb on a message."""
    event = body.get("event") or {}
    item = event.get("item") or {}
    name = str(event.get("reaction", "")).split("::", 1)[0]
    if item.get("type") != "message" or name not in GOOD | BAD:
        return None
    team = body.get("team_id") or event.get("team")
    channel, ts, user = item.get("channel"), item.get("ts"), event.get("user")
    if not (team and channel and ts and user):
        return None
    return Reaction(
        team_id=str(team),
        channel_id=str(channel),
        message_ts=str(ts),
        user_id=str(user),
        good=name in GOOD,
        added=added,
        on_penny_message=bool(bot_user_id) and event.get("item_user") == bot_user_id,
    )


def register(app: AsyncApp, on_reaction: ReactionFn) -> None:
    async def handle(body: dict[str, Any], context: dict[str, Any], *, added: bool) -> None:
        reaction = parse_reaction(body, added=added, bot_user_id=context.get("bot_user_id"))
        await finishing_claim(context, on_reaction(reaction) if reaction is not None else None)

    @app.event("reaction_added")
    async def on_reaction_added(body: dict[str, Any], context: dict[str, Any]) -> None:
        await handle(body, context, added=True)

    @app.event("reaction_removed")
    async def on_reaction_removed(body: dict[str, Any], context: dict[str, Any]) -> None:
        await handle(body, context, added=False)
