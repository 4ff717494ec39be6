from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.channels import ChannelDirectory, visibility_of
from tests.harness.slack_emulator import SlackEmulator
from vocabulary import Visibility


def test_visibility_rules() -> None:
    assert visibility_of({"is_channel": True}) is Visibility.PUBLIC
    assert visibility_of({"is_private": True}) is Visibility.PRIVATE
    assert visibility_of({"is_im": True}) is Visibility.DM
    assert visibility_of({"is_mpim": True, "is_private": True}) is Visibility.DM
    assert visibility_of({"is_private": True, "is_ext_shared": True}) is Visibility.SHARED


async def test_directory_reads_conversations_info_not_the_id_prefix() -> None:
    with SlackEmulator() as slack:
        alice = slack.add_user("alice")
        public = slack.add_channel("general", members=[alice.id])
        private = slack.add_channel("secret", kind="private", members=[alice.id])
        connect = slack.add_channel("partners", members=[alice.id], is_ext_shared=True)
        dm = slack.add_dm(alice.id)
        assert private.id.startswith("C"), "the emulator gives private channels C ids, like Slack"
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        clock = [0.0]
        directory = ChannelDirectory(client, ttl_s=60, clock=lambda: clock[0])
        assert await directory.visibility("T0001", public.id) is Visibility.PUBLIC
        assert await directory.visibility("T0001", private.id) is Visibility.PRIVATE
        assert await directory.visibility("T0001", connect.id) is Visibility.SHARED
        assert await directory.visibility("T0001", dm.id) is Visibility.DM
        calls = len(slack.calls("conversations.info"))
        await directory.visibility("T0001", public.id)
        assert len(slack.calls("conversations.info")) == calls, "served from the TTL cache"


async def test_a_visibility_change_is_announced_after_the_ttl() -> None:
    with SlackEmulator() as slack:
        alice = slack.add_user("alice")
        channel = slack.add_channel("general", members=[alice.id])
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        clock = [0.0]
        directory = ChannelDirectory(client, ttl_s=60, clock=lambda: clock[0])
        changes: list[tuple[str, str, Visibility]] = []

        async def listener(team: str, channel_id: str, visibility: Visibility) -> None:
            changes.append((team, channel_id, visibility))

        directory.on_change(listener)
        assert await directory.visibility("T0001", channel.id) is Visibility.PUBLIC
        with slack.workspace.lock:
            slack.workspace.channels[channel.id].kind = "private"
        clock[0] = 61.0
        assert await directory.visibility("T0001", channel.id) is Visibility.PRIVATE
        assert changes == [("T0001", channel.id, Visibility.PRIVATE)]
