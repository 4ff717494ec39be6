"""The workspace's Slack budget: a sliding minute per method, and a place held for every reply's final call."""

from __future__ import annotations

import asyncio
import time

from bot.redis.connection import plain_client
from bot.replies import PLACEHOLDER_TEXT
from bot.slack.update_budget import APPEND, UPDATE, UpdateBudget
from tests.unit.bot.slack.conftest import Room


async def test_a_window_grants_its_limit_then_waits_for_the_oldest_call(redis_url: str) -> None:
    redis = plain_client(redis_url)
    budget = UpdateBudget(redis, per_minute={UPDATE: 3}, window_s=1.0)
    assert [await budget.try_take("T1", UPDATE) for _ in range(4)] == [True, True, True, False]
    assert await budget.try_take("T2", UPDATE), "budgets are per workspace"
    assert await budget.try_take("T1", APPEND), "and per method (no limit configured: always)"
    started = time.monotonic()
    assert await budget.take("T1", UPDATE)
    assert 0.8 <= time.monotonic() - started <= 1.6, "a final waits until the oldest call leaves the window"
    await redis.aclose()


async def test_progress_leaves_a_slot_for_every_reply_in_flight(redis_url: str) -> None:
    redis = plain_client(redis_url)
    budget = UpdateBudget(redis, per_minute={UPDATE: 5})
    for reply in ("r1", "r2", "r3"):
        await budget.hold("T1", UPDATE, reply)
    progress = [await budget.try_take("T1", UPDATE, progress=True) for _ in range(4)]
    assert progress == [True, True, False, False], "5 slots minus 3 held for finals"
    assert all([await budget.try_take("T1", UPDATE) for _ in range(3)]), "every final still finds its slot"
    await budget.release("T1", UPDATE, "r1")
    assert not await budget.try_take("T1", UPDATE, progress=True), "the window is full now"
    await redis.aclose()


async def test_a_held_place_expires_when_its_worker_died(redis_url: str) -> None:
    redis = plain_client(redis_url)
    budget = UpdateBudget(redis, per_minute={UPDATE: 2}, inflight_ttl_s=0.2)
    await budget.hold("T1", UPDATE, "dead")
    await budget.hold("T1", UPDATE, "dead-too")
    assert not await budget.try_take("T1", UPDATE, progress=True)
    await asyncio.sleep(0.3)
    assert await budget.try_take("T1", UPDATE, progress=True)
    await redis.aclose()


async def test_twenty_replies_finish_together_without_a_single_429(room: Room, redis_url: str) -> None:
    """Slack's own limit (sliding minute, 30 edits) and the budget agree: finals never wait on Slack."""
    redis = plain_client(redis_url)
    room.slack.set_rate_limit("chat.update", per_minute=30)
    budget = UpdateBudget(redis, per_minute={UPDATE: 30})

    async def reply(n: int) -> None:
        streamer = room.streamer(interval_s=0.1, budget=budget)
        await streamer.open(PLACEHOLDER_TEXT)
        for i in range(40):
            streamer.append(f"word{n}-{i} ")
            await asyncio.sleep(0.02)
        await streamer.finish()

    started = time.monotonic()
    await asyncio.gather(*(reply(n) for n in range(20)))
    assert time.monotonic() - started < 5.0, "no final waited for the window"
    assert not [c for c in room.slack.calls("chat.update") if c.status == 429]
    finals = [r.text for r in room.replies()]
    assert len(finals) == 20 and all(t.endswith("-39") for t in finals)
    await redis.aclose()


async def test_room_for_a_final_counts_the_window_and_the_places_held(redis_url: str) -> None:
    redis = plain_client(redis_url)
    budget = UpdateBudget(redis, per_minute={UPDATE: 3})
    assert await budget.has_room("T1", UPDATE)
    await budget.hold("T1", UPDATE, "r1")
    assert await budget.try_take("T1", UPDATE)
    assert await budget.has_room("T1", UPDATE), "one call and one place held of three"
    await budget.hold("T1", UPDATE, "r2")
    assert not await budget.has_room("T1", UPDATE), "a new reply's final would wait for the window to move"
    assert await budget.has_room("T2", UPDATE) and await budget.has_room("T1", APPEND)
    assert not await budget.has_room("T1", UPDATE), "asking takes nothing"
    await budget.release("T1", UPDATE, "r2")
    assert await budget.has_room("T1", UPDATE)
    await redis.aclose()


async def test_past_the_minute_of_finals_a_reply_comes_whole_in_one_message(room: Room, redis_url: str) -> None:
    """Slack allows 3 edits a minute here and 8 replies arrive: the first 3 show a placeholder and are edited, the
    rest post their answer as one message when it is ready (no placeholder whose final would wait a minute)."""
    redis = plain_client(redis_url)
    room.slack.set_rate_limit("chat.update", per_minute=3)
    budget = UpdateBudget(redis, per_minute={UPDATE: 3})
    streamers = [room.streamer(interval_s=0.1, budget=budget) for _ in range(8)]
    for streamer in streamers:
        await streamer.open(PLACEHOLDER_TEXT, defer_when_busy=True)

    async def answer(n: int) -> None:
        for i in range(10):
            streamers[n].append(f"word{n}-{i} ")
            await asyncio.sleep(0.02)
        await streamers[n].finish()

    started = time.monotonic()
    await asyncio.gather(*(answer(n) for n in range(8)))
    assert time.monotonic() - started < 5.0, "no final waited for the window"
    assert all(s.delivered for s in streamers)
    texts = sorted(r.text for r in room.replies())
    assert texts == sorted(f"{' '.join(f'word{n}-{i}' for i in range(10))}" for n in range(8)), "8 messages, whole"
    assert not [c for c in room.slack.calls() if c.status == 429]
    placeholders = [r for r in room.replies() if room.slack.edit_history(room.channel, r.ts)[0].text != r.text]
    assert len(placeholders) == 3
    await redis.aclose()
