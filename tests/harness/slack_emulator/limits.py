"""Slack's size limits on messages and blocks, enforced the way Slack answers them."""

from __future__ import annotations

from typing import Any

from .workspace import SlackError

MAX_TEXT = 40_000  # a message's text: Slack answers msg_too_long past this
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3_000  # a section block's text object


def check_blocks(blocks: list[dict[str, Any]] | None, *, too_many: str) -> None:
    """Slack's Block Kit limits that matter for long answers: 50 blocks, 3,000 characters per section text."""
    if blocks is None:
        return
    if len(blocks) > MAX_BLOCKS:
        raise SlackError(too_many)
    for block in blocks:
        if not isinstance(block, dict) or "type" not in block:
            raise SlackError("invalid_blocks")
        if block["type"] == "section":
            text = block.get("text")
            if isinstance(text, dict) and len(str(text.get("text", ""))) > MAX_SECTION_TEXT:
                raise SlackError("invalid_blocks")
