"""Buttons on Penny's messages: **Fresh answer** under a cached reply, **Post to thread** under a private draft.

A button carries one short key (set by ``bot/slack/blocks.py``); the question or the draft it stands for is
looked up server-side, so its value never outgrows Slack's 2,000 characters, whatever the language. This module
only says who clicked which key on which message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp

from bot.request import ButtonClick, ClickFn
from bot.slack.blocks import FRESH_ANSWER_ACTION, POST_DRAFT_ACTION

log = structlog.get_logger(__name__)


def parse_click(body: dict[str, Any], action_id: str) -> ButtonClick | None:
    """The click on ``action_id``; ``None`` when the payload is not one of ours or lacks where it happened."""
    try:
        action = next(a for a in body.get("actions", []) if a.get("action_id") == action_id)
        key = str(action["value"])
        channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {})["channel_id"])
        message_ts = str(body["container"]["message_ts"])
    except (StopIteration, KeyError, TypeError, ValueError):
        return None
    if not key or not channel or not message_ts:
        return None
    return ButtonClick(
        team_id=str((body.get("team") or {}).get("id", "")),
        channel_id=channel,
        user_id=str((body.get("user") or {}).get("id", "")),
        message_ts=message_ts,
        key=key,
        click_id=str(body.get("trigger_id") or action.get("action_ts") or message_ts),
    )


def register(app: AsyncApp, *, fresh_answer: ClickFn, post_draft: ClickFn) -> None:
    def listener(action_id: str, handle: ClickFn) -> None:
        @app.action(action_id)
        async def on_click(ack: Callable[[], Awaitable[None]], body: dict[str, Any], respond: Any) -> None:
            await ack()
            click = parse_click(body, action_id)
            if click is None:
                log.warning("actions.unparseable", action_id=action_id)
                return
            await handle(click, respond)

    listener(FRESH_ANSWER_ACTION, fresh_answer)
    listener(POST_DRAFT_ACTION, post_draft)
