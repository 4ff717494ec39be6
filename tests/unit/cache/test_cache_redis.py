"""SemanticCache against a real redis-server: sync between replicas, persistence, expiry, eviction, privacy."""

from __future__ import annotations

import asyncio
import time

import numpy as np

from bot.redis.connection import plain_client
from cache.entry import SHARED_CHANNEL, parse_entry_id
from cache.store import entry_key
from cache.values import CacheSettings, context_fingerprint
from tests.unit.cache.conftest import (
    CacheFactory,
    hold,
    index_is_approximate,
    index_size,
    indexed,
    query,
    random_unit,
    wait_for_ann_builds,
)
from vocabulary import Tier

DAY = 24 * 3600.0
NOW = 1_000_000.0


async def _eventually(predicate, timeout: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.01)
    return False


async def test_exact_hit_then_semantic_hit(make_cache: CacheFactory) -> None:
    cache = await make_cache()
    q = "How do I reset my VPN token?"
    entry_id = await cache.store(query(q), "Use the portal.", model="glm-4-plus", tier="economy", now=NOW)
    assert entry_id is not None
    hit = await cache.lookup(query("how do i reset my vpn token"), now=NOW + 10)
    assert hit is not None and hit.kind == "exact" and hit.answer == "Use the portal."
    assert hit.created_at == NOW
    typo = await cache.lookup(query("How do I reset my VPN tokken?"), now=NOW + 10)
    assert typo is None or typo.kind == "semantic"  # hashed vectors are crude; what matters is no wrong kind


async def test_two_instances_share_entries_within_one_second(make_cache: CacheFactory) -> None:
    first, second = await make_cache(), await make_cache()
    vec = random_unit(1)
    entry_id = await first.store(
        query("What is the guest wifi password?", vector=vec),
        "See the pinned note.",
        model="m",
        tier="economy",
        now=NOW,
    )
    assert entry_id is not None
    near = vec + 0.05 * random_unit(2)
    near /= np.linalg.norm(near)
    probe = query("What's the guest wifi password?", vector=near)

    async def second_hits() -> bool:
        hit = await second.lookup(probe, now=NOW)
        return hit is not None and hit.entry_id == entry_id and hit.kind == "semantic"

    assert await _eventually(second_hits, timeout=1.0)
    assert indexed(second, entry_id)


async def test_entries_survive_redis_restart(make_cache: CacheFactory, redis_server, redis_url: str) -> None:
    cache = await make_cache()
    vec = random_unit(3)
    entry_id = await cache.store(
        query("Where is the expense policy?", vector=vec), "In Confluence.", model="m", tier="standard", now=NOW
    )
    assert entry_id is not None
    redis_server.stop()  # the same port and data directory: the AOF is replayed
    redis_server.start()
    fresh = await make_cache()
    assert not indexed(fresh, entry_id), "loaded on first use, not at start"
    await hold(fresh)
    assert indexed(fresh, entry_id)
    hit = await fresh.lookup(query("Where is the expense policy?", vector=vec), now=NOW)
    assert hit is not None and hit.entry_id == entry_id


async def test_ttl_expiry_removes_entry_and_vector_everywhere(make_cache: CacheFactory) -> None:
    settings = CacheSettings(ttl_seconds=7 * DAY)
    cache, replica = await make_cache(settings), await make_cache(settings)
    await hold(replica)
    vec = random_unit(4)
    entry_id = await cache.store(
        query("Which office has parking?", vector=vec), "Leeds.", model="m", tier="economy", now=NOW
    )
    assert entry_id is not None
    assert await _eventually(lambda: _true(indexed(replica, entry_id)))
    assert await cache.lookup(query("Which office has parking?", vector=vec), now=NOW + 6 * DAY) is not None
    # Past the TTL it is never served, even before the sweep runs...
    assert await replica.lookup(query("Which office has parking?", vector=vec), now=NOW + 8 * DAY) is None
    # ...and the sweep removes the entry and its vector in every process.
    assert await cache.sweep_expired(now=NOW + 8 * DAY) == 1
    assert not indexed(cache, entry_id)
    assert await _eventually(lambda: _true(not indexed(replica, entry_id)))


async def _true(value: bool) -> bool:
    return value


