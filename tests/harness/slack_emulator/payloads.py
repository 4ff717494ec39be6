"""Builders for the Events API and slash-command payloads Slack sends to an app.

Shapes follow the java-slack-sdk samples in `shared/eval/slack/java-slack-sdk_samples/`: the
`event_callback` wrapper with `authorizations`, and the inner events with the fields real traffic carries.
They are pure functions of their arguments, so tests can also build a payload and tweak it before sending.
"""

from __future__ import annotations

from typing import Any

from .models import Message


def event_envelope(
    event: dict[str, Any],
    *,
    team_id: str,
    api_app_id: str,
    bot_user_id: str,
    event_id: str,
    event_time: int,
    is_ext_shared_channel: bool = False,
) -> dict[str, Any]:
    """Wrap an inner event the way Slack does for every Events API delivery."""
    return {
        "token": "verification-token-unused",
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": is_ext_shared_channel,
        "event_context": f"4-eyJldCI6ImFwcF9tZW50aW9uIiwidGlkIjoi{event_id[-6:]}",
    }


def _rich_text_blocks(text: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "rich_text",
            "block_id": "b1Xy",
            "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
        }
    ]


def app_mention_event(message: Message) -> dict[str, Any]:
    """The inner `app_mention` event for a user message that mentions the bot."""
    event: dict[str, Any] = {
        "type": "app_mention",
        "client_msg_id": message.client_msg_id or "",
        "user": message.user,
        "text": message.text,
        "blocks": message.blocks or _rich_text_blocks(message.text),
        "team": message.team,
        "channel": message.channel,
        "ts": message.ts,
        "event_ts": message.ts,
    }
    if message.thread_ts is not None:
        event["thread_ts"] = message.thread_ts
    return event


def message_event(message: Message, *, channel_type: str) -> dict[str, Any]:
    """The inner `message` event (no subtype) for a new user message, in a thread or not."""
    event: dict[str, Any] = {
        "client_msg_id": message.client_msg_id or "",
        "type": "message",
        "text": message.text,
        "user": message.user,
        "ts": message.ts,
        "blocks": message.blocks or _rich_text_blocks(message.text),
        "team": message.team,
        "channel": message.channel,
        "event_ts": message.ts,
        "channel_type": channel_type,
    }
    if message.bot_id:
        event["bot_id"] = message.bot_id
        event["app_id"] = message.app_id or ""
    if message.thread_ts is not None:
        event["thread_ts"] = message.thread_ts
        if message.is_reply:
            event["parent_user_id"] = message.parent_user_id or ""
    if message.is_reply and message.reply_broadcast:  # "also send to channel" (MessageThreadBroadcastPayload)
        event["subtype"] = "thread_broadcast"
        event["root"] = {
            "type": "message",
            "user": message.parent_user_id or "",
            "ts": message.thread_ts,
            "thread_ts": message.thread_ts,
        }
    if message.files is not None:  # a message with a file (MessageFileSharePayload)
        event["subtype"] = "file_share"
        event["files"] = message.files
        event["upload"] = False
    return event


def message_changed_event(
    before: dict[str, Any], after: dict[str, Any], *, channel: str, event_ts: str, channel_type: str
) -> dict[str, Any]:
    """`message` with subtype `message_changed`: Slack sends the new and the previous message."""
    return {
        "type": "message",
        "subtype": "message_changed",
        "channel": channel,
        "hidden": True,
        "message": after,
        "previous_message": before,
        "event_ts": event_ts,
        "ts": event_ts,
        "channel_type": channel_type,
    }


def message_deleted_event(before: dict[str, Any], *, channel: str, event_ts: str, channel_type: str) -> dict[str, Any]:
    """`message` with subtype `message_deleted`, carrying the deleted message as `previous_message`."""
    return {
        "type": "message",
        "subtype": "message_deleted",
        "channel": channel,
        "hidden": True,
        "deleted_ts": before["ts"],
        "previous_message": before,
        "event_ts": event_ts,
        "ts": event_ts,
        "channel_type": channel_type,
    }


def reaction_added_event(
    *, user: str, reaction: str, channel: str, ts: str, item_user: str, event_ts: str, removed: bool = False
) -> dict[str, Any]:
    """``reaction_added`` (or, with ``removed``, ``reaction_removed``: Slack gives both the same shape)."""
    return {
        "type": "reaction_removed" if removed else "reaction_added",
        "user": user,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "reaction": reaction,
        "item_user": item_user,
        "event_ts": event_ts,
    }


def pin_event(
    message: dict[str, Any],
    *,
    user: str,
    channel: str,
    created: int,
    created_by: str,
    pin_count: int,
    event_ts: str,
    permalink: str,
    removed: bool = False,
) -> dict[str, Any]:
    """``pin_added`` (or, with ``removed``, ``pin_removed``): the channel and the pinned message as Slack sends them.

    The pinned message carries ``pinned_to`` while pinned; ``pin_removed`` adds ``has_pins``.
    """
    item_message = {**message, "permalink": permalink}
    if not removed:
        item_message["pinned_to"] = [channel]
    event: dict[str, Any] = {
        "type": "pin_removed" if removed else "pin_added",
        "user": user,
        "channel_id": channel,
        "item": {
            "type": "message",
            "created": created,
            "created_by": created_by,
            "channel": channel,
            "message": item_message,
        },
        "item_user": message.get("user", ""),
        "pin_count": pin_count,
        "pinned_info": {"channel": channel, "pinned_by": created_by, "pinned_ts": created},
        "event_ts": event_ts,
    }
    if removed:
        event["has_pins"] = pin_count > 0
    return event


