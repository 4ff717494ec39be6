"""Markdown tables, which Slack cannot show, laid out as aligned plain text for a code block.

Column widths count East Asian wide characters as two cells, so a table of Japanese names still lines up in
Slack's monospace font.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Table:
    rows: list[list[str]]
    header_rows: int = 1
    right_aligned: list[bool] = field(default_factory=list)


def width(text: str) -> int:
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, size: int, right: bool) -> str:
    gap = " " * max(0, size - width(text))
    return gap + text if right else text + gap


def layout(table: Table) -> str:
    """Columns padded to their widest cell, `` | `` between them, a rule under the header; ends with a newline."""
    columns = max((len(row) for row in table.rows), default=0)
    if columns == 0:
        return ""
    rows = [[cell.replace("\n", " ").strip() for cell in row] + [""] * (columns - len(row)) for row in table.rows]
    sizes = [max(width(row[i]) for row in rows) for i in range(columns)]
    right = table.right_aligned + [False] * (columns - len(table.right_aligned))
    lines = []
    for index, row in enumerate(rows):
        lines.append(" | ".join(_pad(cell, sizes[i], right[i]) for i, cell in enumerate(row)).rstrip())
        if index == table.header_rows - 1:
            lines.append("-+-".join("-" * size for size in sizes))
    return "\n".join(lines) + "\n"
