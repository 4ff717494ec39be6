"""Bolt drops every event Penny itself caused; this keeps that, except for the deletion of one of its messages.

An admin deleting a bad or leaky answer is the one event about Penny's own messages that Penny must act on: the
cached answer shown in that message has to go too. Bolt's ``IgnoringSelfEvents`` cannot tell the two apart (the
deleted message names Penny as its author), so ``bot/app.py`` turns Bolt's copy off and installs this one, first.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.middleware.ignoring_self_events.async_ignoring_self_events import AsyncIgnoringSelfEvents


class IgnoringSelfEventsButDeletions(AsyncIgnoringSelfEvents):
    @classmethod
    def _is_self_event(
        cls, auth_result: AuthorizeResult, user_id: str | None, bot_id: str | None, body: dict[str, Any]
    ) -> bool:
        event = body.get("event") or {}
        if event.get("type") == "message" and event.get("subtype") == "message_deleted":
            return False
        return bool(super()._is_self_event(auth_result, user_id, bot_id, body))
