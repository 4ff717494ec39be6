"""A deleted message evicts what it touched: answers built from it, and the answer it showed (Penny's reply)."""

from __future__ import annotations

from bot.feedback.answer_map import AnsweredMessage, AnswerMap
from bot.feedback.deleted_messages import DeletedMessages
from bot.redis.connection import plain_client
from vocabulary import RequestOutcome, TaskKind, Tier


async def test_deleting_pennys_reply_evicts_the_entry_it_showed_and_a_source_evicts_by_source(redis_url: str) -> None:
    client = plain_client(redis_url)
    answers = AnswerMap(client)
    by_source: list[tuple[str, str, str]] = []
    evicted: list[str] = []

    async def evict_by_source(team_id: str, channel_id: str, ts: str) -> int:
        by_source.append((team_id, channel_id, ts))
        return 1 if ts == "100.1" else 0

    async def evict(entry_id: str) -> None:
        evicted.append(entry_id)

    deleted = DeletedMessages(answers, evict_by_source=evict_by_source, evict=evict)
    answer = AnsweredMessage(
        request_id="Ev1",
        team_id="T1",
        channel_id="C1",
        task=TaskKind.QA,
        model="glm-4-plus",
        tier=Tier.ECONOMY,
        outcome=RequestOutcome.ANSWERED,
        cache_entry="T1:42",
    )
    try:
        await answers.remember(answer, ["200.1", "200.2"])  # a reply in two messages
        assert await deleted.on_deleted("T1", "C1", "200.2") == 1
        assert evicted == ["T1:42"]
        assert await deleted.on_deleted("T1", "C1", "100.1") == 1, "the question it was built from"
        assert evicted == ["T1:42"]
        assert await deleted.on_deleted("T1", "C2", "200.1") == 0, "same ts, another channel: not Penny's reply"
        assert by_source == [("T1", "C1", "200.2"), ("T1", "C1", "100.1"), ("T1", "C2", "200.1")]
    finally:
        await client.aclose()
