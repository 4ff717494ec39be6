"""Routing's Redis state on a real three-master Redis Cluster: budgets, model health (each model's keys in their own
slot) and the vote log, by the same tests as on one server. A script or multi-key command whose keys spanned slots
would fail here (the cluster client refuses it before Redis would)."""

from __future__ import annotations

import redis.asyncio as aioredis

from routing.calls.health import Health
from tests.cluster_fixtures import redis, redis_url
from tests.unit.routing.calls.test_health import (
    test_error_rate_needs_five_calls_in_the_window,
    test_failed_probe_starts_a_new_cooldown,
    test_slow_model_leaves_and_returns_after_one_probe,
    test_two_instances_sharing_redis_agree,
)
from tests.unit.routing.learned.test_feedback_log import (
    test_a_re_sent_vote_change_gets_the_same_answer_and_applies_once,
    test_a_vote_counts_once_however_often_it_arrives,
    test_reads_are_scoped_by_team_channel_and_time,
    test_removing_takes_the_vote_back_and_never_goes_below_zero,
    test_votes_expire_with_their_answer_and_old_votes_can_still_be_taken_back,
)
from tests.unit.routing.spend.test_budget import (
    test_a_re_sent_reserve_extend_and_settle_each_apply_once,
    test_every_budget_key_expires,
    test_extend_respects_the_cap,
    test_settle_lands_in_the_period_it_reserved,
    test_soft_limit_state_and_note_said_once,
    test_twenty_concurrent_budget_instances_never_overshoot,
    test_twenty_concurrent_reservations_never_overshoot,
)

__all__ = [
    "redis",
    "redis_url",
    "test_a_re_sent_reserve_extend_and_settle_each_apply_once",
    "test_a_re_sent_vote_change_gets_the_same_answer_and_applies_once",
    "test_a_vote_counts_once_however_often_it_arrives",
    "test_error_rate_needs_five_calls_in_the_window",
    "test_every_budget_key_expires",
    "test_extend_respects_the_cap",
    "test_failed_probe_starts_a_new_cooldown",
    "test_reads_are_scoped_by_team_channel_and_time",
    "test_removing_takes_the_vote_back_and_never_goes_below_zero",
    "test_settle_lands_in_the_period_it_reserved",
    "test_slow_model_leaves_and_returns_after_one_probe",
    "test_soft_limit_state_and_note_said_once",
    "test_twenty_concurrent_budget_instances_never_overshoot",
    "test_twenty_concurrent_reservations_never_overshoot",
    "test_two_instances_sharing_redis_agree",
    "test_votes_expire_with_their_answer_and_old_votes_can_still_be_taken_back",
]


async def test_model_states_are_read_across_the_models_slots(redis: aioredis.Redis, catalog, clock) -> None:
    """Every model's health keys hash to their own slot; reading all models' states must not be one MGET."""
    health = Health(redis, catalog, clock=clock)
    model_ids = [model.id for model in catalog.models]
    for _ in range(6):
        await health.record(model_ids[0], ok=False, ttft_s=None)
    states = await health.states(model_ids)
    assert set(states) == set(model_ids)
    assert states[model_ids[0]] != states[model_ids[1]]
