"""Slack's assistant pane (AI apps): Bolt's ``AsyncAssistant`` routes its events; this module parses them.

``assistant_thread_started`` (the user opened the pane: greet, suggest prompts) and
``assistant_thread_context_changed`` (the user is now looking at another channel) become ``PaneThread`` values;
a user's message in a pane thread becomes a ``Request`` for the pane surface. Bolt's middleware catches every
human message in a DM *thread*, so DM threads that are not pane threads arrive here too; the pane service tells
them apart (it remembers the threads Slack opened) and answers those as plain DMs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.payload_utils import is_other_message_sub_event_in_assistant_thread
from slack_bolt.response import BoltResponse

from bot.request import PaneFn, PaneMessageFn, PaneThread, Surface
from handlers.claims import finishing_claim
from handlers.dms import parse_dm_message


class PaneAssistant(AsyncAssistant):
    """Bolt's assistant middleware, except that edits and deletions in pane threads go on to Penny's own
    listeners (a deletion evicts cached answers; every event's claim is finished) instead of being dropped."""

    async def async_process(  # type: ignore[override]
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        if is_other_message_sub_event_in_assistant_thread(req.body):
            return await next()
        return await super().async_process(req=req, resp=resp, next=next)


def parse_pane_thread(body: dict[str, Any]) -> PaneThread | None:
    """The pane thread of an ``assistant_thread_started`` / ``assistant_thread_context_changed`` event."""
    event = body.get("event") or {}
    thread = event.get("assistant_thread") or {}
    channel, thread_ts, user = thread.get("channel_id"), thread.get("thread_ts"), thread.get("user_id")
    if not (channel and thread_ts and user):
        return None
    viewing = (thread.get("context") or {}).get("channel_id")
    return PaneThread(
        team_id=str(body.get("team_id") or (thread.get("context") or {}).get("team_id") or ""),
        channel_id=str(channel),
        thread_ts=str(thread_ts),
        user_id=str(user),
        context_channel_id=str(viewing) if viewing else None,
    )


def register(app: AsyncApp, *, started: PaneFn, context_changed: PaneFn, message: PaneMessageFn) -> None:
    assistant = PaneAssistant()

    @assistant.thread_started
    async def on_thread_started(body: dict[str, Any], context: dict[str, Any]) -> None:
        thread = parse_pane_thread(body)
        await finishing_claim(context, started(thread) if thread is not None else None)

    @assistant.thread_context_changed
    async def on_context_changed(body: dict[str, Any], context: dict[str, Any]) -> None:
        thread = parse_pane_thread(body)
        await finishing_claim(context, context_changed(thread) if thread is not None else None)

    @assistant.user_message
    async def on_user_message(body: dict[str, Any], context: dict[str, Any]) -> None:
        request = parse_dm_message(body, context.get("bot_user_id"), surface=Surface.PANE)
        if request is None:
            await finishing_claim(context, None)
            return
        await message(request, context.get("event_claim"))

    app.assistant(assistant)
