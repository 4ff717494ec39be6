"""Block Kit for Penny's own messages: a cached answer with its label and the **Fresh answer** button.

Blocks are built here rather than next to the sentences (``bot/replies.py``) because they are Slack structure
with Slack's limits (a section holds at most 3,000 characters, a message 50 blocks), not wording.
"""

from __future__ import annotations

import json
from typing import Any

from bot.slack.mrkdwn import to_slack

FRESH_ANSWER_ACTION = "penny_fresh_answer"
SECTION_LIMIT = 2900  # Slack caps a section's text at 3,000 characters


def cached_answer_blocks(answer: str, label: str, button_value: dict[str, str]) -> list[dict[str, Any]]:
    """The cached answer as sections, a context label, and a **Fresh answer** button (re-ask bypassing the cache)."""
    safe = to_slack(answer)
    sections = [safe[i : i + SECTION_LIMIT] for i in range(0, len(safe), SECTION_LIMIT)] or [" "]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in sections[:45]
    ]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": label}]})
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": FRESH_ANSWER_ACTION,
                    "text": {"type": "plain_text", "text": "Fresh answer"},
                    "value": json.dumps(button_value)[:2000],
                }
            ],
        }
    )
    return blocks
