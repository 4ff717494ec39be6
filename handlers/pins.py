"""``pin_added`` / ``pin_removed``, and edits of messages: the channel's pinned documents may have changed.

The handler only says which channel (and, for an edit, which message); the pin board decides whether its cached
pins are affected. Every event's claim is finished here, as for any event Penny subscribes to.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.request import PinChange, PinChangeFn
from handlers.claims import finishing_claim


def parse_pin_event(body: dict[str, Any]) -> PinChange | None:
    """The channel of a ``pin_added``/``pin_removed`` event (``channel_id``, or the item's ``channel``)."""
    event = body.get("event") or {}
    team = body.get("team_id") or event.get("team")
    channel = event.get("channel_id") or (event.get("item") or {}).get("channel")
    if not (team and channel):
        return None
    return PinChange(team_id=str(team), channel_id=str(channel))


def parse_message_edit(body: dict[str, Any]) -> PinChange | None:
    """The edited message of a ``message_changed`` event: if it is pinned, the channel's pins are stale."""
    event = body.get("event") or {}
    team = body.get("team_id") or event.get("team")
    channel = event.get("channel")
    ts = (event.get("message") or {}).get("ts")
    if not (team and channel and ts):
        return None
    return PinChange(team_id=str(team), channel_id=str(channel), message_ts=str(ts))


def register(app: AsyncApp, on_change: PinChangeFn) -> None:
    async def handle(change: PinChange | None, context: dict[str, Any]) -> None:
        await finishing_claim(context, on_change(change) if change is not None else None)

    @app.event("pin_added")
    async def on_pin_added(body: dict[str, Any], context: dict[str, Any]) -> None:
        await handle(parse_pin_event(body), context)

    @app.event("pin_removed")
    async def on_pin_removed(body: dict[str, Any], context: dict[str, Any]) -> None:
        await handle(parse_pin_event(body), context)

    @app.event({"type": "message", "subtype": "message_changed"})
    async def on_message_changed(body: dict[str, Any], context: dict[str, Any]) -> None:
        await handle(parse_message_edit(body), context)
