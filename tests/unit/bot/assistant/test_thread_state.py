"""Joined threads in real Redis: who Penny answered and who wrote last; Fresh-answer records of any length."""

from __future__ import annotations

from bot.assistant.fresh_answers import FreshAnswerRecord, FreshAnswers
from bot.assistant.joined_threads import JoinedThreads
from bot.assistant.manners import PENNY, ThreadState
from bot.redis.connection import plain_client
from bot.slack.blocks import BUTTON_VALUE_LIMIT, CacheNote, note_blocks


async def test_joining_then_people_writing(redis_url: str) -> None:
    redis = plain_client(redis_url)
    threads = JoinedThreads(redis, ttl_s=60)
    assert await threads.state("T1", "C1", "1.1") is None
    await threads.saw("T1", "C1", "1.1", "U0BOB")
    assert await threads.state("T1", "C1", "1.1") is None, "a thread Penny never joined gets no state"
    await threads.join("T1", "C1", "1.1", asker="U0ALICE")
    assert await threads.state("T1", "C1", "1.1") == ThreadState(frozenset({"U0ALICE"}), PENNY)
    await threads.saw("T1", "C1", "1.1", "U0BOB")
    await threads.join("T1", "C1", "1.1", asker="U0BOB")
    await threads.saw("T1", "C1", "1.1", "U0ALICE")
    assert await threads.state("T1", "C1", "1.1") == ThreadState(frozenset({"U0ALICE", "U0BOB"}), "U0ALICE")
    assert 0 < await redis.ttl("penny:{T1}:joined:C1:1.1") <= 60
    assert await threads.state("T1", "C2", "1.1") is None, "scoped by channel"
    await redis.aclose()


async def test_a_long_non_english_question_round_trips_through_the_fresh_answer_button(redis_url: str) -> None:
    """Before, the button's value held the question as JSON cut at 2,000 characters: 1,500 Japanese characters
    became 9,000 escaped ones, the value was cut mid-string and the click was silently refused."""
    redis = plain_client(redis_url)
    fresh = FreshAnswers(redis)
    question = ("今週のリリース計画で、ローンチ日はいつに決まりましたか？" * 120)[:3000]
    key = await fresh.remember("T1", FreshAnswerRecord("C1", question, "1.1", "1.2", "T1:42"))
    (button,) = [e for b in note_blocks(CacheNote(key)) if b["type"] == "actions" for e in b["elements"]]
    assert len(button["value"]) < 40 < BUTTON_VALUE_LIMIT
    record = await fresh.lookup("T1", button["value"])
    assert record == FreshAnswerRecord("C1", question, "1.1", "1.2", "T1:42")
    assert await fresh.lookup("T2", button["value"]) is None, "another workspace cannot use the key"
    assert await fresh.lookup("T1", "made-up") is None
    await redis.aclose()
