"""Block Kit for Penny's own messages: an answer's text as sections, a cached answer's **Fresh answer** button, a
private draft with its **Post to thread** button.

Blocks are built here rather than next to the sentences (``bot/replies.py``) because they are Slack structure
with Slack's limits (a section holds at most 3,000 characters, a message 50 blocks, a button value 2,000), not
wording. A button carries only a short key; what it acts on is looked up server-side.

A cached answer that spans several messages gets the sections of *its own part* in each message and the button
only on the last, so no part is shown twice. Its "from cache" label is a quiet line of the text itself, so it reads
the same in an edited message (sections) and in a native stream (appended Markdown, the button in
``chat.stopStream``'s blocks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.slack.formatting import to_mrkdwn
from bot.slack.formatting.split import mrkdwn_length, split

FRESH_ANSWER_ACTION = "penny_fresh_answer"
POST_DRAFT_ACTION = "penny_post_draft"
SECTION_LIMIT = 2900  # Slack caps a section's text at 3,000 characters
BUTTON_VALUE_LIMIT = 2000
MAX_BLOCKS = 50


@dataclass(frozen=True)
class CacheNote:
    """What a cached answer carries under its text: the button to ask afresh (``fresh_key`` names the stored
    question, ``bot/assistant/fresh_answers.py``)."""

    fresh_key: str


def section_blocks(source: str) -> list[dict[str, Any]]:
    """One message's Markdown as ``mrkdwn`` sections, each within Slack's section limit, cut like messages are."""
    parts = [to_mrkdwn(part) for part in split(source, SECTION_LIMIT, mrkdwn_length)]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in parts if part.strip()]


def _button(action_id: str, label: str, key: str, *, style: str | None = None) -> dict[str, Any]:
    if len(key) > BUTTON_VALUE_LIMIT:
        raise ValueError("a button carries a key, not content")
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": key,
    }
    if style:
        button["style"] = style
    return button


def note_blocks(note: CacheNote) -> list[dict[str, Any]]:
    """The cached answer's **Fresh answer** button (re-ask bypassing the cache)."""
    return [{"type": "actions", "elements": [_button(FRESH_ANSWER_ACTION, "Fresh answer", note.fresh_key)]}]


def message_blocks(source: str, note: CacheNote | None) -> list[dict[str, Any]]:
    """A message's blocks: none for a plain answer (``[]`` clears a button an earlier version had)."""
    if note is None:
        return []
    notes = note_blocks(note)
    return section_blocks(source)[: MAX_BLOCKS - len(notes)] + notes


def draft_blocks(draft: str, draft_id: str, note: str) -> list[dict[str, Any]]:
    """A draft only its asker sees, a note saying so, and **Post to thread** (``draft_id`` names the stored draft)."""
    blocks = section_blocks(draft)[: MAX_BLOCKS - 2] or [{"type": "section", "text": {"type": "mrkdwn", "text": " "}}]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": to_mrkdwn(note)}]})
    blocks.append(
        {"type": "actions", "elements": [_button(POST_DRAFT_ACTION, "Post to thread", draft_id, style="primary")]}
    )
    return blocks
