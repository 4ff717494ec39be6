"""``parse_thread_message`` on Slack's real ``message`` shapes: only a human's thread reply without a mention counts.

Slack sends a ``message`` event for every message, so this parser is what keeps Penny from answering its own
replies, edits and deletions, or answering a mention twice (``app_mention`` answers those).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.request import Request, Scope, Surface
from handlers.threads import parse_thread_message
from tests.unit.handlers.samples import (
    BOT_ID,
    BOT_USER,
    CHANNEL,
    EVENT_ID,
    OTHER_USER,
    TEAM,
    THREAD_TS,
    TS,
    USER,
    SampleFn,
    drop,
    fill,
)


def _reply(slack_sample: SampleFn, name: str = "events/MessagePayload.json", **extra: object) -> dict[str, Any]:
    """A thread reply in sample ``name``'s shape; fields the sample lacks (e.g. ``user`` of a bot) are not set."""
    body = slack_sample(name)
    event = body["event"]
    values: dict[str, object] = {
        "team_id": TEAM,
        "event_id": EVENT_ID,
        "event.channel": CHANNEL,
        "event.ts": TS,
        "event.thread_ts": THREAD_TS,
        "event.text": "  and who signed off on it?  ",
    }
    values |= {f"event.{key}": value for key, value in (("user", USER), ("parent_user_id", OTHER_USER)) if key in event}
    return fill(body, values | extra)


def _human_reply(slack_sample: SampleFn, **extra: object) -> dict[str, Any]:
    """``MessagePayload`` minus its bot fields: a person's message has no ``bot_id`` or ``bot_profile``."""
    return drop(_reply(slack_sample, "events/MessagePayload.json", **extra), "event.bot_id", "event.bot_profile")


def test_a_human_thread_reply_is_a_follow_up(slack_sample: SampleFn) -> None:
    """The follow-up is answered in the same thread, keyed by the event id."""
    assert parse_thread_message(_human_reply(slack_sample), BOT_USER) == Request(
        request_id=EVENT_ID,
        surface=Surface.THREAD,
        scope=Scope(team_id=TEAM, channel_id=CHANNEL),
        user_id=USER,
        text="and who signed off on it?",
        thread_ts=THREAD_TS,
        message_ts=TS,
    )


def test_fallbacks_when_the_envelope_lacks_team_and_event_id(slack_sample: SampleFn) -> None:
    """The event's ``team`` and a channel+ts id keep the request scoped and idempotent."""
    body = _human_reply(slack_sample, team_id="", event_id="", **{"event.team": TEAM})
    request = parse_thread_message(body, BOT_USER)
    assert request is not None
    assert (request.scope.team_id, request.request_id) == (TEAM, f"thread-{CHANNEL}-{TS}")


@pytest.mark.parametrize(("thread_ts", "why"), [("", "top-level message"), (TS, "the thread's parent itself")])
def test_messages_that_are_not_replies_are_ignored(slack_sample: SampleFn, thread_ts: str, why: str) -> None:
    """Penny only follows up in threads; a channel message or a thread's root is not a reply."""
    assert parse_thread_message(_human_reply(slack_sample, **{"event.thread_ts": thread_ts}), BOT_USER) is None, why


def test_a_reply_mentioning_penny_is_left_to_app_mention(slack_sample: SampleFn) -> None:
    """Slack sends both ``message`` and ``app_mention`` for it: answering here too would answer twice."""
    body = _human_reply(slack_sample, **{"event.text": f"<@{BOT_USER}> and who signed off?"})
    assert parse_thread_message(body, BOT_USER) is None


def test_mentions_of_other_people_do_not_hide_the_reply(slack_sample: SampleFn) -> None:
    """Only Penny's own mention hands the message to ``app_mention``."""
    body = _human_reply(slack_sample, **{"event.text": f"did <@{OTHER_USER}> sign off?"})
    assert parse_thread_message(body, BOT_USER) is not None


def test_a_bot_message_without_a_subtype_is_ignored(slack_sample: SampleFn) -> None:
    """Apps posting with a bot token carry ``bot_id`` but no subtype: Penny's own replies look like this."""
    assert parse_thread_message(_reply(slack_sample, **{"event.bot_id": BOT_ID}), BOT_USER) is None


@pytest.mark.parametrize(
    "name",
    [
        "events/MessageBotPayload.json",  # subtype bot_message
        "events/MessageChangedPayload.json",  # an edit
        "events/MessageDeletedPayload.json",  # a deletion
        "events/MessageRepliedPayload.json",  # the parent's reply count changing
    ],
)
def test_bot_edit_and_deletion_subtypes_are_ignored(slack_sample: SampleFn, name: str) -> None:
    """These carry a subtype; the sample's ``thread_ts`` (where it has one) is filled so the subtype decides."""
    body = slack_sample(name)
    values = {"team_id": TEAM, "event.channel": CHANNEL, "event.ts": TS}
    if "thread_ts" in body["event"]:
        values["event.thread_ts"] = THREAD_TS
    assert parse_thread_message(fill(body, values), BOT_USER) is None


@pytest.mark.parametrize("name", ["events/MessageThreadBroadcastPayload.json", "events/MessageFileSharePayload.json"])
def test_human_replies_with_a_subtype_are_follow_ups(slack_sample: SampleFn, name: str) -> None:
    """By its docstring, None is only for messages that are not a human's thread reply; these are one. (They
    were refused until thread manners: every subtype was, so "also send to channel" replies went unanswered.)"""
    body = _reply(slack_sample, name)
    drop(body, *[f"event.{k}" for k in ("bot_id", "bot_profile") if k in body["event"]])
    request = parse_thread_message(body, BOT_USER)
    assert request is not None
    assert (request.user_id, request.thread_ts, request.message_ts) == (USER, THREAD_TS, TS)


@pytest.mark.parametrize("name", ["events/MessageThreadBroadcastPayload.json", "events/MessageFileSharePayload.json"])
def test_a_bot_posting_with_those_subtypes_is_still_not_a_follow_up(slack_sample: SampleFn, name: str) -> None:
    body = _reply(slack_sample, name)
    body["event"]["bot_id"] = BOT_ID
    assert parse_thread_message(body, BOT_USER) is None


def test_payloads_without_an_event_or_ts_are_ignored(slack_sample: SampleFn) -> None:
    """A malformed delivery is dropped, not raised: the listener still has to finish the event claim."""
    assert parse_thread_message({}, BOT_USER) is None
    assert parse_thread_message(drop(_human_reply(slack_sample), "event.ts"), BOT_USER) is None
