"""``deleted_message_ref`` on Slack's real ``message_deleted`` event: which message's cached answers must go."""

from __future__ import annotations

from typing import Any

from handlers.deletions import deleted_message_ref
from tests.unit.handlers.samples import CHANNEL, TEAM, TS, SampleFn, drop, fill

DELETION_TS = "1515449600.000200"  # when the deletion happened: the event's own ts, not the message's


def _deletion(slack_sample: SampleFn, **extra: object) -> dict[str, Any]:
    values = {
        "team_id": TEAM,
        "event.channel": CHANNEL,
        "event.deleted_ts": TS,
        "event.previous_message.ts": TS,
        "event.ts": DELETION_TS,
        "event.event_ts": DELETION_TS,
    }
    return fill(slack_sample("events/MessageDeletedPayload.json"), values | extra)


def test_the_deleted_message_is_named_by_team_channel_and_ts(slack_sample: SampleFn) -> None:
    """``deleted_ts`` is the message's ts (what cache entries record as a source), not the deletion's."""
    assert deleted_message_ref(_deletion(slack_sample)) == (TEAM, CHANNEL, TS)


def test_previous_message_ts_stands_in_for_deleted_ts(slack_sample: SampleFn) -> None:
    """Either field names the message; the cache is cleaned as long as one of them does."""
    body = drop(_deletion(slack_sample), "event.deleted_ts")
    assert deleted_message_ref(body) == (TEAM, CHANNEL, TS)


def test_the_event_team_stands_in_for_team_id(slack_sample: SampleFn) -> None:
    """Without an envelope ``team_id`` the event's ``team`` (not in this sample's shape: added) scopes it."""
    body = _deletion(slack_sample, team_id="")
    body["event"]["team"] = TEAM
    assert deleted_message_ref(body) == (TEAM, CHANNEL, TS)


def test_payloads_that_do_not_name_a_message_are_ignored(slack_sample: SampleFn) -> None:
    """Missing ts, channel or team: nothing can be evicted, and nothing must be evicted by guess."""
    assert deleted_message_ref({}) is None
    no_ts = _deletion(slack_sample, **{"event.deleted_ts": "", "event.previous_message.ts": ""})
    assert deleted_message_ref(no_ts) is None
    assert deleted_message_ref(drop(_deletion(slack_sample), "event.channel")) is None
    assert deleted_message_ref(_deletion(slack_sample, team_id="")) is None
