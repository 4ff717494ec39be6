"""Chunking for map-reduce: nothing dropped, nothing reordered, every chunk within its budget."""

from __future__ import annotations

import itertools
import random

import pytest

from bot.summarize.chunks import (
    CONTINUED,
    Chunk,
    Line,
    chunk_lines,
    group_for_reduce,
    line_tokens,
    split_oversized,
    stable_chunks,
)


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
    assert group_for_reduce(partials, 10_000, line_tokens) == [partials]
    groups = group_for_reduce(partials, 350, line_tokens)
    assert [p for g in groups for p in g] == partials and len(groups) < len(partials)
    assert all(sum(line_tokens(p) for p in g) <= 350 for g in groups)
    tight = group_for_reduce(partials, 110, line_tokens)  # only one fits a call: pair them anyway
    assert [len(g) for g in tight] == [2, 2, 2, 2, 1]
    assert group_for_reduce(["only"], 10, line_tokens) == [["only"]]


# ---- stable chunks: overlapping windows share whole chunks ----------------------------------------------------

DAY0 = 1_795_000_000  # 2026-11-18, some UTC time of day


def _messages(days: int, per_day: int, seed: int = 3) -> list[Line]:
    """A channel: ``per_day`` messages on each of ``days`` UTC days, ids like Slack's ts."""
    rng = random.Random(seed)
    day_start = DAY0 - DAY0 % 86400
    lines = []
    for day in range(days):
        for i in range(per_day):
            ts = f"{day_start + day * 86400 + 3600 + i * 97}.{rng.randint(0, 999999):06d}"
            lines.append(Line(ts, "", f"[t] user{i % 5}: " + "word " * rng.randint(3, 60) + f"#{day}-{i}"))
    return lines


def _digests(chunks: list[Chunk]) -> list[str]:
    return [c.digest for c in chunks]


def test_stable_chunks_keep_every_line_in_order_within_the_budget() -> None:
    lines = _messages(7, 60)
    chunks = stable_chunks(lines, target_tokens=400, max_tokens=900)
    assert [line for chunk in chunks for line in chunk.lines] == lines
    assert all(0 < chunk.tokens <= 900 for chunk in chunks)
    sizes = [chunk.tokens for chunk in chunks]
    assert 200 < sum(sizes) / len(sizes) < 600, f"chunks average near the target: {sizes}"


def test_a_day_is_never_merged_with_the_next() -> None:
    chunks = stable_chunks(_messages(5, 4), target_tokens=10_000, max_tokens=20_000)
    assert len(chunks) == 5, "quiet days: one chunk each, although all five would fit one"
    for chunk in chunks:
        assert len({int(float(line.ts)) // 86400 for line in chunk.lines}) == 1


def test_a_window_that_starts_later_or_grows_shares_every_chunk_but_its_edges() -> None:
    """Yesterday's "last 7 days" and today's: the six days they share are cut identically."""
    lines = _messages(8, 50)
    yesterday = stable_chunks(lines[10 : 7 * 50 - 13], target_tokens=400, max_tokens=900)  # days 0-6, ends mid-day
    today = stable_chunks(lines[60:], target_tokens=400, max_tokens=900)  # a day later: days 1-7
    shared = {line.ts for line in lines[60 : 7 * 50 - 13]}
    inside = [c for c in yesterday if all(line.ts in shared for line in c.lines)]
    reused = [c for c in inside if c.digest in set(_digests(today))]
    # the shared days are cut identically; only the chunk where today's window starts (the first after the day
    # boundary may be re-drawn) and yesterday's last, still-growing chunk can differ
    assert len(inside) >= 30
    assert len(reused) >= len(inside) - 2, (len(reused), len(inside))


def test_an_edit_changes_only_the_chunk_that_holds_the_message() -> None:
    lines = _messages(3, 80)
    before = stable_chunks(lines, target_tokens=400, max_tokens=900)
    edited = list(lines)
    victim = edited[100]
    edited[100] = Line(victim.ts, "1795009999.000100", victim.text.replace("word", "term", 1))
    after = stable_chunks(edited, target_tokens=400, max_tokens=900)
    assert len(before) == len(after)
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a.digest != b.digest]
    assert len(changed) == 1 and victim.ts in after[changed[0]].message_ts


def test_the_digest_names_the_content_ids_and_versions() -> None:
    a = Chunk((Line("1.1", "", "x"), Line("1.2", "", "y")))
    assert a.digest == Chunk((Line("1.1", "", "x"), Line("1.2", "", "y"))).digest
    assert a.digest != Chunk((Line("1.1", "", "x"), Line("1.3", "", "y"))).digest, "another message"
    assert a.digest != Chunk((Line("1.1", "", "x"), Line("1.2", "9.9", "y"))).digest, "another version"
    assert a.digest != Chunk((Line("1.1", "", "x"), Line("1.2", "", "z"))).digest, "other text"
    assert Chunk((Line("1.1", "", "x"), Line("1.1", "", "y", 1))).message_ts == ["1.1"]


def test_an_oversized_message_is_cut_into_pieces_in_stable_chunks_too() -> None:
    huge = Line("1795000000.000001", "", "start " + "x" * 5000 + " end")
    chunks = stable_chunks([huge], target_tokens=200, max_tokens=300)
    assert len(chunks) > 1 and all(c.tokens <= 300 for c in chunks)
    assert [line.piece for c in chunks for line in c.lines] == list(range(len(chunks)))
