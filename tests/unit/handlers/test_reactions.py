"""``parse_reaction`` on Slack's real reaction events: only 👍/👎 on a message, in any skin tone, is a vote."""

from __future__ import annotations

from typing import Any

import pytest

from bot.request import Reaction
from handlers.reactions import parse_reaction
from tests.unit.handlers.samples import BOT_USER, CHANNEL, TEAM, TS, USER, SampleFn, drop, fill

ADDED, REMOVED = "events/ReactionAddedPayload.json", "events/ReactionRemovedPayload.json"


def _reaction(slack_sample: SampleFn, name: str, reaction: str, **extra: object) -> dict[str, Any]:
    """``USER`` reacts to Penny's answer ``TS`` (``item_user`` is the answer's author)."""
    values = {
        "team_id": TEAM,
        "event_id": "Ev0LAN670R",
        "event.user": USER,
        "event.reaction": reaction,
        "event.item.channel": CHANNEL,
        "event.item.ts": TS,
        "event.item_user": BOT_USER,
        "event.event_ts": "1515449800.000600",
    }
    return fill(slack_sample(name), values | extra)


@pytest.mark.parametrize(("name", "added"), [(ADDED, True), (REMOVED, False)])
def test_a_thumbs_up_is_a_good_vote_added_or_taken_back(slack_sample: SampleFn, name: str, added: bool) -> None:
    """Removing a 👍 withdraws the vote, so the event type travels along as ``added``."""
    assert parse_reaction(_reaction(slack_sample, name, "+1"), added=added) == Reaction(
        team_id=TEAM, channel_id=CHANNEL, message_ts=TS, user_id=USER, good=True, added=added
    )


@pytest.mark.parametrize(
    ("emoji", "good"),
    [
        ("+1", True),
        ("thumbsup", True),
        ("+1::skin-tone-3", True),
        ("thumbsup::skin-tone-6", True),
        ("-1", False),
        ("thumbsdown", False),
        ("-1::skin-tone-2", False),
        ("thumbsdown::skin-tone-5", False),
    ],
)
def test_both_names_and_every_skin_tone_count(slack_sample: SampleFn, emoji: str, good: bool) -> None:
    """Slack names a toned thumb ``+1::skin-tone-N``; people should not have to pick the default yellow to vote."""
    reaction = parse_reaction(_reaction(slack_sample, ADDED, emoji), added=True)
    assert reaction is not None and reaction.good is good


@pytest.mark.parametrize("emoji", ["heart", "tada", "white_check_mark", "skin-tone-3", "+1_custom", ""])
def test_other_emoji_are_not_votes(slack_sample: SampleFn, emoji: str) -> None:
    """Everything else is ignored before any Redis work."""
    assert parse_reaction(_reaction(slack_sample, ADDED, emoji), added=True) is None


def test_a_thumb_on_a_file_is_not_a_vote(slack_sample: SampleFn) -> None:
    """Reactions on files name a ``file``, not a message ts (that item shape replaces the sample's)."""
    body = _reaction(slack_sample, ADDED, "+1", **{"event.item": {"type": "file", "file": "F0LAN2Q6A"}})
    assert parse_reaction(body, added=True) is None


@pytest.mark.parametrize("missing", ["team_id", "event.user", "event.item.channel", "event.item.ts"])
def test_a_vote_missing_who_or_where_is_ignored(slack_sample: SampleFn, missing: str) -> None:
    """A vote must be attributable to one user and one message in one workspace."""
    assert parse_reaction(drop(_reaction(slack_sample, REMOVED, "-1"), missing), added=False) is None