async def test_lru_cap_evicts_least_recently_used(make_cache: CacheFactory) -> None:
    cache = await make_cache(CacheSettings(max_entries_per_scope=3))
    await hold(cache)
    ids = []
    for i in range(3):
        ids.append(
            await cache.store(
                query(f"question number {i} about builds", vector=random_unit(10 + i)),
                f"answer {i}",
                model="m",
                tier="economy",
                now=NOW + i,
            )
        )
    # Use the oldest one, so the second-oldest becomes least recently used.
    assert await cache.lookup(query("question number 0 about builds"), now=NOW + 10) is not None
    newest = await cache.store(
        query("question number 3 about builds", vector=random_unit(13)),
        "answer 3",
        model="m",
        tier="economy",
        now=NOW + 11,
    )
    assert newest is not None
    assert indexed(cache, ids[0]) and not indexed(cache, ids[1]) and indexed(cache, ids[2])
    assert await cache.lookup(query("question number 1 about builds", vector=random_unit(11)), now=NOW + 12) is None
    assert index_size(cache, "T1", "C1") == 3


async def test_source_message_deletion_evicts(make_cache: CacheFactory) -> None:
    cache = await make_cache()
    vec = random_unit(20)
    entry_id = await cache.store(
        query("When is the release freeze?", vector=vec),
        "Thursday.",
        model="m",
        tier="economy",
        source_ts=["1700000000.000100", "1700000000.000200"],
        now=NOW,
    )
    assert entry_id is not None
    assert await cache.evict_by_source("T1", "C1", "1700000000.000200") == 1
    assert not indexed(cache, entry_id)
    assert await cache.lookup(query("When is the release freeze?", vector=vec), now=NOW) is None
    assert await cache.evict_by_source("T1", "C1", "1700000000.000200") == 0


async def test_evict_for_feedback(make_cache: CacheFactory) -> None:
    cache = await make_cache()
    await hold(cache)
    entry_id = await cache.store(
        query("Who owns the billing service?", vector=random_unit(21)),
        "Team Ledger.",
        model="m",
        tier="economy",
        now=NOW,
    )
    assert entry_id is not None
    await cache.evict(entry_id)
    assert await cache.lookup(query("Who owns the billing service?"), now=NOW) is None
    assert not indexed(cache, entry_id)


async def test_fresh_answer_replaces_the_entry(make_cache: CacheFactory) -> None:
    cache = await make_cache()
    await hold(cache)
    q = query("Who owns the billing service?", vector=random_unit(22))
    old = await cache.store(q, "Team Ledger.", model="m", tier="economy", now=NOW)
    new = await cache.store(q, "Team Payments.", model="m2", tier="premium", now=NOW + 5)
    assert old != new and old is not None and new is not None
    hit = await cache.lookup(q, now=NOW + 6)
    assert hit is not None and hit.answer == "Team Payments." and hit.entry_id == new
    assert not indexed(cache, old)


async def test_approximate_index_path_removes_vectors(make_cache: CacheFactory) -> None:
    settings = CacheSettings(ann_switch_size=60, ttl_seconds=7 * DAY)
    cache, replica = await make_cache(settings), await make_cache(settings)
    await hold(cache)
    await hold(replica)
    ids: list[str] = []
    for i in range(100):
        entry_id = await cache.store(
            query(f"padding question {i}", vector=random_unit(100 + i)),
            f"a{i}",
            model="m",
            tier="economy",
            source_ts=[f"17000000{i:02d}.000100"],
            now=NOW + (0 if i else -6 * DAY),
        )
        assert entry_id is not None
        ids.append(entry_id)
    await wait_for_ann_builds(cache)
    assert index_is_approximate(cache, "T1", "C1")
    assert await _eventually(lambda: _true(index_size(replica, "T1", "C1") == 100))
    await wait_for_ann_builds(replica)
    assert index_is_approximate(replica, "T1", "C1")

    probe = query("padding question 5", vector=random_unit(105))
    hit = await replica.lookup(probe, now=NOW)
    assert hit is not None and hit.entry_id == ids[5]

    await cache.evict(ids[5])  # feedback
    assert await cache.evict_by_source("T1", "C1", "1700000007.000100") == 1  # deleted message
    assert await cache.sweep_expired(now=NOW + 1.5 * DAY) == 1  # ids[0] was stored 6 days earlier
    for gone in (ids[0], ids[5], ids[7]):
        assert not indexed(cache, gone)
        assert await _eventually(lambda g=gone: _true(not indexed(replica, g)))
    assert await replica.lookup(probe, now=NOW) is None
    assert index_size(replica, "T1", "C1") == 97


