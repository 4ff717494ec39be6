"""The assistant's last line of defence: a bug deep inside still ends in a clear sentence and one ledger row."""

from typing import Any

import redis.asyncio as aioredis
from slack_sdk.web.async_client import AsyncWebClient

from bot import replies
from bot.assistant.orchestrator import Assistant, AssistantSettings
from bot.ledger import Ledger
from bot.request import Request, Scope, Surface
from bot.slack.channels import ChannelDirectory
from routing.catalog import load_catalog
from tests.harness.slack_emulator import SlackEmulator


class _ExplodingRouter:
    async def plan(self, request: Any) -> Any:
        raise RuntimeError("a bug in routing")


class _Routing:
    router = _ExplodingRouter()
    generator = None


async def test_unexpected_error_replaces_the_placeholder_and_is_recorded_once(redis_url: str) -> None:
    redis = aioredis.Redis.from_url(redis_url)
    with SlackEmulator() as slack:
        alice = slack.add_user("alice")
        channel = slack.add_channel("general", members=[alice.id]).id
        question = slack.post_user_message(channel, alice.id, "<@U0PENNY> hello?")
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        ledger = Ledger(redis)
        assistant = Assistant(
            slack=client, routing=_Routing(), catalog=load_catalog(), ledger=ledger,  # type: ignore[arg-type]
            channels=ChannelDirectory(client), settings=AssistantSettings(stream_interval_s=0.05),
        )
        request = Request(request_id="Ev1", surface=Surface.MENTION, scope=Scope(slack.team_id, channel),
                          user_id=alice.id, text="hello?", thread_ts=question.ts, message_ts=question.ts)
        await assistant.answer(request)
        replies_ = slack.bot_replies(channel, question.ts)
        assert [r.text for r in replies_] == [replies.UNEXPECTED_TEXT]
        assert "a bug in routing" not in replies_[0].text
        rows = await ledger.entries(slack.team_id)
        assert [(r.request_id, r.outcome) for r in rows] == [("Ev1", "failed")]
    await redis.aclose()
