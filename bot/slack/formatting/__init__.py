"""Model Markdown → what Slack shows: ``mrkdwn`` for messages and blocks, safe Markdown for native streams.

One parser (``parser.py``, markdown-it-py) and one walk (``render.py``) serve both syntaxes, so code is never
touched, links are checked and prose is defanged the same way on every path; ``split.py`` cuts long answers into
parts that each stay within Slack's limits and never break a code block, a link or a mention.
"""

from __future__ import annotations

from bot.slack.formatting.markdown import MarkdownRenderer
from bot.slack.formatting.mrkdwn import MrkdwnRenderer


def to_mrkdwn(source: str) -> str:
    """Model Markdown as Slack ``mrkdwn`` (message text, section blocks)."""
    return MrkdwnRenderer().render(source)


def to_markdown(source: str) -> str:
    """Model Markdown as safe standard Markdown (a native stream's ``markdown_text``)."""
    return MarkdownRenderer().render(source)


def markdown_blocks(source: str) -> list[str]:
    """``to_markdown`` block by block: their join by a blank line is ``to_markdown(source)``."""
    return MarkdownRenderer().render_blocks(source)


__all__ = ["markdown_blocks", "to_markdown", "to_mrkdwn"]
