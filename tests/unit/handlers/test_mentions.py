"""``parse_app_mention`` on Slack's real ``app_mention`` envelope: what the assistant is asked, and where to reply."""

from __future__ import annotations

from typing import Any

from bot.request import Request, Scope, Surface
from handlers.mentions import parse_app_mention
from tests.unit.handlers.samples import (
    BOT_USER,
    CHANNEL,
    EVENT_ID,
    OTHER_USER,
    TEAM,
    THREAD_TS,
    TS,
    USER,
    SampleFn,
    fill,
)


def _mention(slack_sample: SampleFn, text: str, **extra: object) -> dict[str, Any]:
    """A top-level mention (the sample's blank ``thread_ts`` stays blank, as for a message not in a thread)."""
    values = {
        "team_id": TEAM,
        "event_id": EVENT_ID,
        "event.user": USER,
        "event.channel": CHANNEL,
        "event.text": text,
        "event.ts": TS,
        "event.event_ts": TS,
    }
    return fill(slack_sample("events/AppMentionPayload.json"), values | extra)


def test_a_top_level_mention_starts_a_thread_on_the_message(slack_sample: SampleFn) -> None:
    """The reply goes in a new thread under the question, and the event id is the ledger's idempotency key."""
    body = _mention(slack_sample, f"<@{BOT_USER}> what did we decide about the launch date?")
    assert parse_app_mention(body, BOT_USER) == Request(
        request_id=EVENT_ID,
        surface=Surface.MENTION,
        scope=Scope(team_id=TEAM, channel_id=CHANNEL),
        user_id=USER,
        text="what did we decide about the launch date?",
        thread_ts=TS,
        message_ts=TS,
    )


def test_a_mention_inside_a_thread_replies_in_that_thread(slack_sample: SampleFn) -> None:
    """``thread_ts`` names the thread's parent, not the mention itself."""
    body = _mention(slack_sample, f"<@{BOT_USER}> summarize this thread", **{"event.thread_ts": THREAD_TS})
    request = parse_app_mention(body, BOT_USER)
    assert (request.thread_ts, request.message_ts) == (THREAD_TS, TS)


def test_punctuation_after_the_mention_and_other_users_mentions(slack_sample: SampleFn) -> None:
    """Only Penny's own mention is removed; people mentioned in the question stay, since they are its subject."""
    body = _mention(slack_sample, f"<@{BOT_USER}>, ask <@{OTHER_USER}> about the Q3 budget")
    assert parse_app_mention(body, BOT_USER).text == f"ask <@{OTHER_USER}> about the Q3 budget"


def test_a_bare_mention_is_an_empty_request(slack_sample: SampleFn) -> None:
    """``@Penny`` alone has no question: the request is empty, so the assistant can answer with help."""
    assert parse_app_mention(_mention(slack_sample, f"<@{BOT_USER}>:\n"), BOT_USER).is_empty


def test_without_bot_user_id_the_text_is_kept(slack_sample: SampleFn) -> None:
    """Before Bolt knows Penny's user id nothing is stripped but the ends, rather than guessing which id is ours."""
    body = _mention(slack_sample, f" <@{BOT_USER}> hello ")
    assert parse_app_mention(body, None).text == f"<@{BOT_USER}> hello"


def test_fallbacks_when_the_envelope_lacks_team_and_event_id(slack_sample: SampleFn) -> None:
    """The event's own ``team`` stands in for ``team_id``; channel and ts still make a stable request id."""
    body = _mention(slack_sample, f"<@{BOT_USER}> hi", team_id="", event_id="", **{"event.team": TEAM})
    request = parse_app_mention(body, BOT_USER)
    assert request.scope == Scope(team_id=TEAM, channel_id=CHANNEL)
    assert request.request_id == f"mention-{CHANNEL}-{TS}"
