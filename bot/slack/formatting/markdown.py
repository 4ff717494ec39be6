"""Markdown → safe standard Markdown, the ``markdown_text`` of Slack's native streams (Slack translates it).

The answer is re-written from the parse rather than passed through: prose is defanged and every character that
Markdown (or Slack) would read as markup is backslash-escaped, links are rebuilt from checked URLs, tables become
code blocks (Slack's Markdown has none) and fences lose their language tag (no highlighting either). So what Slack
receives means exactly what was parsed, whatever the model tried to smuggle in.
"""

from __future__ import annotations

import re

from markdown_it.tree import SyntaxTreeNode

from bot.slack.formatting.render import Renderer

_ALWAYS = re.compile(r"([\\`*\[\]<>~|])")
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")  # an _ that touches a non-letter can start emphasis
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")
_EMPHASIS = {"strong": "**", "em": "*", "s": "~~"}


def _inert(code: str) -> str:
    """Code as it is, except that ``<!…`` and ``<@…`` get a zero-width space after the ``<``: what Slack makes of
    control sequences inside a stream's code is not documented, so none reach it (``mrkdwn`` escapes instead)."""
    return code.replace("<!", "<\u200b!").replace("<@", "<\u200b@")


def _destination(url: str) -> str:
    """A link destination that cannot end early or open markup: spaces, brackets and parentheses encoded."""
    for char, code in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(char, code)
    return url


def _fence(code: str, char: str = "`") -> str:
    longest = max((len(run) for run in re.findall(f"{re.escape(char)}+", code)), default=0)
    return char * max(3, longest + 1)


class MarkdownRenderer(Renderer):
    def text(self, text: str, *, line_start: bool = False) -> str:
        escaped = _UNDERSCORE.sub(r"\\_", _ENTITY.sub(r"\\&", _ALWAYS.sub(r"\\\1", text)))
        if line_start:
            match = _LINE_START.match(escaped)
            if match:
                lead, mark = match.group(1), match.group(2)
                if mark.isdigit():  # "1." at a line start would start a list: escape the dot
                    rest = escaped[match.end() :]
                    return f"{lead}{mark}\\{rest}" if rest[:1] in ".)" else escaped
                return f"{lead}\\{escaped[len(lead) :]}"
        return escaped

    def heading(self, level: int, node: SyntaxTreeNode) -> str:
        inner = self.inline(node.children[0].children if node.children else [])
        return f"{'#' * level} {inner}" if inner.strip() else ""

    def code_block(self, code: str) -> str:
        if not code:
            return ""
        code = _inert(code)
        fence = _fence(code)
        return f"{fence}\n{code if code.endswith(chr(10)) else code + chr(10)}{fence}"

    def code_span(self, code: str) -> str:
        code = _inert(code)
        longest = max((len(run) for run in re.findall("`+", code)), default=0)
        ticks = "`" * (longest + 1)
        pad = " " if code.startswith(("`", " ")) or code.endswith(("`", " ")) else ""
        return f"{ticks}{pad}{code}{pad}{ticks}"

    def emphasis(self, kind: str, inner: str) -> str:
        mark = _EMPHASIS[kind]
        return f"{mark}{inner}{mark}" if inner.strip() else inner

    def list_marker(self, ordered: bool, number: int, depth: int) -> str:
        return f"{number}." if ordered else "-"

    def list_item(self, marker: str, body: str) -> str:
        indent = " " * (len(marker) + 1)
        lines = body.split("\n")
        rest = [f"{indent}{line}" if line else "" for line in lines[1:]]
        return "\n".join([f"{marker} {lines[0]}".rstrip(), *rest])

    def link(self, url: str, label: str, children: list[SyntaxTreeNode] | None) -> str:
        shown = self.inline(children) if children else self.text(label)
        safe_url = (
            url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")
        )
        return f"[{shown}]({safe_url})"

    def autolink(self, url: str, label: str) -> str:
        return f"<{_destination(url)}>"
