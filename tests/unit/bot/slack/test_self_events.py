"""Penny's own events stay ignored, except the deletion of one of its messages (an admin removing an answer)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.self_events import IgnoringSelfEventsButDeletions

BOT_USER, BOT_ID = "U0PENNY", "B0PENNY"


def _app(seen: list[str]) -> AsyncApp:
    async def authorize(**_: Any) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=None, team_id="T1", bot_token="xoxb-1-2-a", bot_user_id=BOT_USER, bot_id=BOT_ID
        )

    app = AsyncApp(
        signing_secret="unused-in-this-test",
        authorize=authorize,
        request_verification_enabled=False,
        ignoring_self_events_enabled=False,
    )
    app.use(IgnoringSelfEventsButDeletions())

    @app.event({"type": "message", "subtype": "message_deleted"})
    async def deleted(body: dict[str, Any]) -> None:
        seen.append("deleted")

    @app.event("message")
    async def message(body: dict[str, Any]) -> None:
        seen.append("message")

    return app


def _envelope(event: dict[str, Any]) -> AsyncBoltRequest:
    body = {"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": "Ev1", "event": event}
    return AsyncBoltRequest(body=json.dumps(body), headers={"content-type": ["application/json"]})


async def _dispatch(event: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    response = await _app(seen).async_dispatch(_envelope(event))
    assert response.status == 200
    await asyncio.sleep(0.05)  # listeners run after the ack
    return seen


async def test_the_deletion_of_pennys_own_reply_reaches_its_listener() -> None:
    own_reply = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "text": "an answer", "ts": "1.2"}
    event = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": "C1",
        "hidden": True,
        "deleted_ts": "1.2",
        "previous_message": own_reply,
        "event_ts": "1.3",
        "ts": "1.3",
    }
    assert await _dispatch(event) == ["deleted"]


async def test_pennys_own_messages_are_still_ignored() -> None:
    own = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "text": "an answer", "ts": "1.2", "channel": "C1"}
    assert await _dispatch(own) == []
    someone = {**own, "user": "U0ALICE", "bot_id": None}
    someone.pop("bot_id")
    assert await _dispatch(someone) == ["message"]
