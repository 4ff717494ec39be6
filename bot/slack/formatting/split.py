"""Cut a long answer into parts that each fit one Slack message (or one section block), without breaking it.

Cuts are made in the Markdown *source*, so every part is a document of its own that renders the same in either
syntax. In order of preference a cut falls between top-level blocks, between the lines of one block (list items
first), after a sentence or word — never inside a code span, a link, a mention, a URL or an emoji code, and never
between a character and the marks, joiners or selectors that belong to it. A code block that has to be cut is
closed at a line boundary and reopened, with its info string, at the top of the next part; a cut table repeats its
header row.

Cuts are *stable while streaming*: a cut only uses text that can no longer change (complete blocks, complete
lines, complete words), so a part closed while the model is still writing is the same part the whole answer would
have produced. That is what lets a message be finished for good once its part is closed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.slack.formatting.markdown import MarkdownRenderer
from bot.slack.formatting.mrkdwn import MrkdwnRenderer
from bot.slack.formatting.parser import Block, line_offsets, parse, top_level_blocks

Measure = Callable[[str], int]

# Spans a word cut must not fall into; an opener without its closer protects to the end of the line.
_PROTECTED = re.compile(
    r"`+[^`]*(?:`+|$)"  # code span
    r"|!?\[[^\]\n]*(?:\]\([^)\n]*(?:\)|$)|$)"  # [label](url), or an unfinished one
    r"|<[^>\n]*(?:>|$)"  # <autolink>, <@mention>, <!here>
    r"|https?://\S+"  # a bare URL
    r"|:[a-z0-9_+-]+:",  # :emoji_code:
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?:;]\s$")
_JOINERS = frozenset({"\u200d", "\ufe0e", "\ufe0f", "\u20e3"})


# No construct renders more than this many times longer than its source (escaping "&" as "&amp;" is the worst),
# except a table, whose cells are padded to the widest one: a short source without one fits without rendering.
_MAX_GROWTH = 6


def measure(source: str) -> int:
    """The longer of the two renderings: a part fits whichever way its message ends up shown."""
    root = parse(source)
    mrkdwn = "\n\n".join(MrkdwnRenderer().tree_blocks(root))
    markdown = "\n\n".join(MarkdownRenderer().tree_blocks(root))
    return max(len(mrkdwn), len(markdown))


def mrkdwn_length(source: str) -> int:
    return len(MrkdwnRenderer().render(source))


@dataclass(frozen=True)
class Cut:
    """``source[:end] + close`` is the part; ``reopen + source[end:]`` is what follows it."""

    end: int
    close: str = ""
    reopen: str = ""

    def head(self, source: str) -> str:
        return source[: self.end] + self.close

    def rest(self, source: str) -> str:
        return self.reopen + source[self.end :]


def next_cut(source: str, limit: int, size: Measure = measure) -> Cut | None:
    """The first cut ``source`` needs to fit ``limit`` rendered characters, or None when it already fits."""
    if len(source) * _MAX_GROWTH <= limit and "|" not in source:
        return None
    if size(source) <= limit:
        return None
    blocks = top_level_blocks(source)
    offsets = line_offsets(source)

    def at(line: int) -> int:
        return offsets[min(line, len(offsets) - 1)]

    between = _largest([at(block.start) for block in blocks[1:]], lambda end: size(source[:end]) <= limit, len(source))
    if between is not None:
        return Cut(between)
    return _inside(source, blocks[0], at, limit, size)


def split(source: str, limit: int, size: Measure = measure) -> list[str]:
    """Every part of ``source``, in order (a source that fits is one part)."""
    parts: list[str] = []
    while (cut := next_cut(source, limit, size)) is not None:
        parts.append(cut.head(source))
        source = cut.rest(source)
    parts.append(source)
    return parts


def _largest(candidates: Sequence[int], fits: Callable[[int], bool], length: int) -> int | None:
    """The largest candidate offset that fits (binary search: a longer head never renders shorter)."""
    ordered = sorted({c for c in candidates if 0 < c < length})
    low, high, best = 0, len(ordered) - 1, None
    while low <= high:
        mid = (low + high) // 2
        if fits(ordered[mid]):
            best, low = ordered[mid], mid + 1
        else:
            high = mid - 1
    return best


def _inside(source: str, block: Block, at: Callable[[int], int], limit: int, size: Measure) -> Cut:
    """The first block alone is too long: cut between its lines, else inside its first line."""
    node = block.node
    if node.type == "fence":
        return _inside_fence(source, block, at, limit, size)
    lines = range(block.start + 1, block.end)
    reopen = ""
    if node.type == "table" and block.end - block.start > 3:
        lines = range(block.start + 3, block.end)
        reopen = source[at(block.start) : at(block.start + 2)]
    if node.type in ("bullet_list", "ordered_list"):
        items = [child.map[0] for child in node.children if child.map and child.map[0] > block.start]
        found = _largest([at(line) for line in items], lambda end: size(source[:end]) <= limit, len(source))
        if found is not None:
            return Cut(found)
    found = _largest([at(line) for line in lines], lambda end: size(reopen + source[:end]) <= limit, len(source))
    if found is not None:
        return Cut(found, reopen=reopen)
    prefix = "> " if node.type == "blockquote" else ""
    return _inside_line(source, at(block.start), at(block.start + 1), limit, size, reopen=prefix)


def _inside_fence(source: str, block: Block, at: Callable[[int], int], limit: int, size: Measure) -> Cut:
    opening = source[at(block.start) : at(block.start + 1)]
    if not opening.endswith("\n"):
        opening += "\n"
    close = block.node.markup + "\n"
    last = source[at(block.end - 1) : at(block.end)].strip()
    closed = block.end - block.start >= 2 and last.startswith(block.node.markup) and not last.strip("`~")
    content_end = block.end - 1 if closed else block.end
    candidates = [at(line) for line in range(block.start + 2, content_end + 1)]
    found = _largest(candidates, lambda end: size(source[:end] + close) <= limit, len(source))
    if found is not None:
        return Cut(found, close=close, reopen=opening)
    start = at(block.start + 1)
    return _inside_line(source, start, at(block.start + 2), limit, size, close="\n" + close, reopen=opening)


def _inside_line(
    source: str, start: int, end: int, limit: int, size: Measure, *, close: str = "", reopen: str = ""
) -> Cut:
    """A word (or, with no space at all, a character) boundary inside one line that is too long by itself."""
    line = source[start:end]
    protected = [(m.start(), m.end()) for m in _PROTECTED.finditer(line)] if not reopen.startswith(("`", "~")) else []

    def free(i: int) -> bool:
        return not any(a < i < b for a, b in protected)

    words = [start + i for i in range(1, len(line)) if line[i - 1] in " \t" and line[i] not in " \t" and free(i)]
    fits = lambda cut: size(source[:cut] + close) <= limit  # noqa: E731
    best = _largest(words, fits, len(source))
    if best is not None:
        sentences = [c for c in words if c <= best and _SENTENCE_END.search(source[max(start, c - 2) : c])]
        if sentences and sentences[-1] - start >= 0.7 * (best - start):
            best = sentences[-1]
        return Cut(best, close=close, reopen=reopen)
    chars = [start + i for i in range(1, len(line)) if _grapheme_boundary(line, i) and free(i)]
    best = _largest(chars, fits, len(source))
    if best is None:  # not even one character fits (a tiny limit): take one grapheme, whatever it renders to
        best = next((c for c in chars), start + len(line))
    return Cut(best, close=close, reopen=reopen)


def _grapheme_boundary(text: str, i: int) -> bool:
    """False between a character and what modifies it (combining marks, ZWJ sequences, selectors, flag pairs)."""
    before, after = text[i - 1], text[i]
    if after in _JOINERS or before == "\u200d" or unicodedata.combining(after):
        return False
    if unicodedata.category(after) in ("Mn", "Me", "Mc") or 0x1F3FB <= ord(after) <= 0x1F3FF:
        return False
    if "\ud800" <= after <= "\udfff":  # a lone surrogate half: never split a pair
        return False
    if _regional(after) and _regional(before):
        run = 0
        j = i - 1
        while j >= 0 and _regional(text[j]):
            run, j = run + 1, j - 1
        return run % 2 == 0
    return not (before == "\r" and after == "\n")


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF
