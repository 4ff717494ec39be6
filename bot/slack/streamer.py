"""Show one reply while it is generated, whole and within Slack's limits, whatever Slack does meanwhile.

A placeholder is posted before any CPU or model work so the user sees Penny picked the request up — unless the
workspace's minute of ``chat.update`` calls has no room left for its final edit (a burst of answers past Slack's
tier 3; ``open(defer_when_busy=True)``): then the answer is posted whole, as one message, when it is ready, instead
of a placeholder whose answer would wait up to a minute. Deltas are
accumulated and shown by one background task at most once per ``interval_s`` per message; text that outgrows one
message is cut (``formatting/split.py``: never inside a code block, a link or a mention) and continues in a new
threaded message. Each message is shown one of two ways (``delivery/``): Slack's native stream where Slack accepts
it, else ``chat.update`` edits — ``PENNY_STREAM_MODE`` chooses (``auto`` tries native and remembers a refusal).

The guarantees hold in both ways: a progress call that fails is logged and skipped, and the background task never
dies of it; the final text is always attempted, with retries that honour ``Retry-After``, and posted as a new
message when the old one cannot be edited; text a user has seen is never replaced by an error sentence (``fail``
after words were shown keeps them and adds the sentence below). After ``finish`` the reply is never touched again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

import structlog
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import CacheNote
from bot.slack.delivery.calls import SlackCalls
from bot.slack.delivery.edit import EditMessage
from bot.slack.delivery.native import NativeMessage
from bot.slack.delivery.target import Budget, Target
from bot.slack.formatting.split import next_cut
from bot.slack.update_budget import NoBudget, UpdateBudget

log = structlog.get_logger(__name__)

CONTINUED = "…"
Message = EditMessage | NativeMessage


class StreamMode(StrEnum):
    AUTO = "auto"  # native where Slack accepts it; a refusal of the method itself turns it off for a while
    NATIVE = "native"  # native for every reply that can have it, each refusal falling back for that message only
    EDIT = "edit"  # chat.update edits only


@dataclass(frozen=True)
class StreamSettings:
    interval_s: float = 1.0  # shortest time between two changes of one message
    max_chars: int = 3900  # a message longer than this continues in a new one
    mode: StreamMode = StreamMode.AUTO
    first_chunk_chars: int = 40  # an edit-mode reply shows its first words once it has a phrase, not one token
    native_pause_s: float = 600.0  # auto mode: how long a refusal of chat.startStream itself turns native off


class NativeSupport:
    """Auto mode's memory of Slack refusing native streams as such (the method, a scope, the token type).

    Anything else — a rate limit, an outage, one channel that cannot have a stream — only sends that one message to
    edits.
    """

    _REFUSES_NATIVE = frozenset(
        {
            "unknown_method",
            "method_deprecated",
            "deprecated_endpoint",
            "missing_scope",
            "not_allowed_token_type",
            "no_permission",
            "access_denied",
            "enterprise_is_restricted",
            "accesslimited",
            "messages_tab_disabled",
        }
    )

    def __init__(self, mode: StreamMode, pause_s: float, clock: Callable[[], float]) -> None:
        self._mode = mode
        self._pause_s = pause_s
        self._clock = clock
        self._off_until = float("-inf")

    def wanted(self) -> bool:
        if self._mode is StreamMode.EDIT:
            return False
        return self._mode is StreamMode.NATIVE or self._clock() >= self._off_until

    def refused(self, error: str) -> None:
        if self._mode is StreamMode.AUTO and error in self._REFUSES_NATIVE:
            log.warning("delivery.native_off", error=error, pause_s=self._pause_s)
            self._off_until = self._clock() + self._pause_s


class MessageStreamer:
    """Owns the message(s) of one reply: placeholder, progress, final text."""

    def __init__(self, target: Target, settings: StreamSettings, native: NativeSupport) -> None:
        self._target = target
        self._settings = settings
        self._native = native
        self._raw = ""
        self._offset = 0  # characters of _raw closed into earlier messages
        self._reopen = ""  # what the current message's source starts with (a reopened code fence)
        self._messages: list[Message] = []
        self._shown_words = False
        self._dirty = asyncio.Event()
        self._lock = asyncio.Lock()
        self._closing = False
        self._stopping = asyncio.Event()  # set by finish: the flusher's pause between rounds ends at once
        self._finished = False
        self._delivered = False
        self._flusher: asyncio.Task[None] | None = None
        self._held: set[str] = set()

    @property
    def message_ts(self) -> list[str]:
        """Every message of this reply, first one first."""
        return [m.ts for m in self._messages if m.ts]

    @property
    def text(self) -> str:
        return self._raw

    @property
    def delivered(self) -> bool:
        """The final text is visible in Slack (set by ``finish``)."""
        return self._delivered

    async def open(self, placeholder: str, *, reuse_ts: str | None = None, defer_when_busy: bool = False) -> str:
        """Post the placeholder (or adopt the message a crashed worker or a cached answer left), start streaming.

        ``defer_when_busy``: when the workspace has no room left for this reply's final edit, post nothing yet
        (returns "") and show the answer whole when it is ready; for answers that take seconds, not summaries.
        Raises ``SlackApiError`` when no message can be posted at all (not in the channel, archived…).
        """
        message: Message
        if reuse_ts:
            adopted = EditMessage(self._target, ts=reuse_ts)
            await self._hold(adopted)
            await adopted.progress(placeholder, cursor=False)
            message = adopted
        else:
            message = await self._new_message(placeholder, first=True, may_defer=defer_when_busy)
        self._messages.append(message)
        self._flusher = asyncio.create_task(self._flush_forever())
        return message.ts or ""

    def append(self, delta: str) -> None:
        if not self._closing:
            self._raw += delta
            self._dirty.set()

    async def show_status(self, status: str) -> None:
        """Replace the placeholder with a progress line (e.g. "summarizing part 2 of 5…") until text streams.

        Optional like any progress: skipped when text already streams, the budget says no, or the reply streams
        natively (Slack shows its own "writing" state there, and a stream cannot take a line back).
        """
        async with self._lock:
            message = self._messages[-1] if self._messages else None
            if self._raw[self._offset :] or self._closing or not isinstance(message, EditMessage):
                return
            await message.status(f"_{status}_")

    async def finish(self, final_text: str | None = None, *, note: CacheNote | None = None) -> list[str]:
        """Make the message(s) show exactly the final text (``note`` under the last one); never raises."""
        if self._finished:
            log.warning("delivery.finish_after_finish")
            return self.message_ts
        await self._stop_flusher()
        async with self._lock:
            if final_text is not None:
                if not final_text.startswith(self._raw[: self._offset]):
                    log.warning("delivery.final_text_diverged")
                self._raw = final_text
            try:
                self._delivered = await self._sync(final=True, note=note)
            except Exception:
                log.exception("delivery.finish_failed")
                self._delivered = False
            self._finished = True
        await self._release()
        return self.message_ts

    async def fail(self, message: str) -> list[str]:
        """Say why there is no (complete) answer; words already shown stay, with the sentence under them."""
        if self._finished:
            log.info("delivery.fail_after_finish")  # the reply is delivered: work after it never touches it
            return self.message_ts
        shown = self._raw.strip()
        return await self.finish(f"{self._raw.rstrip()}\n\n{message}" if shown else message)

    # ----------------------------------------------------------------- internals
    def _current(self) -> str:
        return self._reopen + self._raw[self._offset :]

    async def _new_message(self, placeholder: str, *, first: bool, may_defer: bool = False) -> Message:
        if self._native.wanted():
            native = NativeMessage(self._target)
            if await native.start():
                await self._hold(native)
                return native
            self._native.refused(native.start_error)
        message = EditMessage(self._target)
        if may_defer and not await self._target.budget.has_room(message.method):
            # Past the workspace's minute of edits, a placeholder's final would wait up to a minute: nothing is
            # posted now, and the final posts the whole answer as one message (chat.postMessage has room).
            log.info("delivery.placeholder_deferred")
            return message
        await self._hold(message)
        result = await message.post(placeholder)
        if not result.ok:
            if first:
                await self._release()
                result.raise_for_failure()
            log.warning("delivery.continuation_not_posted", error=result.error)  # its final will post it
        return message

    async def _hold(self, message: Message) -> None:
        if message.method not in self._held:
            self._held.add(message.method)
            await self._target.budget.hold(message.method, self._target.reply_id)

    async def _release(self) -> None:
        for method in sorted(self._held):
            await self._target.budget.release(method, self._target.reply_id)
        self._held.clear()

    async def _stop_flusher(self) -> None:
        """Let the background task finish what it is doing (an append cut short could not be known), then end."""
        self._closing = True
        self._stopping.set()
        self._dirty.set()
        if self._flusher is not None:
            try:
                await self._flusher
            except Exception:
                log.exception("delivery.flusher_failed")
            self._flusher = None

    async def _flush_forever(self) -> None:
        while not self._closing:
            await self._dirty.wait()
            self._dirty.clear()
            if self._closing:
                return
            try:
                async with self._lock:
                    shown = await self._sync(final=False)
            except Exception:  # a bug here must not end streaming: the final text is still owed
                log.exception("delivery.progress_failed")
                shown = False
            with contextlib.suppress(TimeoutError):  # a round at most every interval; finish need not wait for it
                await asyncio.wait_for(self._stopping.wait(), self._settings.interval_s)
            if not shown:
                self._dirty.set()  # skipped (interval, budget, a failure): try again a turn later with more text

    async def _sync(self, *, final: bool, note: CacheNote | None = None) -> bool:
        """Bring Slack up to date. Final: True when every part is visible. Progress: False when skipped."""
        delivered = True
        while (cut := next_cut(self._current(), self._settings.max_chars)) is not None:
            current = self._current()
            delivered = await self._messages[-1].final(cut.head(current)) and delivered
            self._offset += cut.end - len(self._reopen)
            self._reopen = cut.reopen
            self._shown_words = True
            self._messages.append(await self._new_message(CONTINUED, first=False))
        current = self._current()
        message = self._messages[-1]
        if final:
            return await message.final(current, note) and delivered
        if not current.strip():
            return True
        if isinstance(message, EditMessage):
            if not self._shown_words and len(current) < self._settings.first_chunk_chars:
                return True  # "Point ▍" tells nobody anything; wait for a phrase
            shown = await message.progress(current)
        else:
            shown = await message.progress(current)
        self._shown_words = self._shown_words or shown
        return shown


class Streamers:
    """Makes the ``MessageStreamer`` of each reply, all with the same calls, settings and workspace budget."""

    def __init__(
        self,
        client: AsyncWebClient,
        settings: StreamSettings,
        *,
        budget: UpdateBudget | None = None,
        calls: SlackCalls | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._calls = calls or SlackCalls(client, sleep=sleep)
        self._settings = settings
        self._budget = budget
        self._clock = clock
        self._sleep = sleep
        self._native = NativeSupport(settings.mode, settings.native_pause_s, clock)

    def new(
        self, team_id: str, channel: str, thread_ts: str | None, *, recipient_user_id: str | None = None
    ) -> MessageStreamer:
        budget: Budget = self._budget.for_team(team_id) if self._budget is not None else NoBudget()
        target = Target(
            calls=self._calls,
            budget=budget,
            team_id=team_id,
            channel=channel,
            thread_ts=thread_ts,
            reply_id=uuid.uuid4().hex,
            recipient_user_id=recipient_user_id,
            interval_s=self._settings.interval_s,
            clock=self._clock,
            sleep=self._sleep,
        )
        return MessageStreamer(target, self._settings, self._native)
