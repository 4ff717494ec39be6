"""Transcript lines and reading a source from the Slack emulator: paging, filtering, names, membership."""

from slack_sdk.web.async_client import AsyncWebClient

from bot.summarize.source import SourceMessage, SummarySource, mentioned_users, transcript_line
from tests.harness.slack_emulator import SlackEmulator


def test_transcript_line_resolves_names_and_marks_bots_and_threads() -> None:
    human = SourceMessage("U1", "ping <@U2> and <@U3|carol>", "1700000000.000100", False, reply_count=2)
    bot = SourceMessage("B1", "deployed", "1700000060.000100", True)
    names = {"U1": "Alice", "U2": "Bob"}
    assert transcript_line(human, names) == "[2023-11-14 22:13] Alice: ping @Bob and @carol [2 replies in thread]"
    assert transcript_line(bot, names) == "[2023-11-14 22:14] B1 (bot): deployed"
    assert mentioned_users([human, bot]) == ["U1", "U2", "U3"]


async def test_history_pages_filters_joins_caps_and_membership_pages() -> None:
    with SlackEmulator() as slack:
        people = [slack.add_user(f"user{i}") for i in range(7)]
        channel = slack.add_channel("general", members=[p.id for p in people]).id
        for i in range(25):
            slack.post_user_message(channel, people[0].id, f"message {i}")
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        source = SummarySource(client, page_size=3)

        found = await source.channel_history(channel, oldest=0.0, limit=1000)
        assert [m.text for m in found.messages] == [f"message {i}" for i in range(25)] and not found.truncated
        capped = await source.channel_history(channel, oldest=0.0, limit=10)
        assert [m.text for m in capped.messages] == [f"message {i}" for i in range(15, 25)] and capped.truncated
        assert await source.is_member(channel, people[6].id), "found on a later page of members"
        outsider = slack.add_user("outsider")
        assert not await source.is_member(channel, outsider.id)
        assert (await source.names([people[1].id, "U_NOPE"])) == {people[1].id: "user1"}
