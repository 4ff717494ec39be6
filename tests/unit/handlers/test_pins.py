"""``parse_pin_event`` and ``parse_message_edit`` on Slack's real pin and edit events: whose pins may be stale."""

from __future__ import annotations

from typing import Any

import pytest

from bot.request import PinChange
from handlers.pins import parse_message_edit, parse_pin_event
from tests.unit.handlers.samples import CHANNEL, TEAM, TS, USER, SampleFn, drop, fill

PIN_SAMPLES = ["events/PinAddedPayload.json", "events/PinRemovedPayload.json"]
EDIT_TS = "1515449700.000400"  # when the edit happened: the event's ts, not the edited message's


def _pin(slack_sample: SampleFn, name: str, **extra: object) -> dict[str, Any]:
    values = {
        "team_id": TEAM,
        "event.user": USER,
        "event.channel_id": CHANNEL,
        "event.item.channel": CHANNEL,
        "event.item.created_by": USER,
        "event.pinned_info.channel": CHANNEL,
        "event.event_ts": "1515449650.000500",
    }
    return fill(slack_sample(name), values | extra)


@pytest.mark.parametrize("name", PIN_SAMPLES)
def test_pin_added_and_removed_name_the_channel(slack_sample: SampleFn, name: str) -> None:
    """Both events change the channel's pin set; no message ts, since the whole board is re-read."""
    assert parse_pin_event(_pin(slack_sample, name)) == PinChange(team_id=TEAM, channel_id=CHANNEL)


@pytest.mark.parametrize("name", PIN_SAMPLES)
def test_the_items_channel_stands_in_for_channel_id(slack_sample: SampleFn, name: str) -> None:
    """Payloads without ``channel_id`` still carry the pinned item's ``channel``."""
    body = drop(_pin(slack_sample, name), "event.channel_id")
    assert parse_pin_event(body) == PinChange(team_id=TEAM, channel_id=CHANNEL)


@pytest.mark.parametrize("name", PIN_SAMPLES)
def test_pin_events_without_team_or_channel_are_ignored(slack_sample: SampleFn, name: str) -> None:
    """Without both, no pin board can be told; the event is dropped rather than scoped wrongly."""
    assert parse_pin_event({}) is None
    assert parse_pin_event(_pin(slack_sample, name, team_id="")) is None
    assert parse_pin_event(_pin(slack_sample, name, **{"event.channel_id": "", "event.item.channel": ""})) is None


def _edit(slack_sample: SampleFn, **extra: object) -> dict[str, Any]:
    values = {
        "team_id": TEAM,
        "event.channel": CHANNEL,
        "event.ts": EDIT_TS,
        "event.event_ts": EDIT_TS,
        "event.message.user": USER,
        "event.message.text": "Launch moves to *May 14*.",
        "event.message.ts": TS,
        "event.message.edited.user": USER,
        "event.message.edited.ts": EDIT_TS,
        "event.previous_message.text": "Launch is on May 7.",
        "event.previous_message.ts": TS,
    }
    return fill(slack_sample("events/MessageChangedPayload.json"), values | extra)


def test_an_edit_names_the_edited_message(slack_sample: SampleFn) -> None:
    """``message.ts`` is the edited message (what a pin points at); the event's own ts is only the edit's time."""
    assert parse_message_edit(_edit(slack_sample)) == PinChange(team_id=TEAM, channel_id=CHANNEL, message_ts=TS)


def test_edits_without_team_channel_or_message_are_ignored(slack_sample: SampleFn) -> None:
    """Nothing to look up without all three."""
    assert parse_message_edit({}) is None
    assert parse_message_edit(_edit(slack_sample, team_id="")) is None
    assert parse_message_edit(_edit(slack_sample, **{"event.channel": ""})) is None
    assert parse_message_edit(drop(_edit(slack_sample), "event.message")) is None
