"""The one Markdown parser every renderer and the splitter share: CommonMark plus GFM tables and strikethrough.

Two CommonMark features are switched off on purpose. Raw HTML is text, not markup (a model's ``<script>`` is shown,
never interpreted). Reference-style link definitions (``[x]: https://…`` anywhere in the text) are off because they
change the meaning of text *before* them: with them, a streamed prefix could render differently from the whole
answer, and a native stream cannot take back what it already appended.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).disable("reference")


def parse(source: str) -> SyntaxTreeNode:
    return SyntaxTreeNode(parser().parse(source))


@dataclass(frozen=True)
class Block:
    """A top-level block of the source: its node and the source lines it spans (``end`` exclusive)."""

    node: SyntaxTreeNode
    start: int
    end: int


def top_level_blocks(source: str) -> list[Block]:
    blocks = []
    for node in parse(source).children:
        start, end = node.map if node.map is not None else (0, 0)
        blocks.append(Block(node, start, end))
    return blocks


def line_offsets(source: str) -> list[int]:
    """Character offset of the start of every line, plus one past the end (so line ``n`` ends at ``[n + 1]``)."""
    offsets = [0]
    for index, char in enumerate(source):
        if char == "\n":
            offsets.append(index + 1)
    if offsets[-1] != len(source):
        offsets.append(len(source))
    return offsets
