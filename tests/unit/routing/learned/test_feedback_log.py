"""The feedback log in a real Redis, and the learned scorer following it across replicas."""

from __future__ import annotations

import asyncio

import numpy as np
import redis.asyncio as aioredis
from numpy.typing import NDArray

from bot.redis.connection import plain_client
from routing.keys import feedback_counters_key, feedback_legacy_votes_key, feedback_log_key, feedback_votes_key
from routing.learned.config import ScorerConfig
from routing.learned.features import text_features, word_buckets
from routing.learned.feedback_log import FeedbackLog, Vote
from routing.learned.signatures import decode_signature, prompt_signature
from routing.learned.sync import ScorerSync
from routing.learned.workspaces import WorkspaceScorers
from tests.unit.routing.learned.conftest import QualityCount, counters

DIM = 16


def vote(
    request: str = "R1",
    user: str = "U1",
    good: bool = True,
    *,
    channel: str = "C1",
    model: str = "glm-4-plus",
    task: str = "qa",
    tier: str = "economy",
    signature: bytes = b"",
) -> Vote:
    return Vote(
        team_id="T1",
        channel_id=channel,
        request_id=request,
        user_id=user,
        good=good,
        model=model,
        tier=tier,
        task=task,
        signature=signature,
    )


def unit(v: NDArray[np.float64]) -> NDArray[np.float32]:
    return (v / np.linalg.norm(v)).astype(np.float32)


async def test_a_vote_counts_once_however_often_it_arrives(redis: aioredis.Redis) -> None:
    log = FeedbackLog(redis)
    results = await asyncio.gather(*(log.add(vote()) for _ in range(10)))
    assert sum(results) == 1
    assert await counters(redis, "T1") == {("glm-4-plus", "qa"): QualityCount(good=1, bad=0)}
    assert len(await log.events("T1")) == 1


async def test_removing_takes_the_vote_back_and_never_goes_below_zero(redis: aioredis.Redis) -> None:
    log = FeedbackLog(redis)
    assert await log.add(vote(good=False))
    assert await log.remove(vote(good=False))
    assert not await log.remove(vote(good=False)), "nothing left to take back"
    assert await counters(redis, "T1") == {("glm-4-plus", "qa"): QualityCount(good=0, bad=0)}
    assert [e.added for e in await log.events("T1")] == [True, False]


async def test_each_person_and_polarity_is_its_own_vote(redis: aioredis.Redis) -> None:
    log = FeedbackLog(redis)
    await log.add(vote(user="U1", good=True))
    await log.add(vote(user="U2", good=True))
    await log.add(vote(user="U2", good=False))
    await log.add(vote(request="R2", user="U1", good=False, model="gpt-4o", task="summarize"))
    counts = await counters(redis, "T1")
    assert counts[("glm-4-plus", "qa")] == QualityCount(good=2, bad=1)
    assert counts[("gpt-4o", "summarize")] == QualityCount(good=0, bad=1)
    assert counts[("glm-4-plus", "qa")].good_share == 2 / 3


async def test_reads_are_scoped_by_team_channel_and_time(redis: aioredis.Redis) -> None:
    log = FeedbackLog(redis)
    await log.add(vote(channel="C1"))
    await log.add(vote(request="R2", channel="C2"))
    await log.add(
        Vote(
            team_id="T2",
            channel_id="C1",
            request_id="R9",
            user_id="U1",
            good=True,
            model="m",
            tier="economy",
            task="qa",
        )
    )
    assert [e.vote.request_id for e in await log.events("T1", channel_id="C1")] == ["R1"]
    assert len(await log.events("T1")) == 2
    assert [e.vote.request_id for e in await log.events("T2")] == ["R9"]
    events = await log.events("T1")
    assert await log.events("T1", start=events[0].at + 3600) == []
    assert len(await log.events("T1", start=events[0].at - 1, end=events[-1].at + 1)) == 2


def test_signature_round_trips_and_keeps_no_text() -> None:
    vector = unit(np.arange(1, DIM + 1, dtype=np.float64))
    blob = prompt_signature(vector, "How many PTO days do we get?", 1024)
    decoded, feats, words = decode_signature(blob)
    assert np.allclose(decoded, vector)
    assert words.shape == (128,) and feats.dtype == np.float32
    assert b"PTO" not in blob


