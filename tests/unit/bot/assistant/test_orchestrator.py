"""The assistant's last line of defence: a bug deep inside still ends in a clear sentence and one ledger row.

Built the way ``bot/app.py`` builds it, with the optional parts as their null objects, against the Slack
emulator and a real Redis; only the router is replaced, by one with a bug in it.
"""

from typing import Any

import redis.asyncio as aioredis
from slack_sdk.web.async_client import AsyncWebClient

from bot import replies
from bot.assistant.cached_answers import NoCachedAnswers
from bot.assistant.context import ContextGatherer, NoEmbedder, NoPins
from bot.assistant.drafts import Drafts
from bot.assistant.fresh_answers import FreshAnswers
from bot.assistant.joined_threads import JoinedThreads
from bot.assistant.orchestrator import Assistant, AssistantParts
from bot.feedback.votes import NoFeedback
from bot.ledger import Ledger
from bot.lifecycle import Lifecycle
from bot.redis.connection import plain_client
from bot.request import Request, Scope, Surface
from bot.slack.conversations import ConversationReader
from bot.slack.pane import PaneApi
from bot.slack.people import PeopleDirectory
from bot.slack.streamer import Streamers, StreamSettings
from routing.catalog import load_catalog
from tests.harness.slack_emulator import SlackEmulator
from vocabulary import RequestOutcome


class _ExplodingRouter:
    async def plan(self, request: Any) -> Any:
        raise RuntimeError("a bug in routing")


class _Routing:
    router = _ExplodingRouter()
    generator = None


def build_assistant(client: AsyncWebClient, redis: aioredis.Redis, routing: Any) -> Assistant:
    lifecycle = Lifecycle(
        ledger=Ledger(redis),
        streamers=Streamers(client, StreamSettings(interval_s=0.05)),
        routing=routing,
        feedback=NoFeedback(),
    )
    context = ContextGatherer(
        reader=ConversationReader(client),
        people=PeopleDirectory(client),
        embedder=NoEmbedder(),
        pins=NoPins(),
        thread_messages=50,
    )
    return Assistant(
        AssistantParts(
            slack=client,
            lifecycle=lifecycle,
            context=context,
            answers=NoCachedAnswers(),
            routing=routing,
            threads=JoinedThreads(redis),
            baseline_model=load_catalog().baseline_model,
            drafts=Drafts(redis, client),
            fresh=FreshAnswers(redis),
            pane=PaneApi(client),
        )
    )


async def test_unexpected_error_replaces_the_placeholder_and_is_recorded_once(redis_url: str) -> None:
    redis = plain_client(redis_url)
    with SlackEmulator() as slack:
        alice = slack.add_user("alice")
        channel = slack.add_channel("general", members=[alice.id]).id
        question = slack.post_user_message(channel, alice.id, "<@U0PENNY> hello?")
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        assistant = build_assistant(client, redis, _Routing())
        request = Request(
            request_id="Ev1",
            surface=Surface.MENTION,
            scope=Scope(slack.team_id, channel),
            user_id=alice.id,
            text="hello?",
            thread_ts=question.ts,
            message_ts=question.ts,
        )
        await assistant.answer(request)
        replies_ = slack.bot_replies(channel, question.ts)
        assert [r.text for r in replies_] == [replies.UNEXPECTED_TEXT]
        assert "a bug in routing" not in replies_[0].text
        rows = await Ledger(redis).entries(slack.team_id)
        assert [(r.request_id, r.outcome) for r in rows] == [("Ev1", RequestOutcome.FAILED)]
    await redis.aclose()
