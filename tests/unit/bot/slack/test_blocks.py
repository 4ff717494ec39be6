"""Penny's blocks: sections within Slack's limit, cut like messages are, each button carrying only its key."""

import json

from bot.slack.blocks import (
    FRESH_ANSWER_ACTION,
    POST_DRAFT_ACTION,
    CacheNote,
    draft_blocks,
    message_blocks,
    note_blocks,
    section_blocks,
)


def test_sections_are_sanitized_and_within_the_section_limit() -> None:
    blocks = section_blocks("<!channel> " + "word " * 1500)
    assert len(blocks) == 3 and all(len(b["text"]["text"]) <= 2900 for b in blocks)
    assert "<!channel>" not in json.dumps(blocks)


def test_a_code_block_is_never_cut_between_sections_without_its_fence() -> None:
    code = "```python\n" + "print('x')  # a comment\n" * 200 + "```"
    for block in section_blocks(code):
        assert block["text"]["text"].count("```") == 2


def test_note_carries_the_fresh_answer_button_with_its_key() -> None:
    button = note_blocks(CacheNote("key-1"))[-1]["elements"][0]
    assert button["action_id"] == FRESH_ANSWER_ACTION and button["value"] == "key-1"


def test_a_plain_answer_has_no_blocks_and_a_cached_one_stays_under_fifty() -> None:
    assert message_blocks("answer", None) == []
    blocks = message_blocks("word " * 40_000, CacheNote("k"))
    assert len(blocks) <= 50 and blocks[-1]["type"] == "actions"


def test_a_draft_is_sanitized_with_its_note_and_post_button() -> None:
    blocks = draft_blocks("Hi <!here>, the fix ships Friday.", "d-1", "Only you can see this draft.")
    assert "<!here>" not in json.dumps(blocks)
    assert blocks[-2]["elements"][0]["text"] == "Only you can see this draft."
    button = blocks[-1]["elements"][0]
    assert (button["action_id"], button["value"], button["style"]) == (POST_DRAFT_ACTION, "d-1", "primary")