async def test_ghost_vector_is_never_served(make_cache: CacheFactory, redis_url: str) -> None:
    cache = await make_cache()
    await hold(cache)
    vec = random_unit(30)
    entry_id = await cache.store(
        query("Where do I file a laptop request?", vector=vec), "In ServiceNow.", model="m", tier="economy", now=NOW
    )
    assert entry_id is not None
    team, vector_id = parse_entry_id(entry_id)
    client = plain_client(redis_url)
    await client.delete(entry_key(team, vector_id))  # behind the cache's back: no change-stream record
    await client.aclose()
    assert indexed(cache, entry_id)
    assert await cache.lookup(query("Where do I file laptop requests?", vector=vec), now=NOW) is None


# ------------------------------------------------------------------------------------------------ privacy


async def test_private_channel_answer_stays_in_its_channel(make_cache: CacheFactory) -> None:
    cache = await make_cache(CacheSettings(share_public_workspace_wide=True))
    vec = random_unit(40)
    q = "What is the acquisition code name?"
    entry_id = await cache.store(
        query(q, channel="G1", visibility="private", vector=vec), "Bluebird.", model="m", tier="premium", now=NOW
    )
    assert entry_id is not None
    assert await cache.lookup(query(q, channel="G1", visibility="private", vector=vec), now=NOW) is not None
    assert await cache.lookup(query(q, channel="C2", visibility="public", vector=vec), now=NOW) is None
    assert await cache.lookup(query(q, channel="G2", visibility="private", vector=vec), now=NOW) is None
    assert await cache.lookup(query(q, channel="D1", visibility="dm", vector=vec), now=NOW) is None
    assert await cache.lookup(query(q, team="T2", channel="G1", visibility="private", vector=vec), now=NOW) is None


async def test_a_second_answer_in_a_public_channel_keeps_the_first_shared(make_cache: CacheFactory) -> None:
    """Visibility given as its plain value ("public", as Redis and Slack spell it) is still public."""
    cache = await make_cache(CacheSettings(share_public_workspace_wide=True))
    first, second = random_unit(43), random_unit(44)
    assert await cache.store(query("How do I book a room?", vector=first), "Robin.", model="m", tier="economy", now=NOW)
    assert await cache.store(query("Where is the wiki?", vector=second), "Notion.", model="m", tier="economy", now=NOW)
    shared = await cache.lookup(query("How do I book a room?", channel="C2", vector=first), now=NOW)
    assert shared is not None and shared.answer == "Robin."


async def test_public_entries_are_not_shared_unless_enabled(make_cache: CacheFactory) -> None:
    cache = await make_cache(CacheSettings(share_public_workspace_wide=False))
    vec = random_unit(41)
    q = "How do I book a meeting room?"
    assert await cache.store(query(q, vector=vec), "Use Robin.", model="m", tier="economy", now=NOW)
    assert await cache.lookup(query(q, channel="C2", vector=vec), now=NOW) is None


async def test_shared_public_entry_and_visibility_change(make_cache: CacheFactory) -> None:
    settings = CacheSettings(share_public_workspace_wide=True)
    cache, replica = await make_cache(settings), await make_cache(settings)
    await hold(replica, "T1", "C1", SHARED_CHANNEL)
    vec = random_unit(42)
    q = "How do I book a meeting room?"
    entry_id = await cache.store(query(q, channel="C1", vector=vec), "Use Robin.", model="m", tier="economy", now=NOW)
    assert entry_id is not None
    from_other = query(q, channel="C2", vector=vec)
    hit = await cache.lookup(from_other, now=NOW)
    assert hit is not None and hit.entry_id == entry_id
    assert await cache.lookup(query(q, channel="D9", visibility="dm", vector=vec), now=NOW) is not None
    # Slack Connect channels have external members: never served workspace entries.
    assert await cache.lookup(query(q, channel="C7", visibility="shared", vector=vec), now=NOW) is None
    assert await cache.lookup(query(q, team="T2", channel="C2", vector=vec), now=NOW) is None
    assert await _eventually(lambda: _true(indexed(replica, entry_id)))

    await cache.on_visibility_change("T1", "C1", "private")
    assert await cache.lookup(from_other, now=NOW) is None
    assert await replica.lookup(from_other, now=NOW) is None
    # Still served inside its own (now private) channel.
    assert await cache.lookup(query(q, channel="C1", visibility="private", vector=vec), now=NOW) is not None


