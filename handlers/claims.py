"""Events that are not requests (reactions, pins, deletions) still hold an event claim: finish it, whatever happens.

The dedup middleware (``bot/app.py``) claims every delivery before a listener runs; a claim left open would make
Slack's retry of the same event look like a crashed worker's and be processed again. Requests hand the claim to
the assistant, which finishes it after the reply; these listeners finish it here once their work is done.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any


async def finishing_claim(context: dict[str, Any], work: Awaitable[object] | None) -> None:
    """Await ``work`` (None: nothing to do for this event), then finish the event's claim, even if it failed."""
    claim = context.get("event_claim")
    try:
        if work is not None:
            await work
    finally:
        if claim is not None:
            await claim.finish()
