"""Ledger rows as CSV or JSON lines, for archiving before retention trims them (``penny ledger export``).

One line per row, oldest first per workspace, with the time Redis recorded it (``recorded_at``, UTC ISO 8601) ahead
of the row's own fields in ``LedgerEntry`` order; money stays the ledger's exact decimal strings.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from typing import TextIO

from bot.ledger import Ledger, LedgerEntry, recorded_at

COLUMNS: tuple[str, ...] = ("recorded_at", *(f.name for f in fields(LedgerEntry)))
FORMATS = ("csv", "jsonl")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """``7d``, ``12h``, ``30m``, ``90s``, ``2w`` → seconds; ValueError for anything else."""
    match = _DURATION.match(text.strip().lower())
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"'{text}' is not a duration like 7d, 12h or 30m")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


async def export_rows(
    ledger: Ledger, teams: Sequence[str], *, start: float, end: float
) -> AsyncIterator[dict[str, str]]:
    """Every row of ``teams`` recorded in ``[start, end)``, as flat string fields."""
    for team_id in teams:
        async for page in ledger.pages_between(team_id, start, end):
            for stream_id, entry in page:
                moment = datetime.fromtimestamp(recorded_at(stream_id), UTC).isoformat(timespec="milliseconds")
                yield {"recorded_at": moment, **entry.to_fields()}


async def write_rows(rows: AsyncIterator[dict[str, str]], out: TextIO, fmt: str) -> int:
    """Write ``rows`` to ``out`` as ``csv`` (with a header) or ``jsonl``; returns how many were written."""
    written = 0
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    async for row in rows:
        if writer is not None:
            writer.writerow(row)
        else:
            out.write(json.dumps(row, separators=(",", ":")) + "\n")
        written += 1
    return written
