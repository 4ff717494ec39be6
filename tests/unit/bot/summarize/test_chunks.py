"""Chunking for map-reduce: nothing dropped, nothing reordered, every chunk within its budget."""

from __future__ import annotations

import itertools
import random

import pytest

from bot.summarize.chunks import CONTINUED, chunk_lines, group_for_reduce, line_tokens, split_oversized


def _lines(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [f"[2026-11-23 10:{i % 60:02d}] user{i}: " + "word " * rng.randint(0, 120) + f"#{i}" for i in range(count)]


@pytest.mark.parametrize("budget", [60, 200, 1000, 10_000])
def test_every_line_lands_in_exactly_one_chunk_in_order_and_chunks_fit(budget: int) -> None:
    lines = _lines(300)
    lines = [line for line in lines if line_tokens(line) <= budget]  # oversized lines: see the next test
    chunks = chunk_lines(lines, budget)
    assert [line for chunk in chunks for line in chunk] == lines
    assert all(chunk for chunk in chunks)
    assert all(sum(line_tokens(line) for line in chunk) <= budget for chunk in chunks)
    if budget >= 10_000:
        assert len(chunks) < 10


def test_chunks_are_filled_greedily() -> None:
    lines = _lines(200)
    chunks = chunk_lines(lines, 500)
    for chunk, following in itertools.pairwise(chunks):
        assert sum(line_tokens(line) for line in chunk) + line_tokens(following[0]) > 500


def test_an_oversized_message_is_split_into_consecutive_pieces_not_dropped() -> None:
    huge = "start " + "x" * 5000 + " end"
    lines = ["before", huge, "after"]
    chunks = chunk_lines(lines, 300)
    flat = [line for chunk in chunks for line in chunk]
    assert flat[0] == "before" and flat[-1] == "after"
    pieces = flat[1:-1]
    assert len(pieces) > 1
    assert "".join(p.removesuffix(CONTINUED) for p in pieces) == huge
    assert all(sum(line_tokens(line) for line in chunk) <= 300 for chunk in chunks)
    assert split_oversized("short", 300) == ["short"]


def test_a_budget_that_holds_nothing_is_refused() -> None:
    with pytest.raises(ValueError):
        chunk_lines(["a"], 2)


def test_reduce_groups_always_shrink_so_the_recursion_ends() -> None:
    partials = ["p" * 390] * 9  # ~100 tokens each
    assert group_for_reduce(partials, 10_000) == [partials]
    groups = group_for_reduce(partials, 350)
    assert [p for g in groups for p in g] == partials and len(groups) < len(partials)
    tight = group_for_reduce(partials, 110)  # only one fits a call: pair them anyway
    assert [len(g) for g in tight] == [2, 2, 2, 2, 1]
    assert group_for_reduce(["only"], 10) == [["only"]]
