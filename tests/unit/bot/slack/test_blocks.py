"""Penny's blocks: sanitized, split within Slack's section limit, each button carrying only its key."""

import json

from bot.slack.blocks import FRESH_ANSWER_ACTION, POST_DRAFT_ACTION, cached_answer_blocks, draft_blocks


def test_cached_blocks_are_sanitized_split_and_carry_the_button() -> None:
    answer = "<!channel> " + "x" * 6000
    blocks = cached_answer_blocks(answer, "label", "key-1")
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) == 3 and all(len(b["text"]["text"]) <= 2900 for b in sections)
    assert "<!channel>" not in json.dumps(blocks)
    button = blocks[-1]["elements"][0]
    assert button["action_id"] == FRESH_ANSWER_ACTION
    assert button["value"] == "key-1"


def test_a_draft_is_sanitized_with_its_note_and_post_button() -> None:
    blocks = draft_blocks("Hi <!here>, the fix ships Friday.", "d-1", "Only you can see this draft.")
    assert "<!here>" not in json.dumps(blocks)
    assert blocks[-2]["elements"][0]["text"] == "Only you can see this draft."
    button = blocks[-1]["elements"][0]
    assert (button["action_id"], button["value"], button["style"]) == (POST_DRAFT_ACTION, "d-1", "primary")
