"""Per-method rate limits, the way Slack applies them: a sliding window per method, answered with 429.

Slack's tiers are per method and per workspace (chat.postMessage is additionally about one per second per
channel). Tests configure only what they exercise; methods without a limit are never throttled.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Limit:
    per_second: float | None
    per_minute: float | None
    per_channel: bool
    hits: dict[str, deque[float]] = field(default_factory=dict)


class RateLimiter:
    """Decides whether a call may proceed; when not, how many seconds `Retry-After` should say."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._limits: dict[str, _Limit] = {}
        self._forced: dict[str, list[int]] = {}  # method -> [remaining, retry_after]

    def set_limit(
        self,
        method: str,
        *,
        per_second: float | None = None,
        per_minute: float | None = None,
        per_channel: bool = False,
    ) -> None:
        with self._lock:
            if per_second is None and per_minute is None:
                self._limits.pop(method, None)
            else:
                self._limits[method] = _Limit(per_second, per_minute, per_channel)

    def force(self, method: str, times: int, retry_after: int) -> None:
        with self._lock:
            self._forced[method] = [times, retry_after]

    def check(self, method: str, channel: str | None) -> int | None:
        """Record the call and return None if it may proceed, else the Retry-After seconds."""
        with self._lock:
            forced = self._forced.get(method)
            if forced and forced[0] > 0:
                forced[0] -= 1
                return forced[1]
            limit = self._limits.get(method)
            if limit is None:
                return None
            now = self._clock()
            key = (channel or "") if limit.per_channel else ""
            hits = limit.hits.setdefault(key, deque())
            while hits and now - hits[0] >= 60.0:
                hits.popleft()
            wait = 0.0
            if limit.per_second is not None:
                recent = [t for t in hits if now - t < 1.0]
                if len(recent) >= limit.per_second:
                    wait = max(wait, recent[-int(limit.per_second)] + 1.0 - now)
            if limit.per_minute is not None and len(hits) >= limit.per_minute:
                wait = max(wait, hits[-int(limit.per_minute)] + 60.0 - now)
            if wait > 0:
                return max(1, math.ceil(wait))
            hits.append(now)
            return None
