"""Markdown → Slack ``mrkdwn``, the syntax of message ``text`` and Block Kit ``mrkdwn`` text objects.

``*bold*``, ``_italic_``, ``~strike~``, headings as bold lines, ``•`` bullets, ``>`` quotes, code fences without
their language tag (Slack has no highlighting), tables as aligned code blocks and links as ``<url|label>``. Every
``&``, ``<`` and ``>`` of the model's text is escaped — inside code too, which Slack then shows exactly as written —
so the only Slack control sequences in the result are the links built here from a checked URL.
"""

from __future__ import annotations

from collections.abc import Callable

from markdown_it.tree import SyntaxTreeNode

from bot.slack.formatting.render import Renderer
from bot.slack.formatting.safety import escape_mrkdwn

_BULLETS = ("•", "◦", "▪")
_EMPHASIS = {"strong": "*", "em": "_", "s": "~"}


def _url(url: str) -> str:
    """A URL inside ``<…|…>``: its ``|`` and angle brackets percent-encoded, ``&`` escaped."""
    return escape_mrkdwn(url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E"))


class MrkdwnRenderer(Renderer):
    def text(self, text: str, *, line_start: bool = False) -> str:
        return escape_mrkdwn(text)

    def heading(self, level: int, node: SyntaxTreeNode) -> str:
        inner = self.inline(node.children[0].children if node.children else [], in_heading=True)
        return f"*{inner}*" if inner.strip() else ""

    def code_block(self, code: str) -> str:
        if not code:
            return ""
        return f"```\n{escape_mrkdwn(code if code.endswith(chr(10)) else code + chr(10))}```"

    def code_span(self, code: str) -> str:
        return f"`{escape_mrkdwn(code)}`"

    def emphasis(self, kind: str, inner: str) -> str:
        mark = _EMPHASIS[kind]
        return f"{mark}{inner}{mark}" if inner.strip() else inner

    def list_marker(self, ordered: bool, number: int, depth: int) -> str:
        return f"{number}." if ordered else _BULLETS[min(depth, len(_BULLETS) - 1)]

    def list_item(self, marker: str, body: str) -> str:
        head, _, rest = body.partition("\n")
        first = f"{marker} {head}".rstrip() if not head.startswith("```") else f"{marker}\n{head}"
        if not rest:
            return first
        return first + "\n" + self.nest(rest, lambda line: f"    {line}" if line else "")

    def nest(self, body: str, prefix: Callable[[str], str]) -> str:
        """Slack has no nested blocks, so a code block inside a list or quote stays flush left: its lines are
        the code, byte for byte, not the code plus an indent."""
        out, in_code = [], False
        for line in body.split("\n"):
            fence = line == "```"  # code_block's own fence lines: nothing else is a bare fence
            out.append(line if in_code or fence else prefix(line))
            in_code = in_code != fence
        return "\n".join(out)

    def link(self, url: str, label: str, children: list[SyntaxTreeNode] | None) -> str:
        shown = escape_mrkdwn(" ".join(label.split())).replace("|", "¦")
        return f"<{_url(url)}|{shown}>" if shown else f"<{_url(url)}>"

    def autolink(self, url: str, label: str) -> str:
        if url.lower().startswith("mailto:"):
            return f"<{_url(url)}|{escape_mrkdwn(label).replace('|', '¦')}>"
        return f"<{_url(url)}>"
