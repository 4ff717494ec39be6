"""👍/👎 from payload to vote: parsing, the message→request map and the feedback service in a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import numpy as np
import pytest
import redis.asyncio as aioredis

from bot.feedback.answer_map import AnsweredMessage, AnswerMap
from bot.feedback.votes import Feedback
from bot.redis.connection import plain_client
from bot.request import Reaction
from handlers.reactions import parse_reaction
from routing.learned.config import ScorerConfig
from routing.learned.feedback_log import FeedbackLog
from routing.learned.sync import ScorerSync
from routing.learned.workspaces import WorkspaceScorers
from tests.unit.routing.learned.conftest import QualityCount, counters
from vocabulary import RequestOutcome, TaskKind, Tier


def _event(reaction: str, *, item_type: str = "message", user: str = "U2") -> dict:
    return {
        "team_id": "T1",
        "event": {
            "type": "reaction_added",
            "user": user,
            "reaction": reaction,
            "item": {"type": item_type, "channel": "C1", "ts": "200.1"},
            "item_user": "UBOT",
            "event_ts": "300.1",
        },
    }


@pytest.mark.parametrize(
    ("name", "good"),
    [
        ("+1", True),
        ("thumbsup", True),
        ("+1::skin-tone-4", True),
        ("-1", False),
        ("thumbsdown", False),
        ("-1::skin-tone-2", False),
    ],
)
def test_thumbs_in_any_name_and_skin_tone_are_votes(name: str, good: bool) -> None:
    reaction = parse_reaction(_event(name), added=True)
    assert reaction == Reaction(team_id="T1", channel_id="C1", message_ts="200.1", user_id="U2", good=good, added=True)


@pytest.mark.parametrize("name", ["heart", "eyes", "+1x", "thumbsup_all", ""])
def test_other_emoji_are_not_votes(name: str) -> None:
    assert parse_reaction(_event(name), added=True) is None


def test_reactions_on_files_or_without_a_user_are_ignored() -> None:
    assert parse_reaction(_event("+1", item_type="file"), added=True) is None
    assert parse_reaction(_event("+1", user=""), added=False) is None


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = plain_client(redis_url)
    yield client
    await client.aclose()


class Evictions:
    def __init__(self) -> None:
        self.entries: list[str] = []

    async def __call__(self, entry_id: str) -> None:
        self.entries.append(entry_id)


def _service(redis: aioredis.Redis, evictions: Evictions, scorers: WorkspaceScorers | None = None) -> Feedback:
    votes = FeedbackLog(redis)
    scorers = scorers or WorkspaceScorers(ScorerConfig(min_votes=1))
    return Feedback(
        answers=AnswerMap(redis),
        votes=votes,
        scorer_sync=ScorerSync(votes, scorers),
        signature=scorers.signature,
        evict=evictions,
    )


def _thumb(
    ts: str = "200.1", *, good: bool = True, added: bool = True, user: str = "U2", channel: str = "C1"
) -> Reaction:
    return Reaction(team_id="T1", channel_id=channel, message_ts=ts, user_id=user, good=good, added=added)


async def _answered(
    feedback: Feedback, *, outcome: RequestOutcome = RequestOutcome.ANSWERED, cache_entry: str = "T1:7"
) -> None:
    answer = AnsweredMessage(
        request_id="Ev1",
        team_id="T1",
        channel_id="C1",
        task=TaskKind.QA,
        model="glm-4-plus",
        tier=Tier.ECONOMY,
        outcome=outcome,
        cache_entry=cache_entry,
    )
    await feedback.remember_answer(
        answer, ["200.1", "200.2"], vector=np.ones(8, dtype=np.float32) / np.sqrt(8), question="How many PTO days?"
    )


async def test_a_thumb_on_any_part_of_an_answer_counts_for_its_model_and_task(redis: aioredis.Redis) -> None:
    evictions = Evictions()
    feedback = _service(redis, evictions)
    await _answered(feedback)
    assert await feedback.on_reaction(_thumb("200.2", good=True))
    assert await feedback.on_reaction(_thumb("200.1", good=True, user="U3"))
    counts = await counters(redis, "T1")
    assert counts == {("glm-4-plus", "qa"): QualityCount(good=2, bad=0)}
    assert evictions.entries == [], "a 👍 keeps the cache entry"


async def test_thumbs_down_evicts_the_cache_entry_and_teaches_the_scorer(redis: aioredis.Redis) -> None:
    evictions = Evictions()
    scorers = WorkspaceScorers(ScorerConfig(min_votes=1))
    feedback = _service(redis, evictions, scorers)
    await _answered(feedback)
    assert await feedback.on_reaction(_thumb(good=False))
    assert evictions.entries == ["T1:7"]
    assert scorers.scorer("T1").n_votes == 1
    assert await feedback.on_reaction(_thumb(good=False)), "a redelivered event is still Penny's message"
    assert evictions.entries == ["T1:7"], "...but does not count or evict twice"
    assert await feedback.on_reaction(_thumb(good=False, added=False))
    assert (await counters(redis, "T1"))[("glm-4-plus", "qa")] == QualityCount(0, 0)
    assert scorers.scorer("T1").n_votes == 0, "taking the 👎 back takes the vote out of the scorer"


async def test_messages_that_are_not_penny_answers_are_ignored(redis: aioredis.Redis) -> None:
    feedback = _service(redis, Evictions())
    await _answered(feedback)
    assert not await feedback.on_reaction(_thumb("999.9"))
    assert not await feedback.on_reaction(_thumb("200.1", channel="C2")), "the map is scoped by channel"
    assert await FeedbackLog(redis).events("T1") == []


async def test_the_map_keeps_ids_and_a_signature_never_the_question(redis: aioredis.Redis) -> None:
    feedback = _service(redis, Evictions())
    await _answered(feedback, outcome=RequestOutcome.CACHE_HIT)
    record = await AnswerMap(redis).lookup("T1", "C1", "200.2")
    assert record is not None
    assert record == AnsweredMessage(
        request_id="Ev1",
        team_id="T1",
        channel_id="C1",
        task="qa",
        model="glm-4-plus",
        tier="economy",
        outcome="cache_hit",
        cache_entry="T1:7",
        signature=record.signature,
    )
    assert record.signature and b"PTO" not in record.signature
    for key in await redis.keys("penny:*answer*"):
        assert 0 < await redis.ttl(key) <= 30 * 86400
        assert not any(b"PTO" in bytes(v) for v in (await redis.hgetall(key)).values())


async def test_a_thumb_on_an_answer_still_streaming_counts_once_it_is_recorded(redis: aioredis.Redis) -> None:
    """People react while the words are still arriving; the answer is recorded only after its final text."""
    feedback = _service(redis, Evictions())
    early = replace(_thumb("200.2", good=True), on_penny_message=True)
    taken_back = replace(_thumb("200.1", good=False, user="U3"), on_penny_message=True)
    assert await feedback.on_reaction(early), "Penny's message: kept for its answer"
    assert await feedback.on_reaction(taken_back)
    assert await feedback.on_reaction(replace(taken_back, added=False))
    assert not await feedback.on_reaction(_thumb("999.9")), "someone else's message is not kept"
    assert await counters(redis, "T1") == {}
    await _answered(feedback)
    assert await counters(redis, "T1") == {("glm-4-plus", "qa"): QualityCount(good=1, bad=0)}, "in order, once"
    await _answered(feedback)
    assert await counters(redis, "T1") == {("glm-4-plus", "qa"): QualityCount(good=1, bad=0)}, "not replayed"
    assert not await redis.keys("penny:{T1}:answer:parked:*")


def test_a_reaction_on_pennys_own_message_says_so() -> None:
    event = _event("+1")
    assert parse_reaction(event, added=True, bot_user_id="UBOT").on_penny_message  # type: ignore[union-attr]
    assert not parse_reaction(event, added=True, bot_user_id="UOTHER").on_penny_message  # type: ignore[union-attr]
