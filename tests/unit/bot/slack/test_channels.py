from slack_sdk.web.async_client import AsyncWebClient

from bot.request import ChannelChange, ChannelChangeKind
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


async def test_channel_events_take_effect_at_once_and_unknown_is_private() -> None:
    with SlackEmulator() as slack:
        alice = slack.add_user("alice")
        general = slack.add_channel("general", members=[alice.id])
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        directory = ChannelDirectory(client, ttl_s=300, clock=lambda: 0.0)
        changes: list[tuple[str, str, Visibility]] = []
        gone: list[tuple[str, str]] = []

        async def on_change(team: str, channel_id: str, visibility: Visibility) -> None:
            changes.append((team, channel_id, visibility))

        async def on_gone(team: str, channel_id: str) -> None:
            gone.append((team, channel_id))

        directory.on_change(on_change)
        directory.on_gone(on_gone)
        assert await directory.visibility("T0001", general.id) is Visibility.PUBLIC
        await directory.apply(ChannelChange("T0001", general.id, ChannelChangeKind.MADE_PRIVATE))
        assert changes == [("T0001", general.id, Visibility.PRIVATE)]
        assert await directory.visibility("T0001", general.id) is Visibility.PRIVATE, "no TTL wait"
        await directory.apply(ChannelChange("T0001", general.id, ChannelChangeKind.SHARED_EXTERNALLY))
        assert changes[-1] == ("T0001", general.id, Visibility.SHARED)
        calls = len(slack.calls("conversations.info"))
        await directory.apply(ChannelChange("T0001", general.id, ChannelChangeKind.MADE_PUBLIC))
        assert await directory.visibility("T0001", general.id) is Visibility.PUBLIC
        assert len(slack.calls("conversations.info")) == calls + 1, "made public: Slack is asked, not believed"
        await directory.apply(ChannelChange("T0001", general.id, ChannelChangeKind.DELETED))
        assert gone == [("T0001", general.id)]

        slack.fail_next("conversations.info", "internal_error", times=5)
        assert await directory.current_visibility("T0001", general.id, max_age_s=0) is Visibility.PRIVATE
        assert await directory.current_visibility("T0001", "C0MISSING", max_age_s=30) is Visibility.PRIVATE