def slash_command_form(
    *,
    command: str,
    text: str,
    team_id: str,
    team_domain: str,
    channel_id: str,
    channel_name: str,
    user_id: str,
    user_name: str,
    api_app_id: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The fields of a slash-command POST, sent as application/x-www-form-urlencoded."""
    return {
        "token": "verification-token-unused",
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def assistant_thread_event(
    kind: str, *, user: str, channel: str, thread_ts: str, context: dict[str, Any], event_ts: str
) -> dict[str, Any]:
    """``assistant_thread_started`` or ``assistant_thread_context_changed``, as docs.slack.dev documents both:
    the thread (the user's DM with the app and its ts) and ``context``, the channel the user is viewing
    (``channel_id``, ``team_id``, ``enterprise_id``; empty when the pane was opened outside a channel)."""
    if kind not in ("assistant_thread_started", "assistant_thread_context_changed"):
        raise ValueError(kind)
    return {
        "type": kind,
        "assistant_thread": {"user_id": user, "context": context, "channel_id": channel, "thread_ts": thread_ts},
        "event_ts": event_ts,
    }


def app_home_opened_event(
    *, user: str, channel: str, tab: str, event_ts: str, view: dict[str, Any] | None
) -> dict[str, Any]:
    """``app_home_opened`` as in ``events/AppHomeOpenedPayload.json``: ``view`` is present once a view was published."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user,
        "channel": channel,
        "tab": tab,
        "event_ts": event_ts,
    }
    if view is not None:
        event["view"] = view
    return event


def block_actions_payload(
    *,
    team_id: str,
    team_domain: str,
    api_app_id: str,
    user: str,
    channel: str,
    channel_name: str,
    message: dict[str, Any],
    is_ephemeral: bool,
    action: dict[str, Any],
    action_ts: str,
    trigger_id: str,
    response_url: str,
) -> dict[str, Any]:
    """A ``block_actions`` interaction (``BlockActionPayload.json``'s shape) for a click on ``action``."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "", "name": "", "team_id": team_id},
        "api_app_id": api_app_id,
        "token": "verification-token-unused",
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": team_domain},
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": channel_name},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [{**action, "block_id": "penny-actions", "action_ts": action_ts}],
    }


def message_shortcut_payload(
    *,
    callback_id: str,
    team_id: str,
    team_domain: str,
    user: str,
    user_name: str,
    channel: str,
    channel_name: str,
    message: dict[str, Any],
    trigger_id: str,
    action_ts: str,
    response_url: str,
) -> dict[str, Any]:
    """A ``message_action`` (message shortcut) interaction, as in ``MessageShortcutPayload.json``."""
    return {
        "type": "message_action",
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "message_ts": message["ts"],
        "response_url": response_url,
        "message": message,
        "team": {"id": team_id, "domain": team_domain},
        "user": {"id": user, "name": user_name, "team_id": team_id},
        "channel": {"id": channel, "name": channel_name},
        "token": "verification-token-unused",
        "action_ts": action_ts,
        "is_enterprise_install": False,
    }


def channel_convert_event(*, user: str, channel: str, ts: str, private: bool) -> dict[str, Any]:
    """``message`` with subtype ``channel_convert_to_private`` (or ``_public``): how Slack says a channel changed.

    Shape from Slack's docs (docs.slack.dev/reference/events/message/channel_convert_to_private); there is no
    ``channel_converted_to_private`` event.
    """
    if private:
        subtype, text = "channel_convert_to_private", "made this channel *private*."
        text += " Now, it can only be viewed or joined by invitation."
        channel_type = "group"
    else:
        subtype, text = "channel_convert_to_public", "made this channel *public*."
        text += " Any member in this workspace can see and join it."
        channel_type = "channel"
    return {
        "subtype": subtype,
        "user": user,
        "text": text,
        "type": "message",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }


def channel_shared_event(*, channel: str, connected_team_id: str, event_ts: str) -> dict[str, Any]:
    """``channel_shared``: the channel is now shared with another organisation (Slack Connect)."""
    return {"type": "channel_shared", "connected_team_id": connected_team_id, "channel": channel, "event_ts": event_ts}


def channel_unshared_event(
    *, channel: str, previously_connected_team_id: str, is_ext_shared: bool, event_ts: str
) -> dict[str, Any]:
    """``channel_unshared``: one organisation left; ``is_ext_shared`` says whether others remain."""
    return {
        "type": "channel_unshared",
        "previously_connected_team_id": previously_connected_team_id,
        "channel": channel,
        "is_ext_shared": is_ext_shared,
        "event_ts": event_ts,
    }


def channel_archive_event(
    *, channel: str, user: str, event_ts: str, private: bool, undo: bool = False
) -> dict[str, Any]:
    """``channel_archive`` / ``group_archive`` (private channels), or with ``undo`` their ``*_unarchive``.

    ``group_unarchive`` names the actor as ``actor_id``; the others as ``user``; archives carry ``is_moved``.
    """
    kind = ("group" if private else "channel") + ("_unarchive" if undo else "_archive")
    event: dict[str, Any] = {"type": kind, "channel": channel, "event_ts": event_ts}
    if kind == "group_unarchive":
        event["actor_id"] = user
    else:
        event["user"] = user
    if not undo:
        event["is_moved"] = 0
    return event


def channel_deleted_event(*, channel: str, actor_id: str, event_ts: str, private: bool, when: int) -> dict[str, Any]:
    """``channel_deleted``, or ``group_deleted`` for a private channel (which also says when)."""
    if private:
        return {
            "type": "group_deleted",
            "channel": channel,
            "date_deleted": when,
            "actor_id": actor_id,
            "event_ts": event_ts,
        }
    return {"type": "channel_deleted", "channel": channel, "actor_id": actor_id, "event_ts": event_ts}
