"""``parse_click`` on Slack's real ``block_actions`` payload, with the buttons Penny itself produces.

The buttons are built by ``note_blocks`` / ``draft_blocks`` (what Penny posts), so these tests break if
producer and parser drift apart. A button carries only a key: the question or draft is looked up server-side
(``tests/unit/bot/assistant/test_fresh_answers.py`` round-trips a long Japanese question through Redis).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.request import ButtonClick
from bot.slack.blocks import (
    BUTTON_VALUE_LIMIT,
    FRESH_ANSWER_ACTION,
    POST_DRAFT_ACTION,
    CacheNote,
    draft_blocks,
    note_blocks,
)
from handlers.actions import parse_click
from tests.unit.handlers.samples import CHANNEL, TEAM, USER, SampleFn, drop, fill

KEY = "k3yZ_-fresh01"
ANSWER_TS = "1515449530.000300"  # the cached answer's message, which the fresh answer replaces
TRIGGER_ID = "13345224609.738474920.8088930838d88f008e0"
ACTION_TS = "1515449600.123456"


def _button(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    (button,) = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    return button


def _fresh_button() -> dict[str, Any]:
    return _button(note_blocks(CacheNote(KEY)))


def _click(slack_sample: SampleFn, button: dict[str, Any], **extra: object) -> dict[str, Any]:
    values = {
        "team.id": TEAM,
        "user.id": USER,
        "channel.id": CHANNEL,
        "trigger_id": TRIGGER_ID,
        "container.type": "message",
        "container.message_ts": ANSWER_TS,
        "container.channel_id": CHANNEL,
        "actions.0.action_id": button["action_id"],
        "actions.0.value": button["value"],
        "actions.0.type": button["type"],
        "actions.0.text": button["text"],
        "actions.0.action_ts": ACTION_TS,
    }
    return fill(slack_sample("app-backend/interactive-components/BlockActionPayload.json"), values | extra)


def test_a_click_names_the_key_the_message_and_the_clicker(slack_sample: SampleFn) -> None:
    assert parse_click(_click(slack_sample, _fresh_button()), FRESH_ANSWER_ACTION) == ButtonClick(
        team_id=TEAM, channel_id=CHANNEL, user_id=USER, message_ts=ANSWER_TS, key=KEY, click_id=TRIGGER_ID
    )


def test_without_trigger_id_the_action_ts_identifies_the_click(slack_sample: SampleFn) -> None:
    """A repeated delivery of one click must keep one request id."""
    parsed = parse_click(_click(slack_sample, _fresh_button(), trigger_id=""), FRESH_ANSWER_ACTION)
    assert parsed is not None and parsed.click_id == ACTION_TS


def test_the_draft_button_carries_its_draft_id(slack_sample: SampleFn) -> None:
    button = _button(draft_blocks("Hi Sam, thanks for the report.", "draft-42", "Only you can see this draft."))
    parsed = parse_click(_click(slack_sample, button), POST_DRAFT_ACTION)
    assert parsed is not None and parsed.key == "draft-42"
    assert parse_click(_click(slack_sample, button), FRESH_ANSWER_ACTION) is None, "one button is not the other"


def test_a_button_value_is_a_key_whatever_the_answer(slack_sample: SampleFn) -> None:
    """The value no longer holds the question, so no language or length can overflow Slack's 2,000 characters."""
    button = _button(note_blocks(CacheNote(KEY)))
    assert button["value"] == KEY
    with pytest.raises(ValueError):
        note_blocks(CacheNote("k" * (BUTTON_VALUE_LIMIT + 1)))


def test_other_actions_and_missing_message_are_refused(slack_sample: SampleFn) -> None:
    """Another app's button, no actions, an empty value, or no message ts to edit: nothing to re-run."""
    button = _fresh_button()
    assert parse_click(_click(slack_sample, button | {"action_id": "someone_else"}), FRESH_ANSWER_ACTION) is None
    assert parse_click(_click(slack_sample, button, actions=[]), FRESH_ANSWER_ACTION) is None
    assert parse_click(_click(slack_sample, button | {"value": ""}), FRESH_ANSWER_ACTION) is None
    assert parse_click(drop(_click(slack_sample, button), "container.message_ts"), FRESH_ANSWER_ACTION) is None


def test_the_container_names_the_channel_when_the_payload_has_no_channel(slack_sample: SampleFn) -> None:
    """Clicks in some surfaces carry the channel only in ``container``."""
    parsed = parse_click(drop(_click(slack_sample, _fresh_button()), "channel"), FRESH_ANSWER_ACTION)
    assert parsed is not None and parsed.channel_id == CHANNEL
