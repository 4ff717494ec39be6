"""Show a reply while it is generated, by editing one Slack message — within Slack's rate limits.

A placeholder is posted before any CPU or model work so the user sees Penny picked the request up. Deltas are
accumulated and flushed by one background task at most once per ``interval_s`` per message (Slack allows about one
``chat.update`` per second per message); the final edit also waits its turn, so there is never a burst. Text that
outgrows one message is closed at a paragraph or word boundary and continued in a new threaded message. A 429 is
waited out by slack_sdk's retry handler on the client (``Retry-After``), never dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from slack_sdk.web.async_client import AsyncWebClient

from bot.asyncio_tasks import cancel_and_wait
from bot.slack.mrkdwn import to_slack
from bot.slack.update_budget import UpdateBudget

log = structlog.get_logger(__name__)

CURSOR = " ▍"


def split_point(raw: str, max_chars: int) -> int | None:
    """Where to cut ``raw`` so its rendered head fits in one message; ``None`` if it already fits."""
    if len(to_slack(raw)) <= max_chars:
        return None
    limit = min(len(raw), max_chars)
    while limit > 1 and len(to_slack(raw[:limit])) > max_chars:
        limit = int(limit * 0.9)
    head = raw[:limit]
    for boundary in ("\n\n", "\n", ". ", " "):
        cut = head.rfind(boundary)
        if cut > limit // 2:
            return cut + len(boundary)
    return limit


class EditBudget(Protocol):
    """Workspace-wide edit budget: optional edits ask ``try_take`` (``progress`` when the reply already shows
    words, so they may be refused sooner); edits that must happen ``take`` (may wait)."""

    async def try_take(self, *, progress: bool = False) -> bool: ...

    async def take(self) -> None: ...


class MessageStreamer:
    """Owns the message(s) of one reply: placeholder, throttled edits, final text."""

    def __init__(
        self,
        client: AsyncWebClient,
        channel: str,
        thread_ts: str | None,
        *,
        interval_s: float = 1.0,
        max_chars: int = 3900,
        clock: Callable[[], float] = time.monotonic,
        budget: EditBudget | None = None,
        first_chunk_chars: int = 40,
    ) -> None:
        self._client = client
        self._budget = budget
        self._first_chunk_chars = first_chunk_chars
        self._shown_words = False  # has this message shown any of the reply yet (not only the placeholder)?
        self._channel = channel
        self._thread_ts = thread_ts
        self._interval_s = interval_s
        self._max_chars = max_chars
        self._clock = clock
        self._raw = ""
        self._offset = 0  # characters of _raw already closed into earlier messages
        self._message_ts: list[str] = []
        self._last_edit = float("-inf")
        self._shown = ""
        self._dirty = asyncio.Event()
        self._lock = asyncio.Lock()
        self._flusher: asyncio.Task[None] | None = None
        self._placeholder = ""

    @property
    def message_ts(self) -> list[str]:
        """Every message of this reply, first one first."""
        return list(self._message_ts)

    @property
    def text(self) -> str:
        return self._raw

    async def open(self, placeholder: str, *, reuse_ts: str | None = None) -> str:
        """Post the placeholder (already Slack-safe; or adopt one a crashed worker left behind), start the flusher."""
        self._placeholder = placeholder
        if reuse_ts:
            self._message_ts.append(reuse_ts)
            await self._edit(placeholder, rendered=True)
        else:
            response = await self._client.chat_postMessage(
                channel=self._channel, thread_ts=self._thread_ts, text=placeholder, unfurl_links=False
            )
            self._message_ts.append(str(response["ts"]))
            self._last_edit = self._clock()
        self._flusher = asyncio.create_task(self._flush_forever())
        return self._message_ts[0]

    def append(self, delta: str) -> None:
        self._raw += delta
        self._dirty.set()

    def reset(self) -> None:
        """Forget streamed text (a fallback model starts over); the next flush shows the placeholder again."""
        self._raw = self._raw[: self._offset]
        self._dirty.set()

    async def show_status(self, status: str) -> None:
        """Replace the placeholder with a progress line (e.g. "summarizing part 2 of 5…") until text streams.

        Optional like any streaming edit: skipped when text already streams or the workspace budget says no.
        """
        async with self._lock:
            if self._raw[self._offset :]:
                return
            await self._wait_turn()
            if self._budget is not None and not await self._budget.try_take(progress=True):
                return
            await self._edit(f"_{status}_", rendered=True)

    async def finish(self, final_text: str | None = None, *, blocks: list[dict[str, Any]] | None = None) -> list[str]:
        """Stop streaming and make the message(s) show exactly the final text (``blocks`` on the last one)."""
        await self._stop_flusher()
        if final_text is not None:
            self._raw = self._raw[: self._offset] + final_text if self._offset else final_text
        async with self._lock:
            await self._sync(final=True, blocks=blocks)
        return self.message_ts

    async def fail(self, message: str) -> list[str]:
        """Replace whatever was shown with a clear sentence (already Slack-safe)."""
        await self._stop_flusher()
        async with self._lock:
            await self._wait_turn()
            await self._take_budget()
            await self._edit(message, rendered=True)
        return self.message_ts

    async def _stop_flusher(self) -> None:
        await cancel_and_wait(self._flusher)
        self._flusher = None

    async def _flush_forever(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            async with self._lock:
                shown = await self._sync(final=False)
            if not shown:  # the workspace budget said no: try again a turn later with more text
                await asyncio.sleep(self._interval_s)
                self._dirty.set()

    async def _sync(self, *, final: bool, blocks: list[dict[str, Any]] | None = None) -> bool:
        """Bring Slack up to date; False when an optional streaming edit was skipped for the workspace budget."""
        while (cut := split_point(self._raw[self._offset :], self._max_chars)) is not None:
            head = self._raw[self._offset : self._offset + cut]
            await self._wait_turn()
            await self._take_budget()
            await self._edit(head)
            self._offset += cut
            response = await self._client.chat_postMessage(
                channel=self._channel, thread_ts=self._thread_ts, text="…", unfurl_links=False
            )
            self._message_ts.append(str(response["ts"]))
            self._last_edit = self._clock()
            self._shown = ""
            self._shown_words = True  # the reply is visibly moving; the next message's edits are progress
        tail = self._raw[self._offset :]
        if not final and not self._shown_words and 0 < len(tail) < self._first_chunk_chars:
            return True  # "Point ▍" tells nobody anything; wait for a phrase (the next delta asks again)
        body = to_slack(tail) if tail else self._placeholder
        wanted = body if final else body + CURSOR
        if wanted == self._shown and blocks is None:
            return True
        await self._wait_turn()
        if final:
            await self._take_budget()
        elif self._budget is not None and not await self._budget.try_take(progress=self._shown_words):
            return False
        await self._edit(wanted, rendered=True, blocks=blocks)
        self._shown_words = bool(tail)
        return True

    async def _take_budget(self) -> None:
        if self._budget is not None:
            await self._budget.take()

    async def _wait_turn(self) -> None:
        wait = self._last_edit + self._interval_s - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _edit(self, text: str, *, rendered: bool = False, blocks: list[dict[str, Any]] | None = None) -> None:
        shown = text if rendered else to_slack(text)
        # blocks=[] clears buttons a previous version of the message had (e.g. a cached answer being refreshed).
        await self._client.chat_update(
            channel=self._channel, ts=self._message_ts[-1], text=shown, blocks=blocks if blocks is not None else []
        )
        self._last_edit = self._clock()
        self._shown = shown


@dataclass(frozen=True)
class StreamSettings:
    interval_s: float = 1.0  # shortest time between two edits of one message
    max_chars: int = 3900  # a message longer than this continues in a new one


class Streamers:
    """Makes the ``MessageStreamer`` of each reply, all with the same client, settings and workspace budget."""

    def __init__(
        self,
        client: AsyncWebClient,
        settings: StreamSettings,
        *,
        budget: UpdateBudget | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._settings = settings
        self._budget = budget
        self._clock = clock

    def new(self, team_id: str, channel: str, thread_ts: str | None) -> MessageStreamer:
        return MessageStreamer(
            self._client,
            channel,
            thread_ts,
            interval_s=self._settings.interval_s,
            max_chars=self._settings.max_chars,
            clock=self._clock,
            budget=self._budget.for_team(team_id) if self._budget is not None else None,
        )
