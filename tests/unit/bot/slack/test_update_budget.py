"""The workspace-wide chat.update budget: many concurrent streams share it; final edits are never dropped."""

import asyncio
import time

import redis.asyncio as aioredis
from slack_sdk.web.async_client import AsyncWebClient

from bot.replies import PLACEHOLDER_TEXT
from bot.slack.streamer import MessageStreamer
from bot.slack.update_budget import UpdateBudget
from tests.harness.slack_emulator import SlackEmulator


async def test_bucket_grants_burst_then_rate(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    budget = UpdateBudget(client, per_minute=60, burst=3)
    grants = [await budget.try_take("T1") for _ in range(5)]
    assert grants == [True, True, True, False, False]
    assert await budget.try_take("T2"), "budgets are per workspace"
    await asyncio.sleep(1.05)
    assert await budget.try_take("T1"), "one token a second comes back"
    await client.aclose()


async def test_concurrent_streams_stay_within_the_workspace_budget(redis_url: str) -> None:
    redis = aioredis.Redis.from_url(redis_url)
    budget = UpdateBudget(redis, per_minute=120, burst=2)  # 2 edits/s for the whole workspace
    with SlackEmulator() as slack:
        alice = slack.add_user("alice")
        channel = slack.add_channel("general", members=[alice.id]).id
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)

        async def stream(n: int) -> tuple[str, str]:
            question = slack.post_user_message(channel, alice.id, f"q{n}")
            streamer = MessageStreamer(
                client, channel, question.ts, interval_s=0.1, budget=budget.for_team(slack.team_id)
            )
            await streamer.open(PLACEHOLDER_TEXT)
            words = [f"w{n}-{i} " for i in range(30)]
            for word in words:
                streamer.append(word)
                await asyncio.sleep(0.07)
            await streamer.finish()
            return question.ts, "".join(words)

        started = time.monotonic()
        results = await asyncio.gather(*(stream(n) for n in range(4)))
        elapsed = time.monotonic() - started
        for question_ts, text in results:
            assert slack.bot_replies(channel, question_ts)[0].text == text, "every final edit landed"
        updates = len(slack.calls("chat.update"))
        allowed = 2 + 2 * elapsed + 1  # burst + rate x time (+1 for timing slack)
        assert updates <= allowed, f"{updates} chat.update calls in {elapsed:.1f}s, budget allows {allowed:.0f}"
        assert updates >= 4, "at least the final edits"
    await redis.aclose()


async def test_progress_edits_leave_a_reserve_for_first_words_and_final_edits(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    budget = UpdateBudget(client, per_minute=1, burst=4, progress_reserve=2)
    progress = [await budget.try_take("T1", progress=True) for _ in range(4)]
    assert progress == [True, True, False, False], "two tokens stay for edits that matter more"
    assert await budget.try_take("T1") and await budget.try_take("T1"), "first words still get through"
    assert not await budget.try_take("T1")
    await client.aclose()
