"""What Penny needs from Slack: the OAuth scope behind every Web API method it calls and every event it listens
to, and what breaks without each scope. ``manifest.yml`` grants exactly these.

Two readers: ``penny check`` names each missing scope with what it breaks, and
``tests/unit/architecture/test_manifest.py`` derives what the code uses (the listeners the app registers, the
Web API methods the source calls) and fails when this table or the manifest disagrees with it. So a new
``client.some_method(...)`` or ``@app.event(...)`` cannot ship without its scope and subscription.

Conversation methods need the scope of the conversation's kind; Penny reads all four kinds (public and private
channels, its DM, group DMs), so each such method needs all four.
"""

from __future__ import annotations

_HISTORY = ("channels:history", "groups:history", "im:history", "mpim:history")
_READ = ("channels:read", "groups:read", "im:read", "mpim:read")

METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "conversations.replies": _HISTORY,
    "conversations.history": _HISTORY,
    "conversations.info": _READ,
    "conversations.members": _READ,
    "users.info": ("users:read",),
    "pins.list": ("pins:read",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
    "assistant.threads.setStatus": ("assistant:write",),
    "assistant.threads.setSuggestedPrompts": ("assistant:write",),
    "assistant.threads.setTitle": ("assistant:write",),
    "views.publish": (),
}
"""Web API method → the bot scopes it needs on the conversations Penny serves."""

APP_TOKEN_METHODS: dict[str, str] = {"apps.connections.open": "connections:write"}
"""Methods called with the app-level (``xapp-``) token: Socket Mode's connection, and ``penny check``."""

MESSAGE_EVENTS = ("message.channels", "message.groups", "message.im", "message.mpim")
"""A ``message`` listener hears all four conversation kinds: follow-ups in channel threads, DMs, group DMs."""

EVENT_SCOPES: dict[str, str | None] = {
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "message.mpim": "mpim:history",
    "reaction_added": "reactions:read",
    "reaction_removed": "reactions:read",
    "pin_added": "pins:read",
    "pin_removed": "pins:read",
    "app_home_opened": None,
    "assistant_thread_started": "assistant:write",
    "assistant_thread_context_changed": "assistant:write",
    # Channels changing who can read them (handlers/visibility.py): cached answers are unshared or dropped at once.
    "channel_archive": "channels:read",
    "channel_unarchive": "channels:read",
    "channel_deleted": "channels:read",
    "channel_shared": "channels:read",
    "channel_unshared": "channels:read",
    "group_archive": "groups:read",
    "group_unarchive": "groups:read",
    "group_deleted": "groups:read",
}
"""Bot event subscription → the scope Slack requires for it (None: no scope)."""

COMMAND_SCOPE = "commands"  # slash commands and shortcuts

PURPOSE: dict[str, str] = {
    "app_mentions:read": "@Penny mentions are not delivered",
    "chat:write": "Penny cannot post or stream any answer",
    "channels:history": "threads in public channels cannot be read, /summarize of public channels fails",
    "groups:history": "threads in private channels cannot be read, /summarize of private channels fails",
    "im:history": "DMs and the assistant pane are not delivered or read",
    "mpim:history": "group DMs cannot be read",
    "channels:read": "public channels' visibility is unknown, so their answers are never shared",
    "groups:read": "private channels' visibility and membership are unknown (/summarize refuses them)",
    "im:read": "DM visibility is unknown (treated as private) and /summarize in DMs is refused",
    "mpim:read": "group-DM visibility is unknown (treated as private) and /summarize there is refused",
    "users:read": "people appear as ids, not names, and App Home cannot tell admins",
    "pins:read": "pinned documents are not read (pins.list fails) and pin changes are not heard",
    "reactions:read": "👍/👎 feedback is not delivered",
    "files:write": "the weekly digest has no chart",
    "assistant:write": "the assistant pane gets no suggested prompts, status or title",
    "commands": "/summarize and the Summarize this thread shortcut do not exist",
}
"""What a missing scope breaks, as ``penny check`` says it."""


def required_bot_scopes() -> set[str]:
    """Every bot scope the code needs: its methods', its events', and ``commands``."""
    scopes = {scope for needed in METHOD_SCOPES.values() for scope in needed}
    scopes |= {scope for scope in EVENT_SCOPES.values() if scope}
    return scopes | {COMMAND_SCOPE}


def parse_scopes(header: str | None) -> set[str]:
    """Slack's ``x-oauth-scopes`` response header: the token's scopes, comma-separated (spaces allowed)."""
    return {part.strip() for part in (header or "").split(",") if part.strip()}
