"""``parse_dm_message`` on Slack's real ``message`` shape with ``channel_type: im``: every human DM is a request."""

from __future__ import annotations

from typing import Any

import pytest

from bot.request import Request, Scope, Surface
from handlers.dms import parse_dm_message
from handlers.threads import in_dm
from tests.unit.handlers.samples import BOT_ID, BOT_USER, EVENT_ID, TEAM, THREAD_TS, TS, USER, SampleFn, drop, fill

DM = "D0LAN2Q65"


def _dm(slack_sample: SampleFn, **extra: object) -> dict[str, Any]:
    values = {
        "team_id": TEAM,
        "event_id": EVENT_ID,
        "event.channel": DM,
        "event.channel_type": "im",
        "event.user": USER,
        "event.ts": TS,
        "event.thread_ts": "",
        "event.text": "  what's our travel policy for Berlin?  ",
    }
    body = fill(slack_sample("events/MessagePayload.json"), values | extra)
    return drop(body, "event.bot_id", "event.bot_profile")


def test_a_top_level_dm_is_a_request_answered_in_its_thread(slack_sample: SampleFn) -> None:
    body = _dm(slack_sample)
    assert in_dm(body)
    assert parse_dm_message(body, BOT_USER) == Request(
        request_id=EVENT_ID,
        surface=Surface.DM,
        scope=Scope(team_id=TEAM, channel_id=DM),
        user_id=USER,
        text="what's our travel policy for Berlin?",
        thread_ts=TS,
        message_ts=TS,
    )


def test_a_reply_in_a_dm_thread_stays_in_that_thread(slack_sample: SampleFn) -> None:
    request = parse_dm_message(_dm(slack_sample, **{"event.thread_ts": THREAD_TS}), BOT_USER)
    assert request is not None and (request.thread_ts, request.message_ts) == (THREAD_TS, TS)


def test_a_mention_inside_the_dm_is_stripped_and_the_pane_surface_can_be_asked_for(slack_sample: SampleFn) -> None:
    body = _dm(slack_sample, **{"event.text": f"<@{BOT_USER}> hi"})
    request = parse_dm_message(body, BOT_USER, surface=Surface.PANE)
    assert request is not None and (request.text, request.surface) == ("hi", Surface.PANE)


@pytest.mark.parametrize("subtype", ["message_changed", "message_deleted", "bot_message", "channel_join"])
def test_edits_deletions_and_bots_are_not_requests(slack_sample: SampleFn, subtype: str) -> None:
    body = _dm(slack_sample)
    body["event"]["subtype"] = subtype
    assert parse_dm_message(body, BOT_USER) is None
    bot = _dm(slack_sample)
    bot["event"]["bot_id"] = BOT_ID
    assert parse_dm_message(bot, BOT_USER) is None


def test_a_file_shared_in_the_dm_with_a_question_is_a_request(slack_sample: SampleFn) -> None:
    body = _dm(slack_sample)
    body["event"]["subtype"] = "file_share"
    assert parse_dm_message(body, BOT_USER) is not None
