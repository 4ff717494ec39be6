"""The walk over a parsed answer that both renderers share; each subclass says how one construct is written.

Slack shows model text two ways: as ``mrkdwn`` (``chat.postMessage``/``chat.update`` text and Block Kit sections)
and as standard Markdown (the ``markdown_text`` of native streams, which Slack translates itself). The structure is
the same for both — paragraphs, headings, lists, quotes, code, tables — and so are the safety rules (prose is
defanged, links checked), so the walk lives here once and ``mrkdwn.py`` / ``markdown.py`` only spell the parts.

A document renders as its top-level blocks joined by a blank line. That makes rendering *prefix-stable*: the
rendering of the first ``k`` complete blocks is a prefix of the rendering of the whole, which is what lets a native
stream append finished paragraphs while the model is still writing the next one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from markdown_it.tree import SyntaxTreeNode

from bot.slack.formatting.parser import parse
from bot.slack.formatting.safety import defang, is_mention_markup, label_misleads, link_scheme_allowed, shown_target
from bot.slack.formatting.tables import Table, layout

RULE = "―――"


class Renderer(ABC):
    """Markdown source in, Slack text out. Stateless apart from the list depth during one walk."""

    def __init__(self) -> None:
        self._depth = 0

    def render(self, source: str) -> str:
        return "\n\n".join(self.render_blocks(source))

    def render_blocks(self, source: str) -> list[str]:
        """Each top-level block's text, in order (empty blocks left out)."""
        return self.tree_blocks(parse(source))

    def tree_blocks(self, root: SyntaxTreeNode) -> list[str]:
        """``render_blocks`` of an already parsed source (the splitter measures both syntaxes on one parse)."""
        self._depth = 0
        out = [self.block(node) for node in root.children]
        return [text for text in out if text]

    # ----------------------------------------------------------------- blocks
    def block(self, node: SyntaxTreeNode) -> str:
        kind = node.type
        if kind == "paragraph":
            return self.inline_of(node)
        if kind == "heading":
            return self.heading(int(node.tag[1:]), node)
        if kind in ("fence", "code_block"):
            return self.code_block(node.content)
        if kind in ("bullet_list", "ordered_list"):
            return self.list_block(node)
        if kind == "blockquote":
            inner = "\n\n".join(text for text in (self.block(child) for child in node.children) if text)
            return self.nest(inner, lambda line: f"> {line}" if line else ">")
        if kind == "table":
            return self.code_block(layout(self.table(node)))
        if kind == "hr":
            return RULE
        return self.text(node.content)  # anything else (html_block with HTML off never happens): shown as text

    def list_block(self, node: SyntaxTreeNode) -> str:
        ordered = node.type == "ordered_list"
        start = int(str(node.attrs.get("start", 1)))
        tight = all(child.hidden for item in node.children for child in item.children if child.type == "paragraph")
        items = []
        self._depth += 1
        try:
            for index, item in enumerate(node.children):
                marker = self.list_marker(ordered, start + index, self._depth - 1)
                parts = [text for text in (self.block(child) for child in item.children) if text]
                body = ("\n" if tight else "\n\n").join(parts)
                items.append(self.list_item(marker, body))
        finally:
            self._depth -= 1
        return ("\n" if tight else "\n\n").join(items)

    def table(self, node: SyntaxTreeNode) -> Table:
        rows: list[list[str]] = []
        right: list[bool] = []
        header = 0
        for section in node.children:
            for row in section.children:
                cells = []
                for cell in row.children:
                    cells.append(defang(self.plain(cell.children[0] if cell.children else None)))
                    if section.type == "thead":
                        right.append("right" in str(cell.attrs.get("style", "")))
                rows.append(cells)
            if section.type == "thead":
                header = len(rows)
        return Table(rows=rows, header_rows=header, right_aligned=right)

    def nest(self, body: str, prefix: Callable[[str], str]) -> str:
        """Prefix every line of a nested block (a quote's ``>``, a list item's indent)."""
        return "\n".join(prefix(line) for line in body.split("\n"))

    # ----------------------------------------------------------------- inline
    def inline_of(self, node: SyntaxTreeNode) -> str:
        return self.inline(node.children[0].children if node.children else [])

    def inline(self, nodes: list[SyntaxTreeNode], *, in_heading: bool = False) -> str:
        out: list[str] = []
        line_start = True
        for node in nodes:
            kind = node.type
            if kind == "text":
                out.append(self.text(defang(node.content), line_start=line_start))
            elif kind in ("softbreak", "hardbreak"):
                out.append("\n")
                line_start = True
                continue
            elif kind == "code_inline":
                out.append(self.code_span(node.content))
            elif kind in ("strong", "em", "s"):
                inner = self.inline(node.children, in_heading=in_heading)
                out.append(inner if in_heading and kind == "strong" else self.emphasis(kind, inner))
            elif kind in ("link", "image"):
                out.append(self.link_of(node))
            else:
                out.append(self.text(defang(node.content), line_start=line_start))
            line_start = False
        return "".join(out)

    def link_of(self, node: SyntaxTreeNode) -> str:
        url = str(node.attrs.get("href") or node.attrs.get("src") or "")
        if not link_scheme_allowed(url):
            return self.inline(node.children)
        label = self.plain(node) or ("image" if node.type == "image" else "")
        if node.markup == "autolink":
            if is_mention_markup(f"<{label}>"):  # "<!subteam^S1|@team>" parses as an e-mail address
                return self.text(defang(f"<{label}>"))
            return self.autolink(url, label)
        if label_misleads(label, url):
            return self.link(url, shown_target(url), None)
        return self.link(url, label, None if node.type == "image" else node.children)

    def plain(self, node: SyntaxTreeNode | None) -> str:
        """The words of an inline run without any markup (for link labels and table cells)."""
        if node is None:
            return ""
        if node.type in ("text", "code_inline"):
            return node.content
        if node.type in ("softbreak", "hardbreak"):
            return " "
        return "".join(self.plain(child) for child in node.children)

    # ----------------------------------------------------------------- what each syntax spells differently
    @abstractmethod
    def text(self, text: str, *, line_start: bool = False) -> str: ...

    @abstractmethod
    def heading(self, level: int, node: SyntaxTreeNode) -> str: ...

    @abstractmethod
    def code_block(self, code: str) -> str: ...

    @abstractmethod
    def code_span(self, code: str) -> str: ...

    @abstractmethod
    def emphasis(self, kind: str, inner: str) -> str: ...

    @abstractmethod
    def list_marker(self, ordered: bool, number: int, depth: int) -> str: ...

    @abstractmethod
    def list_item(self, marker: str, body: str) -> str: ...

    @abstractmethod
    def link(self, url: str, label: str, children: list[SyntaxTreeNode] | None) -> str: ...

    @abstractmethod
    def autolink(self, url: str, label: str) -> str: ...
