"""Buttons. **Fresh answer** on a cached reply: re-ask the question bypassing the cache, replacing the entry.

The button's value carries the cache entry id and the original question (set by ``bot/replies.py``), so no
lookup is needed to rebuild the request; the reply edits the cached message in place.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp

from bot.request import AnswerFn, AnswerOptions, Request, Scope, Surface
from bot.slack.blocks import FRESH_ANSWER_ACTION

log = structlog.get_logger(__name__)


def parse_fresh_answer(body: dict[str, Any]) -> tuple[Request, AnswerOptions] | None:
    """The request to re-run and how; ``None`` when the payload is not one we produced (tampered or stale)."""
    try:
        action = next(a for a in body.get("actions", []) if a.get("action_id") == FRESH_ANSWER_ACTION)
        value = json.loads(action["value"])
        channel = str(body["channel"]["id"])
        message_ts = str(body["container"]["message_ts"])
        question, thread_ts = str(value["q"]), str(value["thread"])
    except (StopIteration, KeyError, TypeError, ValueError):
        return None
    request = Request(
        request_id=f"action-{body.get('trigger_id') or action.get('action_ts') or message_ts}",
        surface=Surface.ACTION,
        scope=Scope(team_id=str((body.get("team") or {}).get("id", "")), channel_id=channel),
        user_id=str((body.get("user") or {}).get("id", "")),
        text=question,
        thread_ts=thread_ts,
        message_ts=str(value.get("question_ts", thread_ts)),
    )
    options = AnswerOptions(bypass_cache=True, reply_ts=message_ts, evict_entry=str(value.get("entry") or "") or None)
    return request, options


def register(app: AsyncApp, answer: AnswerFn) -> None:
    @app.action(FRESH_ANSWER_ACTION)
    async def on_fresh_answer(ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        parsed = parse_fresh_answer(body)
        if parsed is None:
            log.warning("actions.fresh_answer.unparseable")
            return
        request, options = parsed
        await answer(request, None, options)