def test_a_signature_holds_exactly_what_scoring_computes_from_the_text() -> None:
    """Votes reach the scorer as signatures, questions as text: both must become the same numbers, or a vote would
    teach the scorer about a prompt that is never scored."""
    rng = np.random.default_rng(3)
    config = ScorerConfig(tiers=("economy", "standard", "premium"), min_votes=1)
    for i in range(40):
        v = unit(rng.standard_normal(DIM))
        text = f"question {i} with {i * 7} things"
        decoded, feats, words = decode_signature(prompt_signature(v, text, config.word_buckets))
        assert decoded.tobytes() == v.tobytes()
        assert feats.tobytes() == text_features(text).tobytes()
        assert words.tobytes() == word_buckets(text, config.word_buckets).tobytes()


async def _vote_cluster(
    log: FeedbackLog,
    config: ScorerConfig,
    centre: NDArray[np.float32],
    rng: np.random.Generator,
    n: int,
    *,
    good_economy: bool,
    prefix: str,
) -> None:
    """n prompts near ``centre``, each rated once on economy and once on premium (premium always good)."""
    for i in range(n):
        v = unit(centre + 0.05 * rng.standard_normal(DIM))
        sig = prompt_signature(v, "", config.word_buckets)
        await log.add(vote(request=f"{prefix}{i}", good=good_economy, tier="economy", signature=sig))
        await log.add(vote(request=f"{prefix}{i}p", good=True, tier="premium", model="gpt-4o", signature=sig))


async def test_replicas_agree_and_the_scorer_escalates_prompts_like_badly_rated_ones(
    redis: aioredis.Redis, redis_url: str
) -> None:
    rng = np.random.default_rng(11)
    config = ScorerConfig(min_votes=50, k=20)
    log = FeedbackLog(redis)
    bad_topic, good_topic = unit(rng.standard_normal(DIM)), unit(rng.standard_normal(DIM))
    await _vote_cluster(log, config, bad_topic, rng, 60, good_economy=False, prefix="bad")
    await _vote_cluster(log, config, good_topic, rng, 60, good_economy=True, prefix="good")

    other = plain_client(redis_url)
    try:
        replicas = [WorkspaceScorers(config), WorkspaceScorers(config)]
        syncs = [ScorerSync(FeedbackLog(redis), replicas[0]), ScorerSync(FeedbackLog(other), replicas[1])]
        for sync in syncs:
            assert await sync.refresh("T1") == 240
        near_bad = unit(bad_topic + 0.05 * rng.standard_normal(DIM))
        near_good = unit(good_topic + 0.05 * rng.standard_normal(DIM))
        for scorers in replicas:
            assert scorers.should_escalate("T1", near_bad, "economy")
            assert not scorers.should_escalate("T1", near_good, "economy")
            assert not scorers.should_escalate("T2", near_bad, "economy"), "another workspace has no votes"
        assert replicas[0].scorer("T1").score(near_bad) == replicas[1].scorer("T1").score(near_bad)
    finally:
        await other.aclose()


async def test_below_min_votes_the_scorer_stays_off(redis: aioredis.Redis) -> None:
    rng = np.random.default_rng(5)
    config = ScorerConfig(min_votes=50, k=5)
    log = FeedbackLog(redis)
    centre = unit(rng.standard_normal(DIM))
    await _vote_cluster(log, config, centre, rng, 10, good_economy=False, prefix="r")
    scorers = WorkspaceScorers(config)
    await ScorerSync(log, scorers).refresh("T1")
    assert scorers.scorer("T1").n_votes == 20
    assert not scorers.should_escalate("T1", centre, "economy")


def _replica(redis: aioredis.Redis) -> tuple[FeedbackLog, WorkspaceScorers, ScorerSync, bytes]:
    """A log, one replica's scorers following it on every refresh, and a signature to vote with."""
    config = ScorerConfig(min_votes=1)
    log = FeedbackLog(redis)
    scorers = WorkspaceScorers(config)
    return (
        log,
        scorers,
        ScorerSync(log, scorers, min_interval_s=0.0),
        prompt_signature(unit(np.ones(DIM)), "", config.word_buckets),
    )


