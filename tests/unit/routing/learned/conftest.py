"""Helpers for the learned-routing tests: votes fed the way production feeds them, and the live vote counters.

Production records a vote only from its prompt signature (``routing/learned/sync.py`` replaying the feedback log),
so ``record`` goes through that same path. Nothing in Penny reads the per model × task counters hash that the
feedback log's Lua script keeps; ``counters`` reads it here so the tests can check what the script wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from numpy.typing import NDArray

from routing.keys import feedback_counters_key
from routing.learned.scorer import LearnedScorer
from routing.learned.signatures import prompt_signature


def record(scorer: LearnedScorer, prompt_vector: NDArray[Any], tier: str, good: bool, *, text: str = "") -> None:
    """One 👍 (``good``) or 👎 on the answer ``tier`` gave to this prompt, as its signature reaches the scorer."""
    signature = prompt_signature(prompt_vector, text, scorer.config.word_buckets)
    assert scorer.record_signatures([(signature, tier, good)]) == 1, "the vote does not fit this scorer"


@dataclass(frozen=True)
class QualityCount:
    good: int = 0
    bad: int = 0

    @property
    def total(self) -> int:
        return self.good + self.bad

    @property
    def good_share(self) -> float | None:
        return self.good / self.total if self.total else None


async def counters(redis: aioredis.Redis, team_id: str) -> dict[tuple[str, str], QualityCount]:
    """Live 👍/👎 counts per (model, task) for one workspace, as the feedback log's script keeps them."""
    raw = await redis.hgetall(feedback_counters_key(team_id))
    counts: dict[tuple[str, str], QualityCount] = {}
    for key, value in (raw or {}).items():
        model, task, polarity = (key.decode() if isinstance(key, bytes) else str(key)).rsplit("|", 2)
        current = counts.get((model, task), QualityCount())
        amount = max(0, int(value))
        counts[(model, task)] = (
            QualityCount(current.good + amount, current.bad)
            if polarity == "good"
            else QualityCount(current.good, current.bad + amount)
        )
    return counts
