"""Cut a transcript into chunks that each fit a model call, without dropping or reordering anything.

Summaries never trim (DESIGN.md): a conversation too long for one call is summarized part by part (map) and the
parts combined (reduce). Chunks are ordered, so each chunk is a contiguous stretch of the conversation and a
summary of it reads naturally. A single message longer than a whole chunk is the one thing that gets cut — into
consecutive pieces that land in consecutive chunks — because dropping it would lose content and no model could
read it whole anyway. Sizes are the same ``ceil(chars/4)`` estimate the router uses.

Two ways to cut. ``chunk_lines`` is greedy (as full as the budget allows): the fewest calls for one summary.
``stable_chunks`` cuts where the conversation itself says so, so that two overlapping windows — today's
``/summarize 7d`` and tomorrow's, or two people's — cut the messages they share at the same places and share
whole chunks, whose partial summaries can then be reused (``bot/summarize/partials.py``):

* always between two UTC days, so a finished day is never merged with the next one;
* before a message whose id (``ts``) "draws" an anchor once the chunk holds a quarter of the target size — a draw
  that depends on the message alone, weighted by its size so chunks average the target — so an edit elsewhere,
  or a window that starts a few messages later, moves no boundary (content-defined chunking, as rsync and
  deduplicating backups cut files);
* and, only as a last resort, when the next line would not fit the call at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import TypeVar

from routing.spend.cost import CHARS_PER_TOKEN, estimate_tokens

T = TypeVar("T")
LINE_OVERHEAD_TOKENS = 1  # the newline that joins lines
CONTINUED = " …(continued)"


def line_tokens(line: str) -> int:
    return estimate_tokens(line) + LINE_OVERHEAD_TOKENS


def split_oversized(line: str, budget_tokens: int) -> list[str]:
    """``line`` as consecutive pieces that each fit ``budget_tokens`` (one piece when it already fits)."""
    if line_tokens(line) <= budget_tokens:
        return [line]
    width = max(1, (budget_tokens - LINE_OVERHEAD_TOKENS - estimate_tokens(CONTINUED)) * CHARS_PER_TOKEN)
    pieces = [line[i : i + width] for i in range(0, len(line), width)]
    return [piece + CONTINUED for piece in pieces[:-1]] + [pieces[-1]]


def chunk_lines(lines: Sequence[str], budget_tokens: int) -> list[list[str]]:
    """Ordered, contiguous chunks whose ``line_tokens`` sum stays within ``budget_tokens``.

    Every line lands in exactly one chunk, in order; only a line that alone exceeds the budget is split first.
    """
    if budget_tokens <= LINE_OVERHEAD_TOKENS + estimate_tokens(CONTINUED):
        raise ValueError(f"chunk budget {budget_tokens} is too small to hold any text")
    chunks: list[list[str]] = []
    current: list[str] = []
    used = 0
    for line in lines:
        for piece in split_oversized(line, budget_tokens):
            cost = line_tokens(piece)
            if current and used + cost > budget_tokens:
                chunks.append(current)
                current, used = [], 0
            current.append(piece)
            used += cost
    if current:
        chunks.append(current)
    return chunks


def group_for_reduce(items: Sequence[T], budget_tokens: int, size: Callable[[T], int]) -> list[list[T]]:
    """Reduce inputs grouped for the next round, in order; always fewer groups than items (when >1).

    Groups are filled greedily up to ``budget_tokens`` by ``size`` (an item is never cut); if that would leave
    every item alone (items near the budget size), they are paired anyway so the recursion always ends. Partials
    are bounded by the map calls' answer budget, which is set well below the chunk budget, so in practice pairing
    never has to overfill a call.
    """
    if len(items) <= 1:
        return [list(items)]
    groups: list[list[T]] = []
    current: list[T] = []
    used = 0
    for item in items:
        cost = size(item)
        if current and used + cost > budget_tokens:
            groups.append(current)
            current, used = [], 0
        current.append(item)
        used += cost
    groups.append(current)
    if len(groups) < len(items):
        return groups
    return [list(items[i : i + 2]) for i in range(0, len(items), 2)]


@dataclass(frozen=True)
class Line:
    """One transcript line and the message it comes from: its id (``ts``), its edit version and, when a message
    too long for one call was cut, which piece this is."""

    ts: str
    version: str
    text: str
    piece: int = 0

    @property
    def tokens(self) -> int:
        return line_tokens(self.text)


@dataclass(frozen=True)
class Chunk:
    """Consecutive lines that are summarized together; ``digest`` names exactly this content."""

    lines: tuple[Line, ...]

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]

    @property
    def tokens(self) -> int:
        return sum(line.tokens for line in self.lines)

    @property
    def message_ts(self) -> list[str]:
        """The messages in this chunk, each once: an edit or deletion of any of them makes its summary stale."""
        return list(dict.fromkeys(line.ts for line in self.lines))

    @cached_property
    def digest(self) -> str:
        """The chunk's identity: every line's message id, edit version, piece and text, in order."""
        h = hashlib.sha256()
        for line in self.lines:
            h.update(f"{line.ts}\x1f{line.version}\x1f{line.piece}\x1f{line.text}\x1e".encode())
        return h.hexdigest()


def _utc_day(ts: str) -> date | None:
    try:
        return datetime.fromtimestamp(float(ts), tz=UTC).date()
    except (ValueError, OverflowError, OSError):
        return None


def _draw(line: Line) -> float:
    """A number in [0, 1) that depends only on which message (and piece) this is: the anchor lottery ticket."""
    digest = hashlib.sha256(f"{line.ts}#{line.piece}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def stable_chunks(lines: Sequence[Line], *, target_tokens: int, max_tokens: int) -> list[Chunk]:
    """Ordered chunks of about ``target_tokens`` (never above ``max_tokens``), cut where overlapping windows of
    the same conversation cut too (see the module docstring). Every line lands in exactly one chunk, in order."""
    if max_tokens <= LINE_OVERHEAD_TOKENS + estimate_tokens(CONTINUED):
        raise ValueError(f"chunk budget {max_tokens} is too small to hold any text")
    target = max(1, min(target_tokens, max_tokens))
    floor = target // 4
    span = max(1, target - floor)
    chunks: list[Chunk] = []
    current: list[Line] = []
    used = 0
    day: date | None = None
    for line in lines:
        line_day = _utc_day(line.ts)
        for index, text in enumerate(split_oversized(line.text, max_tokens)):
            piece = Line(line.ts, line.version, text, index)
            cost = piece.tokens
            if current and (
                line_day != day or used + cost > max_tokens or (used >= floor and _draw(piece) < cost / span)
            ):
                chunks.append(Chunk(tuple(current)))
                current, used = [], 0
            current.append(piece)
            used += cost
            day = line_day
    if current:
        chunks.append(Chunk(tuple(current)))
    return chunks
