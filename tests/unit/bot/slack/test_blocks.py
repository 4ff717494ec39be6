"""A cached answer's blocks: sanitized, split within Slack's section limit, with the Fresh-answer button."""

import json

from bot.slack.blocks import FRESH_ANSWER_ACTION, cached_answer_blocks


def test_cached_blocks_are_sanitized_split_and_carry_the_button() -> None:
    answer = "<!channel> " + "x" * 6000
    blocks = cached_answer_blocks(answer, "label", {"entry": "T1:5", "q": "why?", "thread": "1.1"})
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) == 3 and all(len(b["text"]["text"]) <= 2900 for b in sections)
    assert "<!channel>" not in json.dumps(blocks)
    button = blocks[-1]["elements"][0]
    assert button["action_id"] == FRESH_ANSWER_ACTION
    assert json.loads(button["value"])["entry"] == "T1:5"
