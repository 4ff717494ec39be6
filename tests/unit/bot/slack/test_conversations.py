"""The one conversation reader against the Slack emulator: every page, the cap, joins left out, membership on a
later page, and each kind of failure told apart (no access / Slack down)."""

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.conversations import ConversationReader, ConversationUnavailable
from tests.harness.slack_emulator import SlackEmulator


async def test_history_pages_caps_and_membership_pages() -> None:
    with SlackEmulator() as slack:
        people = [slack.add_user(f"user{i}") for i in range(7)]
        channel = slack.add_channel("general", members=[p.id for p in people]).id
        for i in range(25):
            slack.post_user_message(channel, people[0].id, f"message {i}")
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        reader = ConversationReader(client, page_size=3)

        found = await reader.history(channel, oldest=0.0, limit=1000)
        assert [m.text for m in found.messages] == [f"message {i}" for i in range(25)] and not found.truncated
        assert len(slack.calls("conversations.history")) == 9, "25 messages in pages of 3"
        capped = await reader.history(channel, oldest=0.0, limit=10)
        assert [m.text for m in capped.messages] == [f"message {i}" for i in range(15, 25)] and capped.truncated
        assert await reader.is_member(channel, people[6].id), "found on a later page of members"
        outsider = slack.add_user("outsider")
        assert not await reader.is_member(channel, outsider.id)


async def test_thread_reads_every_page_and_keeps_the_newest() -> None:
    with SlackEmulator() as slack:
        alice = slack.add_user("alice")
        channel = slack.add_channel("general", members=[alice.id]).id
        root = slack.post_user_message(channel, alice.id, "root")
        for i in range(9):
            slack.post_user_message(channel, alice.id, f"reply {i}", thread_ts=root.ts)
        reader = ConversationReader(AsyncWebClient(token=slack.bot_token, base_url=slack.base_url), page_size=4)
        whole = await reader.thread(channel, root.ts, limit=50)
        assert [m.text for m in whole.messages] == ["root"] + [f"reply {i}" for i in range(9)]
        assert not whole.truncated and len(slack.calls("conversations.replies")) == 3
        newest = await reader.thread(channel, root.ts, limit=3)
        assert [m.text for m in newest.messages] == ["reply 6", "reply 7", "reply 8"] and newest.truncated


@pytest.mark.parametrize(
    ("error", "status", "html", "reason", "permission"),
    [
        ("not_in_channel", 200, False, "not_in_channel", True),
        ("missing_scope", 200, False, "missing_scope", True),
        ("internal_error", 200, False, "internal_error", False),
        ("internal_error", 503, True, "http_503", False),
    ],
)
async def test_failures_carry_a_code_and_whether_access_is_the_problem(
    error: str, status: int, html: bool, reason: str, permission: bool
) -> None:
    with SlackEmulator() as slack:
        alice = slack.add_user("alice")
        channel = slack.add_channel("general", members=[alice.id]).id
        root = slack.post_user_message(channel, alice.id, "root")
        slack.fail_next("conversations.replies", error, status=status, html=html)
        reader = ConversationReader(AsyncWebClient(token=slack.bot_token, base_url=slack.base_url))
        with pytest.raises(ConversationUnavailable) as caught:
            await reader.thread(channel, root.ts, limit=50)
        assert (caught.value.reason, caught.value.permission) == (reason, permission)
