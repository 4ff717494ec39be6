"""Block Kit for Penny's own messages: a cached answer with its **Fresh answer** button, a private draft with its
**Post to thread** button.

Blocks are built here rather than next to the sentences (``bot/replies.py``) because they are Slack structure
with Slack's limits (a section holds at most 3,000 characters, a message 50 blocks, a button value 2,000), not
wording. A button carries only a short key; what it acts on is looked up server-side.
"""

from __future__ import annotations

from typing import Any

from bot.slack.mrkdwn import to_slack

FRESH_ANSWER_ACTION = "penny_fresh_answer"
POST_DRAFT_ACTION = "penny_post_draft"
SECTION_LIMIT = 2900  # Slack caps a section's text at 3,000 characters
BUTTON_VALUE_LIMIT = 2000


def _sections(text: str) -> list[dict[str, Any]]:
    safe = to_slack(text)
    parts = [safe[i : i + SECTION_LIMIT] for i in range(0, len(safe), SECTION_LIMIT)] or [" "]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in parts[:45]]


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


def cached_answer_blocks(answer: str, label: str, fresh_key: str) -> list[dict[str, Any]]:
    """The cached answer as sections, a context label, and a **Fresh answer** button (re-ask bypassing the cache).

    ``fresh_key`` names the stored question (``bot/assistant/fresh_answers.py``), whatever its length or script.
    """
    blocks = _sections(answer)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": label}]})
    blocks.append({"type": "actions", "elements": [_button(FRESH_ANSWER_ACTION, "Fresh answer", fresh_key)]})
    return blocks


def draft_blocks(draft: str, draft_id: str, note: str) -> list[dict[str, Any]]:
    """A draft only its asker sees, a note saying so, and **Post to thread** (``draft_id`` names the stored draft)."""
    blocks = _sections(draft)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    blocks.append(
        {"type": "actions", "elements": [_button(POST_DRAFT_ACTION, "Post to thread", draft_id, style="primary")]}
    )
    return blocks