async def test_new_votes_are_appended_and_a_removal_rebuilds(redis: aioredis.Redis) -> None:
    log, scorers, sync, sig = _replica(redis)
    await log.add(vote(request="R1", signature=sig))
    assert await sync.refresh("T1") == 1
    await log.add(vote(request="R2", signature=sig))
    assert await sync.refresh("T1") == 1, "only the new vote is read"
    assert scorers.scorer("T1").n_votes == 2
    assert await sync.refresh("T1") == 0

    await log.remove(vote(request="R1", signature=sig))
    await sync.refresh("T1")
    assert scorers.scorer("T1").n_votes == 1, "the removed vote is gone from the rebuilt scorer"
    await log.add(vote(request="R3", signature=b""))
    await sync.refresh("T1")
    assert scorers.scorer("T1").n_votes == 1, "a vote without a signature teaches the scorer nothing"


async def test_a_log_trimmed_past_the_replica_triggers_a_rebuild(redis: aioredis.Redis) -> None:
    log, scorers, sync, sig = _replica(redis)
    for i in range(3):
        await log.add(vote(request=f"R{i}", signature=sig))
    await sync.refresh("T1")
    for i in range(3, 6):
        await log.add(vote(request=f"R{i}", signature=sig))
    await redis.xtrim(feedback_log_key("T1"), maxlen=2, approximate=False)  # as MAXLEN ~ does to a busy log
    await sync.refresh("T1")
    assert scorers.scorer("T1").n_votes == 2, "rebuilt from what the log still holds"


async def test_refresh_is_rate_limited_per_team(redis: aioredis.Redis) -> None:
    now = [0.0]
    log = FeedbackLog(redis)
    sync = ScorerSync(log, WorkspaceScorers(ScorerConfig()), min_interval_s=2.0, clock=lambda: now[0])
    sig = prompt_signature(unit(np.ones(DIM)), "", 1024)
    await log.add(vote(request="R1", signature=sig))
    assert await sync.refresh("T1") == 1
    await log.add(vote(request="R2", signature=sig))
    assert await sync.refresh("T1") == 0, "checked a moment ago"
    assert await sync.refresh("T1", force=True) == 1
    now[0] = 5.0
    await log.add(vote(request="R3", signature=sig))
    assert await sync.refresh("T1") == 1


async def test_a_re_sent_vote_change_gets_the_same_answer_and_applies_once(redis: aioredis.Redis) -> None:
    """redis-py re-sends a command after a connection error even when Redis ran it: the same change twice."""
    log = FeedbackLog(redis)
    assert await log.add(vote(), op_id="op-1")
    assert await log.add(vote(), op_id="op-1"), "the re-sent add still says it counted the vote"
    assert not await log.add(vote(), op_id="op-2"), "a new add of the same vote is a duplicate"
    assert await counters(redis, "T1") == {("glm-4-plus", "qa"): QualityCount(good=1, bad=0)}
    assert await log.remove(vote(), op_id="op-3")
    assert await log.remove(vote(), op_id="op-3")
    assert await counters(redis, "T1") == {("glm-4-plus", "qa"): QualityCount(good=0, bad=0)}
    assert len(await log.events("T1")) == 2


async def test_votes_expire_with_their_answer_and_old_votes_can_still_be_taken_back(redis: aioredis.Redis) -> None:
    log = FeedbackLog(redis, votes_ttl_s=600)
    assert await log.add(vote(request="R1"))
    assert 0 < await redis.ttl(feedback_votes_key("T1", "R1")) <= 600
    await redis.hset(feedback_legacy_votes_key("T1"), vote(request="R0").field, "1")  # counted by an old version
    await redis.hincrby(feedback_counters_key("T1"), vote(request="R0").counter_field, 1)
    assert not await log.add(vote(request="R0")), "an old vote is not counted twice"
    assert await log.remove(vote(request="R0"))
    assert not await redis.exists(feedback_legacy_votes_key("T1"))
    assert await counters(redis, "T1") == {("glm-4-plus", "qa"): QualityCount(good=1, bad=0)}
