"""``MessageStreamer.show_status`` (progress in the placeholder) and top-level replies (no thread)."""

import itertools

from slack_sdk.web.async_client import AsyncWebClient

from bot.replies import PLACEHOLDER_TEXT
from bot.slack.streamer import MessageStreamer
from tests.harness.slack_emulator import SlackEmulator


async def test_status_replaces_the_placeholder_until_text_streams_and_keeps_the_throttle() -> None:
    with SlackEmulator() as slack:
        alice = slack.add_user("alice")
        channel = slack.add_channel("general", members=[alice.id]).id
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        streamer = MessageStreamer(client, channel, None, interval_s=0.2)
        ts = await streamer.open(PLACEHOLDER_TEXT)
        await streamer.show_status("Summarizing part 1 of 2…")
        await streamer.show_status("Summarizing part 2 of 2…")
        streamer.append("The summary.")
        await streamer.show_status("too late: text is streaming")
        await streamer.finish()

        message = slack.bot_messages(channel)
        assert [m.ts for m in message] == [ts] and message[0].thread_ts is None, "a top-level message"
        history = slack.edit_history(channel, ts)
        texts = [r.text for r in history]
        assert texts[1:3] == ["_Summarizing part 1 of 2…_", "_Summarizing part 2 of 2…_"]
        assert texts[-1] == "The summary." and not any("too late" in t for t in texts)
        gaps = [b.monotonic - a.monotonic for a, b in itertools.pairwise(history)]
        assert all(gap >= 0.18 for gap in gaps), gaps
