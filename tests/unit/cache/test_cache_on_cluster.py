"""The cache on a real three-master Redis Cluster: the same tests as on one server, plus workspaces whose keys
live on different nodes, whose change streams the tail must read slot by slot."""

from __future__ import annotations

import asyncio
import time

import numpy as np
from redis.crc import key_slot

from cache.store import EntryStore, stream_key
from tests.cluster_fixtures import redis_url
from tests.harness.redis_cluster import LocalRedisCluster, slot_ranges
from tests.unit.cache.conftest import CacheFactory, hold, indexed, query, random_unit
from tests.unit.cache.test_cache_redis import (  # re-run on the cluster (``redis_url`` is overridden below)
    test_evict_for_feedback,
    test_exact_hit_then_semantic_hit,
    test_lru_cap_evicts_least_recently_used,
    test_shared_entry_refused_when_visibility_changed_but_not_yet_synced,
    test_shared_public_entry_and_visibility_change,
    test_source_message_deletion_evicts,
    test_ttl_expiry_removes_entry_and_vector_everywhere,
    test_two_instances_share_entries_within_one_second,
)
from tests.unit.cache.test_lazy_indexes import (
    test_changes_during_a_load_are_replayed_and_concurrent_lookups_share_one_load,
    test_least_recently_used_scopes_are_dropped_past_the_budget,
    test_the_shared_index_loads_only_shared_entries,
)
from tests.unit.cache.test_privacy_under_change import (
    test_a_shared_answer_is_served_only_after_its_source_channel_is_asked_again,
    test_a_stale_replica_cannot_share_a_channel_again_that_turned_private,
    test_an_archived_or_deleted_channel_takes_its_answers_along_on_every_replica,
)

__all__ = [
    "redis_url",
    "test_a_shared_answer_is_served_only_after_its_source_channel_is_asked_again",
    "test_a_stale_replica_cannot_share_a_channel_again_that_turned_private",
    "test_an_archived_or_deleted_channel_takes_its_answers_along_on_every_replica",
    "test_changes_during_a_load_are_replayed_and_concurrent_lookups_share_one_load",
    "test_evict_for_feedback",
    "test_exact_hit_then_semantic_hit",
    "test_least_recently_used_scopes_are_dropped_past_the_budget",
    "test_lru_cap_evicts_least_recently_used",
    "test_shared_entry_refused_when_visibility_changed_but_not_yet_synced",
    "test_shared_public_entry_and_visibility_change",
    "test_source_message_deletion_evicts",
    "test_the_shared_index_loads_only_shared_entries",
    "test_ttl_expiry_removes_entry_and_vector_everywhere",
    "test_two_instances_share_entries_within_one_second",
]

NOW = 1_000_000.0


def _teams_on_every_node(nodes: int) -> list[str]:
    """One workspace id per node: the first ``T…`` whose change stream hashes into that node's slot range."""
    teams: list[str] = []
    for slots in slot_ranges(nodes):
        teams.append(next(f"T{n}" for n in range(100_000) if key_slot(stream_key(f"T{n}").encode()) in slots))
    return teams


async def test_a_replica_follows_workspaces_on_every_node(
    make_cache: CacheFactory, redis_cluster: LocalRedisCluster
) -> None:
    writer, replica = await make_cache(), await make_cache()
    assert not replica._store.blocking_reads, "a cluster's streams span slots: the tail reads per slot"
    teams = _teams_on_every_node(len(redis_cluster.nodes))
    for team in teams:
        await hold(replica, team)  # held, so the change stream keeps each workspace's index current
    stored: list[str] = []
    for n, team in enumerate(teams):
        entry_id = await writer.store(
            query(f"Where is office {n}?", team=team, vector=random_unit(10 + n)),
            "Upstairs.",
            model="m",
            tier="economy",
            now=NOW,
        )
        assert entry_id is not None
        stored.append(entry_id)
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and not all(indexed(replica, e) for e in stored):
        await asyncio.sleep(0.05)
    assert all(indexed(replica, e) for e in stored), "every workspace's adds reached the replica"

    await writer.evict(stored[-1])
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and indexed(replica, stored[-1]):
        await asyncio.sleep(0.05)
    assert not indexed(replica, stored[-1]), "the removal reached the replica"
    fresh = await make_cache()  # a replica started now loads each workspace's scope from its own node
    for team in teams:
        await hold(fresh, team)
    assert all(indexed(fresh, e) for e in stored[:-1]) and not indexed(fresh, stored[-1])
    near = random_unit(10) + 0.05 * random_unit(99)
    hit = await fresh.lookup(query("Where is office 0?", team=teams[0], vector=near / np.linalg.norm(near)), now=NOW)
    assert hit is not None and hit.entry_id == stored[0]


async def test_positions_and_reads_stay_within_one_slot_each(redis_url: str) -> None:
    from bot.redis.connection import plain_client

    client = plain_client(redis_url)
    try:
        await client.ping()  # redis-py 8.1: a transaction as a fresh cluster client's first command fails
        store = EntryStore(client)
        teams = _teams_on_every_node(3)
        positions = await store.stream_positions(teams)
        assert set(positions) == set(teams)
        batch = await store.read_changes({t: p for t, (p, _s) in positions.items()}, new_teams_after="0-0", block_ms=10)
        assert batch.changes == [] and batch.new_teams == []
    finally:
        await client.aclose()
