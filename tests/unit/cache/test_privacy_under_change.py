"""Privacy when a channel changes, against a real redis-server: unshared at once, never re-shared by a stale
replica, re-checked before a shared answer is served, dropped when the channel goes."""

from __future__ import annotations

import asyncio

from bot.redis.connection import plain_client
from cache.entry import SHARED_CHANNEL, parse_entry_id
from cache.store import entry_key, visibility_key
from cache.values import CacheSettings
from tests.unit.cache.conftest import CacheFactory, hold, indexed, query, random_unit
from vocabulary import Visibility

NOW = 1_000_000.0
SHARE = CacheSettings(share_public_workspace_wide=True)


async def _eventually(predicate, timeout: float = 2.0) -> bool:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.01)):
        if await predicate():
            return True
        await asyncio.sleep(0.01)
    return False


async def test_a_stale_replica_cannot_share_a_channel_again_that_turned_private(
    make_cache: CacheFactory, redis_url: str
) -> None:
    told, stale = await make_cache(SHARE), await make_cache(SHARE)
    vec, other = random_unit(1), random_unit(2)
    old_id = await told.store(query("Who runs payroll?", vector=vec), "Dana.", model="m", tier="economy", now=NOW)
    assert old_id is not None
    await told.on_visibility_change("T1", "C1", Visibility.PRIVATE)  # the replica that got the event

    # The other replica still believes C1 is public (its conversations.info answer is minutes old): it looks up
    # and stores answers from C1 as if C1 were public. Redis keeps the channel private, and the new answer unshared.
    assert await stale.lookup(query("Who runs payroll?", vector=vec), now=NOW) is not None  # inside C1: fine
    new_id = await stale.store(query("What is the codename?", vector=other), "BLUEBIRD.", model="m", tier="economy")
    assert new_id is not None
    client = plain_client(redis_url)
    try:
        assert await client.get(visibility_key("T1", "C1")) == b"private"
        _team, vector_id = parse_entry_id(new_id)
        assert await client.hget(entry_key("T1", vector_id), "shared") == b"0"
    finally:
        await client.aclose()
    for cache in (told, stale):
        assert await cache.lookup(query("Who runs payroll?", channel="C2", vector=vec), now=NOW) is None
        assert await cache.lookup(query("What is the codename?", channel="C2", vector=other), now=NOW) is None


async def test_after_the_quarantine_a_channel_made_public_again_shares_new_answers_only(
    make_cache: CacheFactory,
) -> None:
    cache = await make_cache(CacheSettings(share_public_workspace_wide=True, visibility_quarantine_s=0.3))
    vec, fresh = random_unit(3), random_unit(4)
    assert await cache.store(query("Old question?", vector=vec), "Old answer.", model="m", tier="economy", now=NOW)
    await cache.on_visibility_change("T1", "C1", Visibility.PRIVATE)
    await asyncio.sleep(0.4)
    assert await cache.store(query("New question?", vector=fresh), "New answer.", model="m", tier="economy", now=NOW)
    assert await cache.lookup(query("New question?", channel="C2", vector=fresh), now=NOW) is not None
    assert await cache.lookup(query("Old question?", channel="C2", vector=vec), now=NOW) is None, "unshared for good"


async def test_a_shared_answer_is_served_only_after_its_source_channel_is_asked_again(make_cache: CacheFactory) -> None:
    """No event arrived and nobody asked in the channel since it turned private: the re-check catches it."""
    seen: dict[str, Visibility] = {"C1": Visibility.PUBLIC}
    asked: list[str] = []

    async def source_visibility(team_id: str, channel_id: str) -> Visibility:
        asked.append(channel_id)
        return seen.get(channel_id, Visibility.PRIVATE)

    cache = await make_cache(SHARE, source_visibility=source_visibility)
    replica = await make_cache(SHARE)
    await hold(replica, "T1", "C1", SHARED_CHANNEL)
    vec = random_unit(5)
    entry_id = await cache.store(query("Where is the VPN guide?", vector=vec), "Wiki.", model="m", tier="economy")
    assert entry_id is not None
    assert await _eventually(lambda: _true(indexed(replica, entry_id)))
    assert await cache.lookup(query("Where is the VPN guide?", channel="C2", vector=vec), now=NOW) is not None
    assert asked == ["C1"]

    seen["C1"] = Visibility.PRIVATE
    assert await cache.lookup(query("Where is the VPN guide?", channel="C2", vector=vec), now=NOW) is None
    seen["C1"] = Visibility.PUBLIC  # even if Slack said public again a moment later, this entry stays unshared
    assert await cache.lookup(query("Where is the VPN guide?", channel="C2", vector=vec), now=NOW) is None
    assert await replica.lookup(query("Where is the VPN guide?", channel="C2", vector=vec), now=NOW) is None
    assert await cache.lookup(query("Where is the VPN guide?", vector=vec), now=NOW) is not None, "still in C1"


async def test_an_archived_or_deleted_channel_takes_its_answers_along_on_every_replica(
    make_cache: CacheFactory,
) -> None:
    cache, replica = await make_cache(SHARE), await make_cache(SHARE)
    await hold(replica)
    ids = [
        await cache.store(query(f"Question {n}?", vector=random_unit(10 + n)), "A.", model="m", tier="economy")
        for n in range(3)
    ]
    kept = await cache.store(query("Elsewhere?", channel="C2", vector=random_unit(20)), "B.", model="m", tier="economy")
    assert all(ids) and kept is not None
    assert await _eventually(lambda: _true(all(indexed(replica, i) for i in ids if i)))
    assert await cache.drop_channel("T1", "C1") == 3
    assert await _eventually(lambda: _true(not any(indexed(replica, i) for i in ids if i)))
    assert await cache.lookup(query("Question 1?", vector=random_unit(11)), now=NOW) is None
    assert await cache.lookup(query("Elsewhere?", channel="C2", vector=random_unit(20)), now=NOW) is not None


async def _true(value: bool) -> bool:
    return value
