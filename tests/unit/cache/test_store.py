"""EntryStore against a real redis-server: a hit on an entry removed meanwhile leaves nothing behind."""

from __future__ import annotations

from bot.redis.connection import plain_client
from cache.entry import Entry
from cache.store import EntryStore, entry_key, lru_key
from vocabulary import TaskKind, Tier, Visibility


async def test_touching_a_removed_entry_writes_nothing(redis_url: str) -> None:
    """Another replica may evict an entry between this one's read and its hit bookkeeping."""
    client = plain_client(redis_url)
    store = EntryStore(client)
    entry = Entry(
        vector_id=await store.next_vector_id(),
        team_id="T1",
        channel_id="C1",
        visibility=Visibility.PUBLIC,
        task=TaskKind.QA,
        question="Where is the wiki?",
        answer="Confluence.",
        model="m",
        tier=Tier.ECONOMY,
        created=1.0,
        expires=2_000_000_000.0,
        exact_digest="d",
        semantic=True,
        vector=b"\0" * 16,
    )
    await store.add(entry)
    await store.remove(entry)
    await store.touch(entry, now=2.0)
    assert not await client.exists(entry_key("T1", entry.vector_id))
    assert await client.zscore(lru_key("T1", "C1"), str(entry.vector_id)) is None
    assert await store.scope_vectors("T1", "C1") == []  # nor does the next load of the scope read it
    await client.aclose()
