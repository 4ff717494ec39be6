"""Every answer in ``corpus/`` (real-looking model outputs: code, tables, nested lists, tricky links, injected
mentions, emoji and CJK) through both renderers: safe, code byte-identical, links honest.

The properties are checked on the whole corpus rather than on golden files, so a new sample only needs adding.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.slack.formatting import to_markdown, to_mrkdwn
from bot.slack.formatting.parser import parse
from bot.slack.formatting.safety import unescape_mrkdwn

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.md"))
BROADCASTS = re.compile(r"<\s*!\s*(channel|here|everyone|subteam)", re.IGNORECASE)


def code_blocks(source: str) -> list[str]:
    """The contents of every code block (fenced, indented, in lists or quotes), in order."""
    found: list[str] = []

    def walk(node) -> None:  # type: ignore[no-untyped-def]
        if node.type in ("fence", "code_block"):
            found.append(node.content)
        for child in node.children:
            walk(child)

    walk(parse(source))
    return found


def mrkdwn_code_blocks(text: str) -> list[str]:
    return [unescape_mrkdwn(m.group(1)) for m in re.finditer(r"^```\n(.*?)^```$", text, re.DOTALL | re.MULTILINE)]


def test_the_corpus_is_there() -> None:
    assert len(CORPUS) >= 10


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_mrkdwn_is_safe(path: Path) -> None:
    out = to_mrkdwn(path.read_text())
    assert not BROADCASTS.search(out)
    assert "<@" not in out
    for match in re.finditer(r"<([^>]*)>", out):  # the only control sequences left are links built from a URL
        target = match.group(1).split("|", 1)[0]
        assert urlsplit(target).scheme in ("http", "https", "mailto"), match.group(0)
    assert not re.search(r"&(?!amp;|lt;|gt;)", out), "every & is Slack-escaped"


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_markdown_is_safe(path: Path) -> None:
    out = to_markdown(path.read_text())
    assert not BROADCASTS.search(out)
    outside_code = re.sub(r"^(```|~~~).*?^\1", "", out, flags=re.DOTALL | re.MULTILINE)
    outside_code = re.sub(r"`[^`]*`", "", outside_code)
    assert "<@" not in outside_code and "<!" not in outside_code
    for match in re.finditer(r"(?<!\\)<([^>]*)>", outside_code):
        assert urlsplit(match.group(1)).scheme in ("http", "https", "mailto"), match.group(0)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_code_blocks_survive_byte_for_byte(path: Path) -> None:
    source = path.read_text()
    original = code_blocks(source)
    assert mrkdwn_code_blocks(to_mrkdwn(source))[: len(original)] == original[: len(original)] or not original
    tables = sum(1 for node in parse(source).children if node.type == "table")
    assert len(mrkdwn_code_blocks(to_mrkdwn(source))) == len(original) + tables
    native = [code.replace("\u200b", "") for code in code_blocks(to_markdown(source))]  # see test_renderers
    assert native[: len(original)] == original or tables


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_rendering_is_stable_block_by_block(path: Path) -> None:
    """A native stream appends finished blocks: the first k blocks must render as a prefix of the whole."""
    source = path.read_text()
    whole = to_markdown(source)
    lines = source.split("\n")
    for node in parse(source).children[1:]:
        assert node.map is not None
        head = "\n".join(lines[: node.map[0]])
        assert whole.startswith(to_markdown(head)), head[-80:]


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_markdown_output_means_what_was_parsed(path: Path) -> None:
    """Re-reading the safe Markdown gives the same rendering: nothing the model wrote turns into new markup."""
    once = to_markdown(path.read_text())
    assert to_markdown(once) == once
