"""Cut a transcript into chunks that each fit a model call, without dropping or reordering anything.

Summaries never trim (DESIGN.md): a conversation too long for one call is summarized part by part (map) and the
parts combined (reduce). Chunks are greedy and ordered, so each chunk is a contiguous stretch of the conversation
and a summary of it reads naturally. A single message longer than a whole chunk is the one thing that gets cut —
into consecutive pieces that land in consecutive chunks — because dropping it would lose content and no model
could read it whole anyway. Sizes are the same ``ceil(chars/4)`` estimate the router uses.
"""

from __future__ import annotations

from collections.abc import Sequence

from routing.spend.cost import CHARS_PER_TOKEN, estimate_tokens

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


def group_for_reduce(partials: Sequence[str], budget_tokens: int) -> list[list[str]]:
    """Partial summaries grouped for the next reduce round; always fewer groups than partials (when >1).

    Groups follow ``chunk_lines``; if that would leave every partial alone (partials near the budget size), they
    are paired anyway so the recursion always ends. Partials are bounded by the map calls' answer budget, which
    is set well below the chunk budget, so in practice pairing never has to overfill a call.
    """
    if len(partials) <= 1:
        return [list(partials)]
    groups = chunk_lines(partials, budget_tokens)
    if len(groups) < len(partials):
        return groups
    return [list(partials[i : i + 2]) for i in range(0, len(partials), 2)]
