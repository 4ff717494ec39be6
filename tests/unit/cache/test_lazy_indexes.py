"""Indexes per scope, loaded on first use and dropped past the memory budget, against a real redis-server.

What must hold whatever is held in memory: the same answers as with every index loaded, no entry lost or
resurrected by a change that lands while a scope is dropped or being loaded, and no answer crossing a scope.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from cache.entry import SHARED_CHANNEL, index_key
from cache.index import PER_ENTRY_OVERHEAD_BYTES, PER_INDEX_OVERHEAD_BYTES
from cache.semantic import SemanticCache
from cache.values import CacheSettings
from tests.unit.cache.conftest import DIM, CacheFactory, hold, indexed, query, random_unit
from vocabulary import Tier

NOW = 1_000_000.0
STORED = "What is the guest wifi password?"
PROBE = "What's the guest wifi password?"  # not the exact key: only the semantic layer can answer it
PER_ENTRY = DIM * 4 + PER_ENTRY_OVERHEAD_BYTES


def budget_mb(scopes: int, entries: int) -> float:
    """A budget that holds ``scopes`` scopes of ``entries`` entries each, and not one more."""
    return (scopes * (PER_INDEX_OVERHEAD_BYTES + entries * PER_ENTRY) + PER_ENTRY) / (1024 * 1024)


async def fill(cache: SemanticCache, channels: list[str], per_channel: int = 3) -> dict[str, str]:
    """Each channel gets the wifi question (its own vector) and some padding; returns channel -> wifi entry id."""
    wifi: dict[str, str] = {}
    for n, channel in enumerate(channels):
        entry_id = await cache.store(
            query(STORED, channel=channel, vector=random_unit(1000 + n)),
            f"Ask {channel}.",
            model="m",
            tier=Tier.ECONOMY,
        )
        assert entry_id is not None
        wifi[channel] = entry_id
        for i in range(per_channel - 1):
            padding = query(f"padding {i} in {channel}", channel=channel, vector=random_unit(5000 + 100 * n + i))
            assert await cache.store(padding, "p", model="m", tier=Tier.ECONOMY)
    return wifi


async def probe(cache: SemanticCache, channel: str, n: int) -> str | None:
    hit = await cache.lookup(query(PROBE, channel=channel, vector=random_unit(1000 + n)), now=NOW)
    assert hit is None or hit.kind == "semantic"
    return None if hit is None else hit.entry_id


def held(cache: SemanticCache) -> list[str]:
    return [key for key, _index in cache._indexes.items()]


async def _eventually(predicate: Any, timeout: float = 2.0) -> bool:
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return False


async def test_a_scope_is_loaded_on_its_first_lookup_only(make_cache: CacheFactory) -> None:
    writer = await make_cache()
    wifi = await fill(writer, ["C1", "C2", "C3"])
    reader = await make_cache()
    assert held(reader) == [], "nothing is loaded at start"
    assert await probe(reader, "C2", 1) == wifi["C2"]
    assert held(reader) == [index_key("T1", "C2")]
    assert len(reader._indexes.get(index_key("T1", "C2")) or []) == 3
    # Private to its channel as before: C1's question asked in C2 finds nothing, even with C1's vector.
    assert await probe(reader, "C2", 0) is None
    stats = reader.index_stats()
    assert stats.loaded_scopes == 1 and stats.memory_bytes == PER_INDEX_OVERHEAD_BYTES + 3 * PER_ENTRY
    assert stats.budget_bytes is None and stats.evictions == 0


async def test_least_recently_used_scopes_are_dropped_past_the_budget(make_cache: CacheFactory) -> None:
    channels = [f"C{n}" for n in range(6)]
    writer = await make_cache()
    wifi = await fill(writer, channels)
    reader = await make_cache(CacheSettings(index_memory_mb=budget_mb(scopes=2, entries=3)))
    for n, channel in enumerate(channels):
        assert await probe(reader, channel, n) == wifi[channel]
        assert reader.index_stats().memory_bytes <= reader._indexes.budget_bytes  # type: ignore[operator]
    assert held(reader) == [index_key("T1", "C4"), index_key("T1", "C5")]
    assert reader.index_stats().evictions == 4
    # Using C4 makes C5 the least recently used: a new scope drops C5, not C4.
    assert await probe(reader, "C4", 4) == wifi["C4"]
    assert await probe(reader, "C0", 0) == wifi["C0"], "a dropped scope is read again from Redis, same answer"
    assert held(reader) == [index_key("T1", "C4"), index_key("T1", "C0")]
    for n, channel in enumerate(channels):  # round and round: every answer still right, none crossing scopes
        assert await probe(reader, channel, n) == wifi[channel]
        assert await probe(reader, channel, (n + 1) % len(channels)) is None


async def test_the_scope_in_use_is_never_dropped_even_past_a_tiny_budget(make_cache: CacheFactory) -> None:
    writer = await make_cache(CacheSettings(share_public_workspace_wide=True))
    wifi = await fill(writer, ["C1", "C2"], per_channel=5)
    reader = await make_cache(CacheSettings(share_public_workspace_wide=True, index_memory_mb=0.000001))
    # The lookup needs C2's index and the shared one; both are pinned while it loads them.
    assert await probe(reader, "C2", 0) == wifi["C1"], "C1's public answer, through the shared index"
    assert await probe(reader, "C2", 1) == wifi["C2"]
    in_use = {index_key("T1", "C2"), index_key("T1", SHARED_CHANNEL)}
    assert set(held(reader)) == in_use, "the last lookup's scopes stay, however far past the budget"
    assert await probe(reader, "C1", 0) == wifi["C1"]
    assert set(held(reader)) == {index_key("T1", "C1"), index_key("T1", SHARED_CHANNEL)}


async def test_changes_to_a_dropped_scope_are_read_on_its_next_load(make_cache: CacheFactory) -> None:
    writer = await make_cache()
    wifi = await fill(writer, ["C1", "C2"])
    reader = await make_cache(CacheSettings(index_memory_mb=budget_mb(scopes=1, entries=3)))
    assert await probe(reader, "C1", 0) == wifi["C1"]
    assert await probe(reader, "C2", 1) == wifi["C2"]  # drops C1
    assert index_key("T1", "C1") not in held(reader)
    await writer.evict(wifi["C1"])  # while C1 is not held anywhere on the reader
    added = await writer.store(
        query("Where is the printer?", channel="C1", vector=random_unit(77)), "2F.", model="m", tier=Tier.ECONOMY
    )
    assert added is not None
    await asyncio.sleep(0.2)  # the reader's tail sees both changes and, holding no C1 index, keeps nothing
    assert await probe(reader, "C1", 0) is None, "removed while dropped: not resurrected"
    assert indexed(reader, added), "added while dropped: in the reloaded index"
    assert not indexed(reader, wifi["C1"])


async def test_changes_during_a_load_are_replayed_and_concurrent_lookups_share_one_load(
    make_cache: CacheFactory,
) -> None:
    writer = await make_cache()
    wifi = await fill(writer, ["C1"], per_channel=4)
    reader = await make_cache()
    store = reader._replica._store
    read_scope = store.scope_vectors
    reads = 0
    snapshot_taken, release = asyncio.Event(), asyncio.Event()

    async def slow_scope_vectors(team_id: str, channel_id: str, batch: int = 500) -> list[tuple[int, bytes]]:
        nonlocal reads
        reads += 1
        rows = await read_scope(team_id, channel_id, batch)  # what Redis held before the changes below
        snapshot_taken.set()
        await release.wait()
        return rows

    store.scope_vectors = slow_scope_vectors  # type: ignore[method-assign]
    lookups = [asyncio.create_task(probe(reader, "C1", 0)) for _ in range(5)]
    await snapshot_taken.wait()
    assert reader._indexes.loading(index_key("T1", "C1"))
    await writer.evict(wifi["C1"])  # in the snapshot, removed during the load
    added = await writer.store(
        query(STORED, channel="C1", vector=random_unit(2000)), "New.", model="m", tier=Tier.ECONOMY
    )  # not in the snapshot, added during the load
    assert added is not None
    journal = reader._indexes._loading[index_key("T1", "C1")]
    assert await _eventually(lambda: len(journal.ops) >= 2), "the tail journals changes for a scope being loaded"
    release.set()
    results = await asyncio.gather(*lookups)
    assert reads == 1, "five lookups, one load"
    assert results == [None] * 5
    assert not indexed(reader, wifi["C1"]), "an entry removed during the load is not resurrected"
    assert indexed(reader, added), "an entry added during the load is not lost"
    hit = await reader.lookup(query(PROBE, channel="C1", vector=random_unit(2000)), now=NOW)
    assert hit is not None and hit.entry_id == added


async def test_the_shared_index_loads_only_shared_entries(make_cache: CacheFactory) -> None:
    share = CacheSettings(share_public_workspace_wide=True)
    writer = await make_cache(share)
    wifi = await fill(writer, ["C1", "C2"])
    await writer.on_visibility_change("T1", "C2", "private")  # C2's entries are unshared
    reader = await make_cache(share)
    await hold(reader, "T1", SHARED_CHANNEL)
    shared = reader._indexes.get(index_key("T1", SHARED_CHANNEL))
    assert shared is not None and len(shared) == 3, "C1's three entries, none of C2's"
    assert indexed(reader, wifi["C1"]) and not indexed(reader, wifi["C2"])
    assert await probe(reader, "C9", 0) == wifi["C1"]
    assert await probe(reader, "C9", 1) is None


async def test_a_stream_gap_drops_held_indexes_and_loads_in_progress(make_cache: CacheFactory) -> None:
    cache = await make_cache()
    wifi = await fill(cache, ["C1"])
    await hold(cache)
    journal = cache._indexes.begin_load(index_key("T1", "C2"))
    await cache._replica._rebuild()  # what a sequence gap on the change stream triggers
    assert held(cache) == [] and not cache._indexes.loading(index_key("T1", "C2"))
    stale = cache._indexes.finish_load(index_key("T1", "C2"), journal, cache._indexes.new_index())
    assert stale is not None and held(cache) == [], "a load begun before the gap is not held"
    assert await probe(cache, "C1", 0) == wifi["C1"]


def test_memory_estimate_counts_vectors_and_bookkeeping() -> None:
    from cache.index import ScopeIndex

    index = ScopeIndex()
    empty = index.memory_bytes()
    index.add_many(np.arange(10, dtype=np.int64), np.vstack([random_unit(i) for i in range(10)]))
    assert len(index) == 10
    assert index.memory_bytes() - empty == 10 * PER_ENTRY


async def test_the_memory_total_follows_changes_to_held_indexes(make_cache: CacheFactory) -> None:
    cache = await make_cache(CacheSettings(index_memory_mb=1.0))
    await hold(cache)
    before = cache.index_stats().memory_bytes
    entry_id = await cache.store(query(STORED, vector=random_unit(3)), "A.", model="m", tier=Tier.ECONOMY)
    assert entry_id is not None
    assert cache.index_stats().memory_bytes == before + PER_ENTRY
    await cache.evict(entry_id)
    assert cache.index_stats().memory_bytes == before
