"""The assistant's prompt is built stable-prefix-first, so a follow-up repeats the previous prompt's start."""

from __future__ import annotations

from bot.assistant.prompts import SYSTEM_PROMPT, chat_messages
from bot.pins.board import PinnedItem
from bot.pins.selection import SelectedPin
from bot.slack.conversations import SlackMessage

NAMES = {"U1": "Alice", "U2": "Bob"}


def _pin(pin_id: str, text: str) -> SelectedPin:
    return SelectedPin(PinnedItem(pin_id, "message", text, version="1"), text, trimmed=False, similarity=0.5)


def _thread(count: int) -> list[SlackMessage]:
    return [SlackMessage(("U1", "U2")[i % 2], f"turn {i}", f"100.{i:06d}", from_bot=False) for i in range(count)]


def test_a_follow_up_starts_with_the_previous_prompt_and_pins_keep_their_order() -> None:
    pins = [_pin("1700000002.000100", "on-call rota"), _pin("1700000001.000100", "travel policy")]
    first = chat_messages("what did Bob say?", _thread(4), current_ts="100.000004", pins=pins, names=NAMES)
    later = chat_messages(
        "and then?", [*_thread(4), *_thread(7)[4:]], current_ts="100.000007", pins=pins[::-1], names=NAMES
    )
    assert later[: len(first) - 1] == first[:-1], "instructions, pins, older turns: an unchanged prefix"
    assert first[0]["content"] == SYSTEM_PROMPT and first[-1]["content"] == "what did Bob say?"
    documents = first[2]["content"]
    assert documents.index("travel policy") < documents.index("on-call rota"), "pins in pin order, not relevance"


def test_the_system_prompt_asks_for_slack_length_answers() -> None:
    assert "Slack-length" in SYSTEM_PROMPT and "150 words" in SYSTEM_PROMPT
