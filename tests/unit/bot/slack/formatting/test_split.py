"""Long answers cut into parts: in order, within limits, never inside code, links, mentions or characters."""

from __future__ import annotations

import random
import re

from bot.slack.formatting import to_markdown, to_mrkdwn
from bot.slack.formatting.split import measure, next_cut, split

PARAGRAPH = "The rollout has several moving parts, and each team owns one of them. " * 6


def twelve_thousand_with_three_code_blocks() -> tuple[str, list[str]]:
    codes = [
        "def step_{n}(x):\n" + "".join(f"    x = x * {i} + {n}  # line {i} & more <tags>\n" for i in range(45))
        for n in range(3)
    ]
    source = ""
    for n, code in enumerate(codes):
        source += f"## Part {n}\n\n{PARAGRAPH}\n\n{PARAGRAPH}\n\n```python\n{code}```\n\n- a list item\n- another\n\n"
    while len(source) < 12_000:
        source += PARAGRAPH + "\n\n"
    return source, codes


def test_a_12000_character_answer_with_three_code_blocks() -> None:
    source, codes = twelve_thousand_with_three_code_blocks()
    assert len(source) >= 12_000
    parts = split(source, 3900)
    assert len(parts) >= 4
    for part in parts:
        assert len(to_mrkdwn(part)) <= 3900 and len(to_markdown(part)) <= 3900
        assert to_mrkdwn(part).count("```") % 2 == 0, "every fence a part opens, it closes"
    joined = "".join(parts)
    for code in codes:
        assert code in joined, "code blocks arrive whole and in order"
    assert [joined.index(code) for code in codes] == sorted(joined.index(code) for code in codes)
    words = re.findall(r"\w+", source)
    assert re.findall(r"\w+", joined) == words, "every word once, in order"


def test_a_code_block_longer_than_a_message_is_closed_and_reopened_with_its_language() -> None:
    code = "".join(f"print({i})  # {'x' * 40}\n" for i in range(200))
    parts = split(f"Intro.\n\n```python\n{code}```\n\nAfter.", 2000)
    fenced = [p for p in parts if "```" in p]
    assert len(fenced) >= 4
    assert all(p.startswith("```python\n") and p.count("```") == 2 for p in fenced)
    inside = "".join(re.search(r"```python\n(.*?)```", p, re.DOTALL).group(1) for p in fenced)  # type: ignore[union-attr]
    assert inside == code


def test_a_cut_never_falls_inside_a_link_a_mention_or_a_code_span() -> None:
    words = []
    for i in range(400):
        words.append(f"[the docs number {i}](https://docs.acme.com/{i})" if i % 3 == 0 else f"`code span {i}`")
        words.append("<@U123ABC|someone> said so" if i % 5 == 0 else "and then")
    source = " ".join(words)
    for part in split(source, 1500):
        assert part.count("[") == part.count("]") and part.count("`") % 2 == 0
        assert part.count("<") == part.count(">")
        assert len(to_mrkdwn(part)) <= 1500


def test_a_cut_never_splits_a_character_from_its_modifiers() -> None:
    text = "👨‍👩‍👧‍👦👍🏽🇩🇪é" * 600  # ZWJ family, skin tone, flag, e + combining accent; no spaces at all
    parts = split(text, 1000)
    assert "".join(parts) == text
    for part in parts:
        assert not part.startswith(("\u200d", "\U0001f3fd", "\u0301")) and not part.endswith("\u200d")
        assert len(re.findall("[\U0001f1e6-\U0001f1ff]", part)) % 2 == 0, "flags stay pairs"


def test_a_table_longer_than_a_message_repeats_its_header() -> None:
    table = "| id | name |\n|---|---|\n" + "".join(f"| {i} | {'n' * 60} |\n" for i in range(100))
    parts = split(table, 2000)
    assert len(parts) >= 3
    assert all(p.startswith("| id | name |\n|---|---|\n") for p in parts)


def test_streaming_closes_the_same_parts_the_whole_answer_would_get() -> None:
    source, _ = twelve_thousand_with_three_code_blocks()
    expected = split(source, 3900)
    rng = random.Random(7)
    for _ in range(3):
        closed, offset, reopen, pos = [], 0, "", 0
        while pos < len(source):
            pos += rng.randint(1, 500)
            raw = source[:pos]
            while (cut := next_cut(reopen + raw[offset:], 3900)) is not None:
                current = reopen + raw[offset:]
                closed.append(cut.head(current))
                offset += cut.end - len(reopen)
                reopen = cut.reopen
        closed.append(reopen + source[offset:])
        assert closed == expected


def test_a_short_answer_is_one_part() -> None:
    assert split("Yes.", 3900) == ["Yes."]
    assert next_cut("Yes.", 3900) is None
    assert measure("a & b") == len("a &amp; b")
