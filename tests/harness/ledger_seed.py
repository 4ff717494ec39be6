"""Ledger rows recorded in the past, for digest tests.

``Ledger.record`` stamps a row with the time it is recorded (the stream id), which is what a week's digest reads.
To put rows into last week, this writes the row exactly as the ledger stores it (``LedgerEntry.to_fields``, same
key) under an explicit stream id. The ``seen`` marker is skipped: the rows are distinct by construction.
"""

from __future__ import annotations

import itertools
from datetime import datetime

import redis.asyncio as aioredis

from bot.ledger import LedgerEntry
from bot.redis.keys import ledger_stream_key

_SEQ = itertools.count(1)


async def record_at(redis: aioredis.Redis, entry: LedgerEntry, at: datetime) -> str:
    """XADD ``entry`` with stream id ``<ms of at>-<n>`` (ids must grow: add rows oldest first)."""
    stream_id = f"{int(at.timestamp() * 1000)}-{next(_SEQ)}"
    fields: dict[str | bytes, str | bytes | int | float] = dict(entry.to_fields())
    await redis.xadd(ledger_stream_key(entry.team_id), fields, id=stream_id)
    return stream_id
