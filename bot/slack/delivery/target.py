"""Where one reply goes and what it may spend: the thread, the recipient, the workspace budget, the clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.slack.delivery.calls import SlackCalls


class Budget(Protocol):
    """The workspace's Slack budget (``bot/slack/update_budget.py``'s ``TeamBudget`` or ``NoBudget``)."""

    async def try_take(self, method: str, *, progress: bool = False) -> bool: ...

    async def has_room(self, method: str) -> bool: ...

    async def take(self, method: str) -> bool: ...

    async def hold(self, method: str, reply_id: str) -> None: ...

    async def release(self, method: str, reply_id: str) -> None: ...


@dataclass(frozen=True)
class Target:
    """Everything a message of one reply needs to talk to Slack."""

    calls: SlackCalls
    budget: Budget
    team_id: str
    channel: str
    thread_ts: str | None
    reply_id: str
    recipient_user_id: str | None = None
    interval_s: float = 1.0  # shortest time between two changes of one message
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[object]] = field(default=asyncio.sleep)

    async def wait_turn(self, last_change: float) -> None:
        """Sleep until one message may change again (``interval_s`` after its ``last_change``, on ``clock``)."""
        wait = last_change + self.interval_s - self.clock()
        if wait > 0:
            await self.sleep(wait)
