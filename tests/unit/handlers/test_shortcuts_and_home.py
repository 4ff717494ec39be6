"""The message shortcut and App Home parsers on Slack's real ``message_action`` and ``app_home_opened`` samples."""

from __future__ import annotations

from bot.request import HomeOpened, SummarizeArgs, Surface, TargetKind
from handlers.home import parse_home_opened
from handlers.shortcuts import SUMMARIZE_THREAD_SHORTCUT, parse_summarize_thread
from tests.unit.handlers.samples import CHANNEL, TEAM, THREAD_TS, TS, USER, SampleFn, fill

TRIGGER = "13345224609.738474920.8088930838d88f008e0"


def _shortcut(slack_sample: SampleFn, thread_ts: str) -> dict:  # type: ignore[type-arg]
    values = {
        "callback_id": SUMMARIZE_THREAD_SHORTCUT,
        "trigger_id": TRIGGER,
        "message_ts": TS,
        "message.ts": TS,
        "message.thread_ts": thread_ts,
        "message.user": USER,
        "team.id": TEAM,
        "user.id": USER,
        "channel.id": CHANNEL,
    }
    return fill(slack_sample("app-backend/interactive-components/MessageShortcutPayload.json"), values)


def test_a_reply_summarizes_its_whole_thread_privately(slack_sample: SampleFn) -> None:
    parsed = parse_summarize_thread(_shortcut(slack_sample, THREAD_TS))
    assert parsed is not None
    request, args = parsed
    assert args == SummarizeArgs(TargetKind.THREAD, CHANNEL, thread_ts=THREAD_TS)
    assert (request.surface, request.user_id, request.request_id) == (Surface.SHORTCUT, USER, f"shortcut-{TRIGGER}")


def test_a_top_level_message_is_its_own_thread(slack_sample: SampleFn) -> None:
    parsed = parse_summarize_thread(_shortcut(slack_sample, ""))
    assert parsed is not None and parsed[1].thread_ts == TS


def test_home_opened_on_the_home_tab(slack_sample: SampleFn) -> None:
    body = fill(
        slack_sample("events/AppHomeOpenedPayload.json"), {"team_id": TEAM, "event.user": USER, "event.tab": "home"}
    )
    assert parse_home_opened(body) == HomeOpened(team_id=TEAM, user_id=USER)
    body["event"]["tab"] = "messages"
    assert parse_home_opened(body) is None, "the Messages tab is not the Home tab"
