"""Which pane messages are about the channel the user is looking at (they go to the summarizer)."""

from __future__ import annotations

import pytest

from bot import replies
from bot.pane.service import asks_for_viewed_channel


@pytest.mark.parametrize(
    "text",
    [
        "Summarize this channel",
        "summarise the channel please",
        "Can you recap this conversation?",
        "What did I miss today?",
        "what have I missed",
        replies.PANE_PROMPT_MISSED[1],
        replies.PANE_PROMPT_SUMMARIZE[1],
    ],
)
def test_asks_about_the_viewed_channel(text: str) -> None:
    assert asks_for_viewed_channel(text)


@pytest.mark.parametrize(
    "text",
    [
        "how many PTO days do we get?",
        "summarize this article: https://example.com",
        "draft a channel announcement",
        "which channel should I ask in?",
    ],
)
def test_other_requests_go_to_the_assistant(text: str) -> None:
    assert not asks_for_viewed_channel(text)