async def test_shared_entry_refused_when_visibility_changed_but_not_yet_synced(
    make_cache: CacheFactory, redis_url: str
) -> None:
    """The Redis re-check alone stops a stale shared candidate, before any index update arrives."""
    settings = CacheSettings(share_public_workspace_wide=True)
    cache = await make_cache(settings)
    vec = random_unit(43)
    q = "Where are the onboarding slides?"
    assert await cache.store(query(q, channel="C1", vector=vec), "Drive.", model="m", tier="economy", now=NOW)
    client = plain_client(redis_url)
    from cache.store import visibility_key

    await client.set(visibility_key("T1", "C1"), "private")
    await client.aclose()
    assert await cache.lookup(query(q, channel="C2", vector=vec), now=NOW) is None


# ------------------------------------------------------------------------------------------------ policy


async def test_draft_is_never_cached(make_cache: CacheFactory) -> None:
    cache = await make_cache()
    assert (
        await cache.store(query("Draft a reply to Sam", task="draft"), "Hi Sam", model="m", tier=Tier.ECONOMY, now=NOW)
        is None
    )
    assert await cache.lookup(query("Draft a reply to Sam", task="draft"), now=NOW) is None


async def test_summary_is_exact_on_channel_thread_and_latest_message(make_cache: CacheFactory) -> None:
    cache = await make_cache()
    fp = context_fingerprint("1700.1", "1700.9")
    stored = await cache.store(
        query("summarize", task="summarize", thread_ts="1700.1", fingerprint=fp),
        "Summary.",
        model="m",
        tier=Tier.ECONOMY,
        now=NOW,
    )
    assert stored is not None
    same = query("summarize", task="summarize", thread_ts="1700.1", fingerprint=fp)
    assert (await cache.lookup(same, now=NOW)) is not None
    newer_fp = context_fingerprint("1700.1", "1701.0")
    newer = query("summarize", task="summarize", thread_ts="1700.1", fingerprint=newer_fp)
    assert await cache.lookup(newer, now=NOW) is None
    other_thread = query("summarize", task="summarize", thread_ts="1800.1", fingerprint=fp)
    assert await cache.lookup(other_thread, now=NOW) is None
    assert index_size(cache, "T1", "C1") == 0  # never in a semantic index


async def test_follow_up_is_keyed_by_thread_context(make_cache: CacheFactory) -> None:
    cache = await make_cache()
    vec = random_unit(50)
    fp_a = context_fingerprint("1700.1", "1700.5")
    assert await cache.store(
        query("what about the second one?", thread_ts="1700.1", fingerprint=fp_a, vector=vec),
        "It ships Monday.",
        model="m",
        tier=Tier.ECONOMY,
        now=NOW,
    )
    assert (
        await cache.lookup(
            query("what about the second one?", thread_ts="1700.1", fingerprint=fp_a, vector=vec), now=NOW
        )
        is not None
    )
    other = query(
        "what about the second one?",
        thread_ts="1800.1",
        fingerprint=context_fingerprint("1800.1", "1800.2"),
        vector=vec,
    )
    assert await cache.lookup(other, now=NOW) is None


async def test_personal_question_only_reused_for_same_user(make_cache: CacheFactory) -> None:
    cache = await make_cache()
    vec = random_unit(60)
    assert await cache.store(
        query("How many PTO days do I have left?", user="U1", vector=vec),
        "12 days.",
        model="m",
        tier=Tier.ECONOMY,
        now=NOW,
    )
    assert await cache.lookup(query("How many PTO days do I have left?", user="U1", vector=vec), now=NOW)
    assert await cache.lookup(query("How many PTO days do I have left?", user="U2", vector=vec), now=NOW) is None


