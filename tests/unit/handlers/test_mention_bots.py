"""Mentions from other apps are ignored unless allow-listed; a mention inside Penny's DM is the DM surface's."""

from __future__ import annotations

from handlers.mentions import may_answer, parse_app_mention
from tests.unit.handlers.samples import BOT_USER, CHANNEL, TEAM, TS, USER, SampleFn, fill

OTHER_BOT = "B0OTHERBOT"


def _mention(slack_sample: SampleFn, **extra: object) -> dict:  # type: ignore[type-arg]
    values = {
        "team_id": TEAM,
        "event.user": USER,
        "event.channel": CHANNEL,
        "event.text": f"<@{BOT_USER}> hi",
        "event.ts": TS,
    }
    return fill(slack_sample("events/AppMentionPayload.json"), values | extra)


def test_people_are_answered(slack_sample: SampleFn) -> None:
    assert may_answer(parse_app_mention(_mention(slack_sample), BOT_USER), allowed_bots=())


def test_another_bot_is_ignored_unless_allow_listed(slack_sample: SampleFn) -> None:
    body = _mention(slack_sample)
    body["event"]["bot_id"] = OTHER_BOT
    request = parse_app_mention(body, BOT_USER)
    assert request.bot_id == OTHER_BOT
    assert not may_answer(request, allowed_bots=())
    assert may_answer(request, allowed_bots={OTHER_BOT})
    assert may_answer(request, allowed_bots={USER}), "its bot user id works too"


def test_a_mention_in_pennys_dm_is_left_to_the_dm_surface(slack_sample: SampleFn) -> None:
    request = parse_app_mention(_mention(slack_sample, **{"event.channel": "D0LAN2Q65"}), BOT_USER)
    assert not may_answer(request, allowed_bots=())
