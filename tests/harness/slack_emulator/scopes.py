"""Which OAuth scope each emulated Web API method needs, as Slack's method reference pages list them.

Slack checks the token's scopes before the method runs: a token without one answers
``{"ok": false, "error": "missing_scope", "needed": "...", "provided": "..."}``, and every answer carries the
token's scopes in the ``x-oauth-scopes`` header (comma-separated). Conversation methods need the scope of the
conversation's kind (``channels:history`` for a public channel, ``im:history`` for a DM...). This table is the
emulator's own, written from the docs, so it is an independent check of Penny's ``bot/slack/scopes.py``.
"""

from __future__ import annotations

# kind → scope family prefix, for the methods whose scope depends on the conversation.
KIND_PREFIX = {"public": "channels", "private": "groups", "im": "im", "mpim": "mpim"}

# method → scopes, any one of which suffices; "{kind}:x" is filled with the conversation's family.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.startStream": ("chat:write",),
    "chat.appendStream": ("chat:write",),
    "chat.stopStream": ("chat:write",),
    "conversations.history": ("{kind}:history",),
    "conversations.replies": ("{kind}:history",),
    "conversations.info": ("{kind}:read",),
    "conversations.members": ("{kind}:read",),
    "users.info": ("users:read",),
    "pins.list": ("pins:read",),
    "pins.add": ("pins:write",),
    "pins.remove": ("pins:write",),
    "reactions.add": ("reactions:write",),
    "reactions.remove": ("reactions:write",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
    # setStatus accepts chat:write or assistant:write "for the time being" (its reference page says so).
    "assistant.threads.setStatus": ("assistant:write", "chat:write"),
    "assistant.threads.setSuggestedPrompts": ("assistant:write",),
    "assistant.threads.setTitle": ("assistant:write",),
}


def all_scopes() -> set[str]:
    """Every scope the table can ask for: the default grant, so a test restricts only what it means to."""
    found: set[str] = set()
    for scopes in METHOD_SCOPES.values():
        for scope in scopes:
            if "{kind}" in scope:
                found.update(scope.format(kind=prefix) for prefix in KIND_PREFIX.values())
            else:
                found.add(scope)
    return found | {"app_mentions:read", "reactions:read", "commands"}


def needed(method: str, kind: str | None) -> tuple[str, ...]:
    """The scopes that would let ``method`` run on a conversation of ``kind`` (``()`` when none is needed)."""
    scopes = METHOD_SCOPES.get(method, ())
    if kind is None:
        return tuple(s for s in scopes if "{kind}" not in s)
    return tuple(s.format(kind=KIND_PREFIX[kind]) for s in scopes)