async def test_time_relative_question_is_exact_only_and_expires_with_the_day(make_cache: CacheFactory) -> None:
    embedder_cache = await make_cache()
    vec = random_unit(70)
    q = "Who is on call today?"
    assert await embedder_cache.store(query(q, vector=vec), "Priya.", model="m", tier=Tier.ECONOMY, now=NOW)
    assert index_size(embedder_cache, "T1", "C1") == 0
    assert await embedder_cache.lookup(query(q, vector=vec), now=NOW + 60) is not None
    assert await embedder_cache.lookup(query(q, vector=vec), now=NOW + DAY) is None


async def test_non_english_question_is_exact_only(make_cache: CacheFactory) -> None:
    cache = await make_cache()
    q = "¿Dónde está la política de gastos?"
    assert await cache.store(query(q), "En Confluence.", model="m", tier=Tier.ECONOMY, now=NOW)
    assert index_size(cache, "T1", "C1") == 0
    assert await cache.lookup(query(q), now=NOW) is not None


async def test_replica_that_missed_trimmed_changes_rebuilds(make_cache: CacheFactory) -> None:
    """A capped stream can drop changes a stalled replica never read: the sequence gap forces a rebuild."""
    settings = CacheSettings(stream_maxlen=3)
    writer, stalled = await make_cache(settings), await make_cache(settings)
    await hold(stalled)
    first = await writer.store(
        query("first question about gaps", vector=random_unit(80)), "a", model="m", tier=Tier.ECONOMY, now=NOW
    )
    assert first is not None
    assert await _eventually(lambda: _true(indexed(stalled, first)))
    await stalled.close()  # stop tailing, keep the in-memory indexes
    later = [
        await writer.store(
            query(f"later question {i} about gaps", vector=random_unit(81 + i)),
            "b",
            model="m",
            tier=Tier.ECONOMY,
            now=NOW,
        )
        for i in range(6)
    ]
    await writer.evict(first)  # a removal the stalled replica must not miss
    # Resume tailing from where it stopped (what a long network partition looks like to this process).
    stalled._replica._closing = False
    stalled._replica._tail_task = asyncio.create_task(stalled._replica._tail())
    assert await _eventually(lambda: _true(not indexed(stalled, first)), timeout=3.0)
    await hold(stalled)  # the gap dropped every index: the next use reads Redis afresh
    assert not indexed(stalled, first)
    assert all(indexed(stalled, e) for e in later if e is not None)


async def test_lookup_reporting_a_now_private_channel_stops_sharing(make_cache: CacheFactory) -> None:
    """No conversion event needed: the visibility a lookup carries (conversations.info) is enough."""
    cache = await make_cache(CacheSettings(share_public_workspace_wide=True))
    vec = random_unit(90)
    q = "Where is the brand kit?"
    assert await cache.store(query(q, channel="C1", vector=vec), "Figma.", model="m", tier=Tier.ECONOMY, now=NOW)
    assert await cache.lookup(query(q, channel="C2", vector=vec), now=NOW) is not None
    assert await cache.lookup(query(q, channel="C1", visibility="private", vector=vec), now=NOW) is not None
    assert await cache.lookup(query(q, channel="C2", vector=vec), now=NOW) is None


async def test_an_answer_stored_after_its_source_was_deleted_is_not_kept(make_cache: CacheFactory) -> None:
    """The store runs after the reply is shown; a deletion arriving in between found nothing to evict and the
    answer from a deleted message stayed cached (found as a flaky e2e test). The deletion is remembered."""
    cache = await make_cache()
    vec = random_unit(21)
    assert await cache.evict_by_source("T1", "C1", "1700000000.000300") == 0  # nothing stored yet
    stored = await cache.store(
        query("When is the release freeze?", vector=vec),
        "Thursday.",
        model="m",
        tier="economy",
        source_ts=["1700000000.000300"],
        now=NOW,
    )
    assert stored is None
    assert await cache.lookup(query("When is the release freeze?", vector=vec), now=NOW) is None
    other = await cache.store(
        query("When is the release freeze?", vector=vec), "Thursday.", model="m", tier="economy", now=NOW
    )
    assert other is not None, "answers built from other messages are still cached"
