"""Read a channel's pinned items (``pins.list``) into plain ``PinnedItem`` values, cached per channel.

Pins change rarely and are read on many questions, so one ``pins.list`` per channel per TTL is enough; a
``pin_added``/``pin_removed`` event (or an edit of a pinned message) drops the channel's entry at once. Files are
described by what ``pins.list`` already carries (title, plain-text preview): downloading them would cost a call
and an unbounded read per question. A failure (``missing_scope`` without ``pins:read``, ``not_in_channel``, a rate
limit, a timeout) must never block an answer: it yields no pins, logged at INFO with the error code only, and is
remembered for ``failure_ttl_s`` so a workspace without the scope does not pay a failed call per question.
Concurrent questions in one channel share one ``pins.list`` call: the method is Tier 2 (about 20 a minute).

The cache is per process: another replica notices a pin change when its own entry expires (``ttl_s``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.request import PinChange
from bot.slack.people import PeopleDirectory, mentioned_ids, with_names

log = structlog.get_logger(__name__)

PinKind = Literal["message", "file"]
MAX_NAME_LOOKUPS = 10  # per pins.list read: names make pins readable, but not at the price of many calls


@dataclass(frozen=True)
class PinnedItem:
    """One pinned message or file as Penny uses it.

    ``pin_id`` is stable across edits (message ts or file id); ``version`` changes when the content does (the
    message's ``edited.ts`` or the file's ``updated``), so answers built from an older text can be told apart.
    """

    pin_id: str
    kind: PinKind
    text: str
    version: str = ""
    title: str = ""
    author: str = ""
    message_ts: str = ""  # for message pins: the message a deletion would evict cached answers by

    @property
    def label(self) -> str:
        """How the model (and the reply) may name the pin: its title, or whose message it is."""
        if self.title:
            return self.title
        return f"message by {self.author}" if self.author else "pinned message"


def _file_text(file: dict[str, Any]) -> tuple[str, str]:
    """(title, text) of a file as Slack describes it, without downloading it."""
    title = str(file.get("title") or file.get("name") or "")
    preview = file.get("plain_text") or file.get("preview_plain_text") or file.get("preview") or ""
    return title, str(preview)


def parse_pin(item: dict[str, Any]) -> PinnedItem | None:
    """A ``pins.list`` item (a message, possibly with files, or a file), or None for shapes Penny cannot use."""
    message = item.get("message")
    if isinstance(message, dict) and message.get("ts"):
        parts = [str(message.get("text") or "")]
        titles: list[str] = []
        for file in message.get("files") or []:
            if isinstance(file, dict):
                title, preview = _file_text(file)
                titles.append(title)
                parts.append(f"[file: {title}]\n{preview}".rstrip())
        text = "\n".join(p for p in parts if p.strip())
        if not text.strip():
            return None
        edited = message.get("edited") or {}
        return PinnedItem(
            pin_id=str(message["ts"]),
            kind="message",
            text=text,
            version=str(edited.get("ts") or message["ts"]),
            title=next((t for t in titles if t), ""),
            author=str(message.get("user") or message.get("bot_id") or ""),
            message_ts=str(message["ts"]),
        )
    file = item.get("file")
    if isinstance(file, dict) and file.get("id"):
        title, preview = _file_text(file)
        if not (title or preview):
            return None
        return PinnedItem(
            pin_id=str(file["id"]),
            kind="file",
            text=preview or "(no preview available)",
            version=str(file.get("updated") or file.get("timestamp") or file.get("created") or ""),
            title=title,
            author=str(file.get("user") or ""),
        )
    return None


@dataclass
class _Entry:
    items: list[PinnedItem]
    fetched_at: float
    ttl_s: float


class PinBoard:
    """The pinned items of each channel, read through ``pins.list`` and kept for ``ttl_s`` seconds."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl_s: float = 300.0,
        failure_ttl_s: float = 30.0,
        timeout_s: float = 3.0,
        people: PeopleDirectory | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._failure_ttl_s = min(failure_ttl_s, ttl_s)
        self._timeout_s = timeout_s
        self._clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._reads: dict[tuple[str, str], asyncio.Future[list[PinnedItem]]] = {}
        self._generation: dict[tuple[str, str], int] = {}
        self._people = people or PeopleDirectory(client, timeout_s=timeout_s)

    async def items(self, team_id: str, channel_id: str) -> list[PinnedItem]:
        """The channel's pins, newest pin first; empty when there are none or Slack will not say."""
        key = (team_id, channel_id)
        entry = self._entries.get(key)
        if entry is not None and self._clock() - entry.fetched_at < entry.ttl_s:
            return entry.items
        read = self._reads.get(key)
        if read is None:
            read = asyncio.ensure_future(self._refresh(key, channel_id))
            self._reads[key] = read
        # shield: one waiter giving up (its request cancelled) must not cancel the read the others wait for
        return await asyncio.shield(read)

    async def _refresh(self, key: tuple[str, str], channel_id: str) -> list[PinnedItem]:
        generation = self._generation.get(key, 0)
        try:
            items, ok = await self._read(channel_id)
        finally:
            if self._reads.get(key) is asyncio.current_task():
                del self._reads[key]
        if self._generation.get(key, 0) == generation:  # not invalidated while reading: the result is current
            self._entries[key] = _Entry(items, self._clock(), self._ttl_s if ok else self._failure_ttl_s)
        return items

    def invalidate(self, team_id: str, channel_id: str, message_ts: str | None = None) -> bool:
        """Forget a channel's pins (all changes), or only if ``message_ts`` is one of them (an edit).

        Returns whether anything was dropped, so the caller can log it.
        """
        key = (team_id, channel_id)
        entry = self._entries.get(key)
        reading = key in self._reads
        if entry is None and not reading:
            return False
        if (
            message_ts is not None
            and not reading
            and entry is not None
            and all(item.message_ts != message_ts for item in entry.items)
        ):
            return False
        self._entries.pop(key, None)
        self._generation[key] = self._generation.get(key, 0) + 1
        self._reads.pop(key, None)  # a read already under way may predate the change: the next caller reads again
        return True

    async def on_change(self, change: PinChange) -> None:
        """A pin event or a message edit: drop the channel's cached pins if they may be stale."""
        if self.invalidate(change.team_id, change.channel_id, change.message_ts):
            log.info("pins.invalidated", channel_id=change.channel_id, edit=change.message_ts is not None)

    async def _read(self, channel_id: str) -> tuple[list[PinnedItem], bool]:
        """The pins and whether Slack answered (False: none could be read)."""
        try:
            response = await asyncio.wait_for(self._client.pins_list(channel=channel_id), self._timeout_s)
        except SlackApiError as exc:
            log.info("pins.unavailable", channel_id=channel_id, error=str(exc.response.get("error", "unknown")))
            return [], False
        except TimeoutError:
            # A 429 is waited out by the client's retry handler; the answer must not wait with it.
            log.info("pins.unavailable", channel_id=channel_id, error="timeout")
            return [], False
        except Exception as exc:  # a connection error after the client's retries: pins are optional, answers not
            log.info("pins.unavailable", channel_id=channel_id, error=type(exc).__name__)
            return [], False
        items = [pin for raw in response.get("items") or [] if (pin := parse_pin(raw)) is not None]
        return await self._with_names(items), True

    async def _with_names(self, items: list[PinnedItem]) -> list[PinnedItem]:
        """Authors and mentions as display names: "Dana's policy" beats ``U0123`` for the model and the reply."""
        wanted = {item.author for item in items if item.author.startswith(("U", "W"))}
        wanted |= mentioned_ids(item.text for item in items)
        names = await self._people.names(sorted(wanted), max_lookups=MAX_NAME_LOOKUPS)
        return [
            PinnedItem(
                pin_id=item.pin_id,
                kind=item.kind,
                text=with_names(item.text, names),
                version=item.version,
                title=item.title,
                author=names.get(item.author, item.author),
                message_ts=item.message_ts,
            )
            for item in items
        ]
