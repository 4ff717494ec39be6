"""``parse_channel_change`` on Slack's real channel events: which conversation changed, and how."""

from __future__ import annotations

import pytest

from bot.request import ChannelChange, ChannelChangeKind
from handlers.visibility import EVENTS, MESSAGE_SUBTYPES, parse_channel_change
from tests.harness.slack_emulator import payloads
from tests.unit.handlers.samples import CHANNEL, TEAM, USER, SampleFn, fill


@pytest.mark.parametrize(
    ("sample", "kind"),
    [
        ("ChannelSharedPayload", ChannelChangeKind.SHARED_EXTERNALLY),
        ("ChannelUnsharedPayload", ChannelChangeKind.UNSHARED),
        ("ChannelArchivePayload", ChannelChangeKind.ARCHIVED),
        ("GroupArchivePayload", ChannelChangeKind.ARCHIVED),
        ("ChannelUnarchivePayload", ChannelChangeKind.UNARCHIVED),
        ("GroupUnarchivePayload", ChannelChangeKind.UNARCHIVED),
        ("ChannelDeletedPayload", ChannelChangeKind.DELETED),
        ("GroupDeletedPayload", ChannelChangeKind.DELETED),
    ],
)
def test_each_channel_event_names_its_channel_and_change(
    slack_sample: SampleFn, sample: str, kind: ChannelChangeKind
) -> None:
    body = fill(slack_sample(f"events/{sample}.json"), {"team_id": TEAM, "event.channel": CHANNEL})
    assert parse_channel_change(body) == ChannelChange(TEAM, CHANNEL, kind)


@pytest.mark.parametrize("private", [True, False])
def test_a_conversion_arrives_as_a_message_subtype(private: bool) -> None:
    """Slack's documented shape (no sample ships for it), as the emulator builds it."""
    event = payloads.channel_convert_event(user=USER, channel=CHANNEL, ts="1730984822.596869", private=private)
    body = {"type": "event_callback", "team_id": TEAM, "event": event}
    kind = ChannelChangeKind.MADE_PRIVATE if private else ChannelChangeKind.MADE_PUBLIC
    assert parse_channel_change(body) == ChannelChange(TEAM, CHANNEL, kind)


def test_other_payloads_and_payloads_without_a_channel_are_ignored(slack_sample: SampleFn) -> None:
    assert parse_channel_change({}) is None
    mention = fill(slack_sample("events/AppMentionPayload.json"), {"team_id": TEAM, "event.channel": CHANNEL})
    assert parse_channel_change(mention) is None
    no_channel = fill(slack_sample("events/ChannelArchivePayload.json"), {"team_id": TEAM})
    assert parse_channel_change(no_channel) is None


def test_every_listened_event_is_one_slack_sends() -> None:
    assert set(EVENTS) == {
        "channel_shared",
        "channel_unshared",
        "channel_archive",
        "group_archive",
        "channel_unarchive",
        "group_unarchive",
        "channel_deleted",
        "group_deleted",
    }
    assert set(MESSAGE_SUBTYPES) == {"channel_convert_to_private", "channel_convert_to_public"}
