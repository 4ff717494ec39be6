"""Conversations that change who can read them: made private or public, shared with another organisation or
unshared, archived, unarchived, deleted. Each becomes a ``ChannelChange`` for the channel directory, which
unshares (or drops) the cached answers built from the channel at once instead of when the cached info expires.

Slack has no ``channel_converted_to_private`` event: a conversion arrives as a ``message`` with subtype
``channel_convert_to_private`` (or ``channel_convert_to_public``) in that channel. Private channels have their own
``group_*`` events. Every event's claim is finished here, as for any event Penny subscribes to.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.request import ChannelChange, ChannelChangeFn, ChannelChangeKind
from handlers.claims import finishing_claim

EVENTS: dict[str, ChannelChangeKind] = {
    "channel_shared": ChannelChangeKind.SHARED_EXTERNALLY,
    "channel_unshared": ChannelChangeKind.UNSHARED,
    "channel_archive": ChannelChangeKind.ARCHIVED,
    "group_archive": ChannelChangeKind.ARCHIVED,
    "channel_unarchive": ChannelChangeKind.UNARCHIVED,
    "group_unarchive": ChannelChangeKind.UNARCHIVED,
    "channel_deleted": ChannelChangeKind.DELETED,
    "group_deleted": ChannelChangeKind.DELETED,
}
MESSAGE_SUBTYPES: dict[str, ChannelChangeKind] = {
    "channel_convert_to_private": ChannelChangeKind.MADE_PRIVATE,
    "channel_convert_to_public": ChannelChangeKind.MADE_PUBLIC,
}


def parse_channel_change(body: dict[str, Any]) -> ChannelChange | None:
    """The change an event or a conversion message describes, or None for a payload that names no channel."""
    event = body.get("event") or {}
    kind = EVENTS.get(str(event.get("type"))) or MESSAGE_SUBTYPES.get(str(event.get("subtype")))
    team = body.get("team_id") or event.get("team")
    channel = event.get("channel")
    if isinstance(channel, dict):  # some channel events carry the channel object rather than its id
        channel = channel.get("id")
    if kind is None or not (team and channel):
        return None
    return ChannelChange(team_id=str(team), channel_id=str(channel), kind=kind)


def register(app: AsyncApp, on_change: ChannelChangeFn) -> None:
    async def handle(body: dict[str, Any], context: dict[str, Any]) -> None:
        change = parse_channel_change(body)
        await finishing_claim(context, on_change(change) if change is not None else None)

    for event_type in EVENTS:
        app.event(event_type)(handle)
    for subtype in MESSAGE_SUBTYPES:
        app.event({"type": "message", "subtype": subtype})(handle)
