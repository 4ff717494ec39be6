"""One natively streamed message: when Slack says no, when a start is ambiguous, and the budget's say."""

from __future__ import annotations

from bot.redis.connection import plain_client
from bot.replies import PLACEHOLDER_TEXT
from bot.slack.formatting import to_mrkdwn
from bot.slack.streamer import StreamMode
from bot.slack.update_budget import START, UpdateBudget
from tests.harness.slack_emulator import SlackFault
from tests.unit.bot.slack.conftest import Room


async def test_a_start_that_landed_before_failing_is_adopted_not_orphaned(room: Room) -> None:
    room.slack.inject("chat.startStream", SlackFault.fatal_error(effect=True))
    streamer = room.streamer(mode=StreamMode.NATIVE)
    await streamer.open(PLACEHOLDER_TEXT)
    streamer.append("First part.\n\nSecond part.")
    await streamer.finish()
    (reply,) = room.replies()  # no second, empty stream left behind
    assert reply.text == to_mrkdwn("First part.\n\nSecond part.")


async def test_no_start_slot_means_edits_for_this_reply(room: Room, redis_url: str) -> None:
    redis = plain_client(redis_url)
    budget = UpdateBudget(redis, per_minute={START: 1})
    first = room.streamer(mode=StreamMode.AUTO, budget=budget)
    second = room.streamer(mode=StreamMode.AUTO, budget=budget)
    await first.open(PLACEHOLDER_TEXT)
    await second.open(PLACEHOLDER_TEXT)
    await first.finish("one")
    await second.finish("two")
    assert [room.slack.is_streamed(room.channel, r.ts) for r in room.replies()] == [True, False]
    assert len(room.slack.calls("chat.startStream")) == 1, "the budget said no before Slack had to"
    await redis.aclose()


async def test_a_rate_limited_progress_append_keeps_its_text_for_the_next_one(room: Room) -> None:
    room.slack.inject("chat.appendStream", SlackFault.ratelimited(1))
    text = "Paragraph one.\n\nParagraph two.\n\nParagraph three."
    streamer = room.streamer(mode=StreamMode.NATIVE)
    await streamer.open(PLACEHOLDER_TEXT)
    for block in text.split("\n\n"):
        streamer.append(block + "\n\n")
        await streamer._target.sleep(0.15)
    await streamer.finish(text)
    (reply,) = room.replies()
    assert room.slack.is_streamed(room.channel, reply.ts) and reply.text == text, "nothing lost, nothing doubled"
