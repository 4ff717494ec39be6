"""The streamer against the Slack emulator: throttled edits, splitting long replies, 429s waited out."""

import asyncio
import itertools

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.replies import PLACEHOLDER_TEXT
from bot.slack.streamer import MessageStreamer, split_point
from tests.harness.slack_emulator import SlackEmulator


def test_split_point_prefers_paragraph_boundaries() -> None:
    text = ("word " * 50).strip() + "\n\n" + "tail " * 10
    cut = split_point(text, 260)
    assert cut is not None and text[:cut].endswith("\n\n")
    assert split_point("short", 100) is None


def test_split_point_accounts_for_escaping() -> None:
    text = "&" * 100
    cut = split_point(text, 100)  # each & renders as &amp; (5 chars)
    assert cut is not None and cut * 5 <= 100


async def test_long_reply_continues_in_new_messages_and_edits_are_throttled() -> None:
    with SlackEmulator() as slack:
        alice = slack.add_user("alice")
        channel = slack.add_channel("general", members=[alice.id]).id
        question = slack.post_user_message(channel, alice.id, "write a lot")
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        streamer = MessageStreamer(client, channel, question.ts, interval_s=0.3, max_chars=400)
        await streamer.open(PLACEHOLDER_TEXT)
        paragraph = "This is a sentence that keeps going. " * 5 + "\n\n"
        for _ in range(6):
            streamer.append(paragraph)
            await asyncio.sleep(0.1)
        message_ts = await streamer.finish()
        assert len(message_ts) >= 3
        replies = slack.bot_replies(channel, question.ts)
        assert [r.ts for r in replies] == message_ts
        assert all(len(r.text) <= 400 for r in replies)
        assert "".join(r.text for r in replies).replace("\n", "").strip() == (paragraph * 6).replace("\n", "").strip()
        for reply in replies:
            history = slack.edit_history(channel, reply.ts)
            gaps = [b.monotonic - a.monotonic for a, b in itertools.pairwise(history)]
            assert all(gap >= 0.28 for gap in gaps), gaps


async def test_rate_limited_update_is_waited_out_not_dropped() -> None:
    with SlackEmulator() as slack:
        alice = slack.add_user("alice")
        channel = slack.add_channel("general", members=[alice.id]).id
        question = slack.post_user_message(channel, alice.id, "hi")
        client = AsyncWebClient(
            token=slack.bot_token,
            base_url=slack.base_url,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=3)],
        )
        streamer = MessageStreamer(client, channel, question.ts, interval_s=0.05)
        await streamer.open(PLACEHOLDER_TEXT)
        slack.force_rate_limit("chat.update", times=1, retry_after=1)
        streamer.append("final words")
        await streamer.finish()
        assert slack.bot_replies(channel, question.ts)[0].text == "final words"
        assert any(call.status == 429 for call in slack.calls("chat.update"))


async def test_first_edit_waits_for_a_phrase_not_a_single_token() -> None:
    with SlackEmulator() as slack:
        alice = slack.add_user("alice")
        channel = slack.add_channel("general", members=[alice.id]).id
        question = slack.post_user_message(channel, alice.id, "hi")
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        streamer = MessageStreamer(client, channel, question.ts, interval_s=0.05, first_chunk_chars=40)
        await streamer.open(PLACEHOLDER_TEXT)
        streamer.append("Point")
        await asyncio.sleep(0.3)
        reply = slack.bot_replies(channel, question.ts)[0]
        assert [r.text for r in slack.edit_history(channel, reply.ts)] == ["_Penny is thinking…_"]
        streamer.append(" 0: the rollout moves to week two, owners confirm")
        await asyncio.sleep(0.3)
        shown = [r.text for r in slack.edit_history(channel, reply.ts)]
        assert shown[-1].startswith("Point 0: the rollout") and shown[-1].endswith("▍")
        streamer.append(" soon.")
        await streamer.finish()
        assert slack.bot_replies(channel, question.ts)[0].text.endswith("confirm soon.")


async def test_a_short_answer_still_lands_whole() -> None:
    with SlackEmulator() as slack:
        alice = slack.add_user("alice")
        channel = slack.add_channel("general", members=[alice.id]).id
        question = slack.post_user_message(channel, alice.id, "hi")
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        streamer = MessageStreamer(client, channel, question.ts, interval_s=0.05)
        await streamer.open(PLACEHOLDER_TEXT)
        streamer.append("Yes.")
        await streamer.finish()
        assert slack.bot_replies(channel, question.ts)[0].text == "Yes."
