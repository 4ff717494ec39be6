"""End to end with the real MiniLM model: paraphrases hit, traps are refused after the FAISS search."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cache.embedder import Embedder
from cache.values import CacheSettings
from tests.unit.cache.conftest import CacheFactory, hold, index_size, query
from vocabulary import Tier

pytestmark = pytest.mark.slow
NOW = 1_000_000.0


@pytest.fixture(scope="module")
def embedder() -> Iterator[Embedder]:
    model = Embedder()
    model.embed("warm up")  # load once for the module
    yield model
    model.close()


async def test_near_repeat_hits_and_traps_miss(make_cache: CacheFactory, embedder: Embedder) -> None:
    cache = await make_cache(CacheSettings(), embedder)
    await hold(cache)
    stored = {
        "How do I change the email address on my account?": "Settings → Profile.",
        "Is the clinic open on Sundays?": "Yes, 10 to 4.",
        "Can I return it after 14 days?": "Yes, within 30 days.",
        "How do I export my data from Salesforce?": "Data Export Service.",
    }
    for i, (question, answer) in enumerate(stored.items()):
        assert await cache.store(
            query(question, user="U1", channel="C1"), answer, model="m", tier=Tier.ECONOMY, now=NOW + i
        )
    assert index_size(cache, "T1", "C1") == 4

    hit = await cache.lookup(query("How can I change the email adress on my account?"), now=NOW + 10)
    assert hit is not None and hit.kind == "semantic" and hit.answer == "Settings → Profile."
    assert 0.82 <= hit.similarity < 1.0 and hit.confidence >= cache.verifier.threshold

    # Three typos move MiniLM's vector below the scorer's minimum cosine (0.75 here): a miss, never a guess.
    assert await cache.lookup(query("How do I chnage the email adress on my acount?"), now=NOW + 10) is None

    for trap in (
        "Is the clinic closed on Sundays?",
        "Can I return it after 40 days?",
        "How do I export my data from HubSpot?",
    ):
        assert await cache.lookup(query(trap), now=NOW + 10) is None, trap

    # The vector the router already computed is used as is (no second embedding).
    vector = embedder.embed("Is the clinic open on Sundays")
    hit = await cache.lookup(query("Is the clinic open on Sundays", vector=vector), now=NOW + 10)
    assert hit is not None and hit.answer == "Yes, 10 to 4."
